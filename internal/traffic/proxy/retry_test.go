package proxy

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// hangingBackend counts the requests it gets and answers none of them until the test
// ends.
func hangingBackend(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	return srv.URL, &hits
}

// TestTimedOutRequestIsNotRetried: a GET the backend does not answer within
// timeouts.response gets 504 after one try; the backend may already be working on it,
// so sending it again would double the load on a slow backend and the client's wait.
// retries.onTimeout turns the retry back on.
func TestTimedOutRequestIsNotRetried(t *testing.T) {
	for _, tc := range []struct {
		name      string
		onTimeout bool
		wantTries int64
	}{
		{"default", false, 1},
		{"onTimeout", true, DefaultRetryAttempts},
	} {
		t.Run(tc.name, func(t *testing.T) {
			back, hits := hangingBackend(t)
			cfg := testConfig([]string{back}, []string{back + "/"})
			cfg.Timeouts.Response = 200 * time.Millisecond
			cfg.Retries.OnTimeout = tc.onTimeout
			p := startProxy(t, cfg)
			status, _, _ := get(t, newClient(), p, "/report")
			if status != http.StatusGatewayTimeout {
				t.Errorf("status %d, want 504", status)
			}
			// The proxy answers only after its last try: the count is final.
			if n := hits.Load(); n != tc.wantTries {
				t.Errorf("the backend got the request %d times, want %d", n, tc.wantTries)
			}
		})
	}
}
