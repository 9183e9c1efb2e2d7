package loadtest

import (
	"context"
	"os"
	"testing"
	"time"

	"ferry.dev/ferry/internal/loadtest/accesslog"
	"ferry.dev/ferry/internal/routes"
)

// logCounts reads a fixture log and counts its read-only requests by URI and by
// endpoint template, as a replay should reproduce them.
func logCounts(t *testing.T, path string) (uris, endpoints map[string]int, writes int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	log, err := accesslog.Read(f, accesslog.Auto)
	if err != nil {
		t.Fatal(err)
	}
	uris, endpoints = map[string]int{}, map[string]int{}
	for _, e := range log.Entries {
		if !isReadOnly(e.Method) {
			writes++
			continue
		}
		uris[e.URI]++
		endpoints[routes.Endpoint(e.Method, e.URI)]++
	}
	return uris, endpoints, writes
}

func TestReplayKeepsThePathDistribution(t *testing.T) {
	for _, tc := range []struct {
		name string
		log  string
		cfg  Config
	}{
		{"nginx at a constant rate", "accesslog/testdata/shop-nginx.log", Config{Rate: 200}},
		{"alb at the log's timing sped up", "accesslog/testdata/shop-alb.log", Config{Speed: 25}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantURIs, wantEndpoints, writes := logCounts(t, tc.log)
			legacy, kube := newLatencyServer(t, 0, 0), newLatencyServer(t, 0, 0)
			cfg := tc.cfg
			cfg.Legacy, cfg.Kubernetes, cfg.LogPath = legacy.URL, kube.URL, tc.log
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			r, err := Run(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if r.Mix.SkippedWrites != writes || writes == 0 {
				t.Errorf("report skipped %d writes, log has %d", r.Mix.SkippedWrites, writes)
			}
			for _, srv := range []*latencyServer{legacy, kube} {
				uris, methods := srv.snapshot()
				if len(uris) != len(wantURIs) {
					t.Errorf("server saw %d distinct URIs, log has %d", len(uris), len(wantURIs))
				}
				for uri, n := range wantURIs {
					if uris[uri] != n {
						t.Errorf("server saw %s %d times, log has it %d times", uri, uris[uri], n)
					}
				}
				for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
					if methods[m] != 0 {
						t.Errorf("server received %d %s requests; writes must be skipped by default", methods[m], m)
					}
				}
			}
			got := map[string]int{}
			for _, row := range r.Endpoints {
				got[row.Endpoint] = int(row.Legacy.Count)
				if row.Legacy.Count != row.Kubernetes.Count {
					t.Errorf("%s: legacy %d, kubernetes %d requests; the mix must be the same", row.Endpoint, row.Legacy.Count, row.Kubernetes.Count)
				}
			}
			for ep, n := range wantEndpoints {
				if got[ep] != n {
					t.Errorf("report has %s %d times, log %d times", ep, got[ep], n)
				}
			}
		})
	}
}

func TestReplayWithAllowWritesSendsThem(t *testing.T) {
	legacy, kube := newLatencyServer(t, 0, 0), newLatencyServer(t, 0, 0)
	_, _, writes := logCounts(t, "accesslog/testdata/shop-nginx.log")
	r, err := Run(context.Background(), Config{Legacy: legacy.URL, Kubernetes: kube.URL, Rate: 400,
		LogPath: "accesslog/testdata/shop-nginx.log", AllowWrites: true})
	if err != nil {
		t.Fatal(err)
	}
	_, methods := legacy.snapshot()
	if sent := methods["POST"] + methods["PUT"] + methods["DELETE"]; sent != writes || r.Mix.SkippedWrites != 0 {
		t.Errorf("sent %d writes (skipped %d), want all %d", sent, r.Mix.SkippedWrites, writes)
	}
}
