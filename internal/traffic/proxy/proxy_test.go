package proxy

import (
	"testing"
)

func TestForwardsToBothSides(t *testing.T) {
	l1, k1 := startBackend(t, "legacy-1"), startBackend(t, "k8s-1")
	cfg := testConfig(urls(l1), urls(k1))
	p := startProxy(t, cfg)
	c := newClient()
	for _, tc := range []struct {
		k8sBP int
		want  string
	}{{0, "legacy-1"}, {10000, "k8s-1"}} {
		mustWeights(t, p, tc.k8sBP)
		for i := 0; i < 20; i++ {
			code, from, body := get(t, c, p, "/")
			if code != 200 || from != tc.want || body != tc.want {
				t.Fatalf("weights %d bp: got %d from %q body %q, want 200 from %s", tc.k8sBP, code, from, body, tc.want)
			}
		}
	}
}
