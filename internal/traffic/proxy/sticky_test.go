package proxy

import (
	"net/http"
	"net/http/cookiejar"
	"testing"
)

// TestStickySessions: a client with a cookie jar stays on the side it was first sent
// to while the weights move; when its side's weight drops to zero it moves (or, with
// onZeroWeight: keep, stays).
func TestStickySessions(t *testing.T) {
	l1, l2, k1 := startBackend(t, "legacy-1"), startBackend(t, "legacy-2"), startBackend(t, "k8s-1")
	for _, tc := range []struct {
		name       string
		onZero     string
		wantAfter0 string // side of a kubernetes-stuck client once kubernetes has weight 0
	}{
		{"move", OnZeroWeightMove, "legacy"},
		{"keep", OnZeroWeightKeep, "kubernetes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(urls(l1, l2), urls(k1))
			cfg.Sticky.OnZeroWeight = tc.onZero
			cfg.Weights = WeightsConfig{Kubernetes: PercentOf(5000)}
			p := startProxy(t, cfg)
			// Forty clients, each with its own jar, make their first request at 50 %.
			clients := make([]*http.Client, 40)
			first := make([]string, len(clients))
			for i := range clients {
				jar, _ := cookiejar.New(nil)
				clients[i] = newClient()
				clients[i].Jar = jar
				_, from, _ := get(t, clients[i], p, "/")
				first[i] = sideOf(from).String()
			}
			if !contains(first, "legacy") || !contains(first, "kubernetes") {
				t.Fatalf("at 50 %% forty clients all went to one side: %v", first)
			}
			// Whatever the weights (above zero), every client stays where it was.
			for _, bp := range []int{1, 9999, 5000} {
				mustWeights(t, p, bp)
				for i, c := range clients {
					for j := 0; j < 5; j++ {
						if _, from, _ := get(t, c, p, "/"); sideOf(from).String() != first[i] {
							t.Fatalf("at %d bp client %d moved from %s to %s", bp, i, first[i], from)
						}
					}
				}
			}
			// Kubernetes drops to zero.
			mustWeights(t, p, 0)
			for i, c := range clients {
				want := first[i]
				if want == "kubernetes" {
					want = tc.wantAfter0
				}
				for j := 0; j < 3; j++ {
					if _, from, _ := get(t, c, p, "/"); sideOf(from).String() != want {
						t.Fatalf("at 0 bp client %d first on %s is on %s, want %s", i, first[i], from, want)
					}
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestForcedSide: the force header and cookie pick a side whatever the weights and
// the sticky cookie say, and set no sticky cookie.
func TestForcedSide(t *testing.T) {
	l1, k1 := startBackend(t, "legacy-1"), startBackend(t, "k8s-1")
	cfg := testConfig(urls(l1), urls(k1))
	cfg.Force.Enabled = true
	p := startProxy(t, cfg)
	c := newClient()
	for _, tc := range []struct {
		name    string
		k8sBP   int
		headers []string
		want    string
	}{
		{"header forces kubernetes at 0 %", 0, []string{"X-Ferry-Side", "kubernetes"}, "k8s-1"},
		{"header forces legacy at 100 %", 10000, []string{"X-Ferry-Side", "legacy"}, "legacy-1"},
		{"cookie forces kubernetes", 0, []string{"Cookie", "ferry_force_side=kubernetes"}, "k8s-1"},
		{"force beats sticky cookie", 5000, []string{"Cookie", "ferry_side=legacy; ferry_force_side=k8s"}, "k8s-1"},
		{"unknown value is ignored", 0, []string{"X-Ferry-Side", "cloud"}, "legacy-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustWeights(t, p, tc.k8sBP)
			for i := 0; i < 10; i++ {
				req, _ := http.NewRequest(http.MethodGet, "http://"+p.Addr()+"/", nil)
				req.Header.Set(tc.headers[0], tc.headers[1])
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				drain(resp)
				if from := resp.Header.Get("X-Backend"); from != tc.want {
					t.Fatalf("request %d went to %s, want %s", i, from, tc.want)
				}
				forced := tc.name != "unknown value is ignored"
				if forced && len(resp.Cookies()) != 0 {
					t.Errorf("forced request got cookies %v", resp.Cookies())
				}
			}
		})
	}
}
