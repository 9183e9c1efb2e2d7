package loadtest

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// sideRun is one side's attack.
type sideRun struct {
	name, base string
	rec        *recorder
}

// attack sends the schedule's requests to one side until the schedule ends or stop
// is done; requests still in flight when hard is done are cut off and counted as
// aborted. It returns when every result is recorded.
func attack(stop, hard context.Context, cfg Config, s *sideRun, m requestMix, sched schedule) {
	client := newClient(cfg, hard)
	defer client.CloseIdleConnections()
	atk := vegeta.NewAttacker(
		vegeta.Client(client),
		vegeta.Workers(uint64(min(cfg.MaxInFlight, 10))),
		vegeta.MaxWorkers(uint64(cfg.MaxInFlight)),
		vegeta.MaxBody(0),
	)
	start := time.Now()
	results := atk.Attack(targeter(cfg, s.base, m), pacer{sched}, 0, s.name)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-stop.Done():
			atk.Stop()
		case <-done:
		}
	}()
	for res := range results {
		due, _ := sched.at(res.Seq)
		sent := res.Timestamp.Sub(start)
		if res.Error != "" && hard.Err() != nil {
			s.rec.abort()
			continue
		}
		s.rec.add(sample{
			endpoint: endpointOf(res),
			due:      due,
			sent:     sent,
			// The response ended at Timestamp+Latency; never count it as faster
			// than vegeta measured it.
			done:   max(sent+res.Latency, due+res.Latency),
			code:   int(res.Code),
			failed: res.Code == 0,
		})
	}
}

// targeter hands out the mix's requests in order, looping when the schedule goes on.
func targeter(cfg Config, base string, m requestMix) vegeta.Targeter {
	base = strings.TrimSuffix(base, "/")
	var next atomic.Uint64
	return func(t *vegeta.Target) error {
		r := m.requests[(next.Add(1)-1)%uint64(len(m.requests))]
		t.Method, t.URL, t.Header, t.Body = r.method, base+r.uri, cfg.Header, nil
		return nil
	}
}

// endpointOf finds a result's endpoint from its method and URL.
func endpointOf(res *vegeta.Result) string {
	if i := strings.Index(res.URL, "://"); i >= 0 {
		rest := res.URL[i+3:]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			return newRequest(res.Method, rest[j:]).endpoint
		}
	}
	return newRequest(res.Method, "/").endpoint
}

// newClient returns an HTTP client for one side: enough idle connections for the
// rate (Go's default of 2 per host would turn the test into a connection-setup
// test), no redirects followed (both sides must answer alike), and every request
// cancelled once hard is done.
func newClient(cfg Config, hard context.Context) *http.Client {
	dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         dialer.DialContext,
		TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        cfg.MaxInFlight,
		MaxIdleConnsPerHost: cfg.MaxInFlight,
		IdleConnTimeout:     90 * time.Second,
	}
	return &http.Client{
		Timeout:       cfg.Timeout,
		Transport:     &cancelTransport{next: tr, hard: hard},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

var _ http.RoundTripper = (*cancelTransport)(nil)

// cancelTransport cancels requests in flight when hard is done.
type cancelTransport struct {
	next *http.Transport
	hard context.Context
}

// RoundTrip sends the request with a context that hard's end cancels, until the
// response body is closed.
func (t *cancelTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	stop := context.AfterFunc(t.hard, cancel)
	release := func() { stop(); cancel() }
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		release()
		return nil, err
	}
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}

// CloseIdleConnections lets http.Client close the transport's idle connections.
func (t *cancelTransport) CloseIdleConnections() { t.next.CloseIdleConnections() }

type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}
