package proxy

import (
	"net/http"
	"testing"
	"time"
)

// TestForcingIsOptIn: without force.enabled the force header and cookie do nothing;
// with it, a secret (when set) must follow the side, the client must be in one of
// force.networks (when set), and the header does not reach the backend.
func TestForcingIsOptIn(t *testing.T) {
	l1, k1 := startBackend(t, "legacy-1"), startBackend(t, "k8s-1")
	const secret = "0123456789abcdef-tester"
	for _, tc := range []struct {
		name    string
		force   ForceConfig
		trust   bool
		headers []string
		want    string
	}{
		{"off by default: header", ForceConfig{}, false, []string{"X-Ferry-Side", "kubernetes"}, "legacy-1"},
		{"off by default: cookie", ForceConfig{}, false, []string{"Cookie", "ferry_force_side=kubernetes"}, "legacy-1"},
		{"enabled: header", ForceConfig{Enabled: true}, false, []string{"X-Ferry-Side", "kubernetes"}, "k8s-1"},
		{"enabled: cookie", ForceConfig{Enabled: true}, false, []string{"Cookie", "ferry_force_side=kubernetes"}, "k8s-1"},
		{"secret missing", ForceConfig{Enabled: true, Secret: secret}, false, []string{"X-Ferry-Side", "kubernetes"}, "legacy-1"},
		{"secret wrong", ForceConfig{Enabled: true, Secret: secret}, false, []string{"X-Ferry-Side", "kubernetes:" + secret[1:]}, "legacy-1"},
		{"secret right: header", ForceConfig{Enabled: true, Secret: secret}, false, []string{"X-Ferry-Side", "kubernetes:" + secret}, "k8s-1"},
		{"secret right: cookie", ForceConfig{Enabled: true, Secret: secret}, false, []string{"Cookie", "ferry_force_side=k8s:" + secret}, "k8s-1"},
		{"client outside the networks", ForceConfig{Enabled: true, Networks: []string{"192.0.2.0/24"}}, false, []string{"X-Ferry-Side", "kubernetes"}, "legacy-1"},
		{"client inside the networks", ForceConfig{Enabled: true, Networks: []string{"192.0.2.0/24", "127.0.0.0/8"}}, false, []string{"X-Ferry-Side", "kubernetes"}, "k8s-1"},
		{"a spoofed X-Forwarded-For does not count untrusted", ForceConfig{Enabled: true, Networks: []string{"192.0.2.0/24"}}, false,
			[]string{"X-Ferry-Side", "kubernetes", "X-Forwarded-For", "192.0.2.7"}, "legacy-1"},
		{"behind a trusted balancer its last X-Forwarded-For entry counts", ForceConfig{Enabled: true, Networks: []string{"192.0.2.0/24"}}, true,
			[]string{"X-Ferry-Side", "kubernetes", "X-Forwarded-For", "198.51.100.1, 192.0.2.7"}, "k8s-1"},
		{"networks and secret both needed", ForceConfig{Enabled: true, Secret: secret, Networks: []string{"127.0.0.0/8"}}, false, []string{"X-Ferry-Side", "kubernetes"}, "legacy-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(urls(l1), urls(k1))
			cfg.Force = tc.force
			cfg.Forwarded.TrustIncoming = tc.trust
			p := startProxy(t, cfg)
			mustWeights(t, p, 0)
			req, _ := http.NewRequest(http.MethodGet, "http://"+p.Addr()+"/echo", nil)
			for i := 0; i+1 < len(tc.headers); i += 2 {
				req.Header.Set(tc.headers[i], tc.headers[i+1])
			}
			resp, err := newClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer drain(resp)
			if from := resp.Header.Get("X-Backend"); from != tc.want {
				t.Fatalf("went to %s, want %s", from, tc.want)
			}
		})
	}
	t.Run("the force header stays with the proxy", func(t *testing.T) {
		cfg := testConfig(urls(l1), urls(k1))
		cfg.Force = ForceConfig{Enabled: true, Secret: secret}
		p := startProxy(t, cfg)
		e := getEcho(t, p, "/echo", map[string]string{"X-Ferry-Side": "kubernetes:" + secret})
		if e.Backend != "k8s-1" || e.Header.Get("X-Ferry-Side") != "" {
			t.Errorf("backend %s saw X-Ferry-Side %q", e.Backend, e.Header.Get("X-Ferry-Side"))
		}
	})
}

// TestForcedRequestsStayOutOfTheGates: forced requests (a tester's, or anyone's who
// may force) are counted apart, so they can neither fail a migration step nor hide a
// regression; unforced ones are counted as before.
func TestForcedRequestsStayOutOfTheGates(t *testing.T) {
	l1, k1 := startBackend(t, "legacy-1"), startBackend(t, "k8s-1")
	k1.status.Store(http.StatusInternalServerError)
	cfg := testConfig(urls(l1), urls(k1))
	cfg.Force.Enabled = true
	p := startProxy(t, cfg)
	mustWeights(t, p, 0)
	c := newClient()
	for i := 0; i < 4; i++ {
		get(t, c, p, "/", "X-Ferry-Side", "kubernetes")
	}
	for i := 0; i < 3; i++ {
		get(t, c, p, "/")
	}
	snap := p.Stats(time.Hour)
	if k := snap.Kubernetes; k.Requests != 0 || k.Status.ServerError != 0 || k.Forced.Requests != 4 || k.Forced.Status.ServerError != 4 {
		t.Errorf("kubernetes: %d requests, %d 5xx, forced %+v; want 0, 0 and 4 forced 5xx", k.Requests, k.Status.ServerError, k.Forced)
	}
	if l := snap.Legacy; l.Requests != 3 || l.Forced.Requests != 0 {
		t.Errorf("legacy: %d requests, %d forced; want 3 and 0", l.Requests, l.Forced.Requests)
	}
	var fromAPI Snapshot
	fromAPI, err := admin(p).Stats(t.Context(), time.Hour)
	if err != nil || fromAPI.Kubernetes.Forced.Requests != 4 || fromAPI.Kubernetes.Requests != 0 {
		t.Errorf("stats API: kubernetes %+v, %v", fromAPI.Kubernetes, err)
	}
}
