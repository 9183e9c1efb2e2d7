package loadtest

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// sideRun is one side's attack.
type sideRun struct {
	name, base string
	rec        *recorder
}

// Client settings. Response heads up to maxResponseHead are read (legacy apps send
// large Set-Cookie headers); bodies up to bufferedBody are read in one go and longer
// ones are streamed and discarded, so a side with big pages does not make each
// connection hold a big buffer.
const (
	maxResponseHead = 64 << 10
	bufferedBody    = 64 << 10
	userAgent       = "ferry-loadtest"
)

// errStopped is a dial refused because the run's hard stop has come.
var errStopped = errors.New("load test stopped")

// attack sends the schedule's requests to one side until the schedule ends or stop
// is done; requests still in flight when hard is done are cut off and counted as
// aborted. It returns when every result is recorded.
//
// It is an open model: one goroutine waits until each request is due and hands it
// to an idle worker, starting a new one when none is idle, up to cfg.MaxInFlight;
// past that, sends start late and the lag shows in the report. Each worker sends
// its request, reads the response and records it.
func attack(stop, hard context.Context, cfg Config, s *sideRun, m requestMix, sched schedule) {
	c := newSideClient(cfg, s.base)
	defer c.close()
	closeOnHard := context.AfterFunc(hard, c.conns.closeAll)
	defer closeOnHard()

	start := time.Now()
	ticks := make(chan uint64)
	var wg sync.WaitGroup
	workers := 0
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
dispatch:
	for n := uint64(0); ; n++ {
		due, ok := sched.at(n)
		if !ok {
			break
		}
		if wait := due - time.Since(start); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-stop.Done():
				break dispatch
			}
		}
		if stop.Err() != nil {
			break
		}
		select {
		case ticks <- n:
			continue
		default:
		}
		if workers < cfg.MaxInFlight {
			workers++
			wg.Add(1)
			go func() {
				defer wg.Done()
				w := c.newWorker()
				defer w.release()
				for n := range ticks {
					w.hit(start, hard, s.rec, m, sched, n)
				}
			}()
		}
		select {
		case ticks <- n:
		case <-stop.Done():
			break dispatch
		}
	}
	close(ticks)
	wg.Wait()
}

// sideClient holds one side's connections.
type sideClient struct {
	hc      *fasthttp.HostClient
	fresh   *fasthttp.HostClient // the retries: each on a connection of its own, closed after it
	base    string
	headers [][2]string // every request's headers but Host, in order
	host    string
	timeout time.Duration
	conns   *connSet
}

// newSideClient returns a client for one side: connections straight to it (never
// through HTTP_PROXY: a load test through a proxy measures the proxy), as many as
// requests in flight, kept alive (a new connection a request would turn the test into a
// connection-setup test), no redirects followed (both sides must answer alike), the
// path sent as written (the log's paths, not a normalised form). A request whose
// connection turns out to be one the server had closed is sent once more (see send).
func newSideClient(cfg Config, base string) *sideClient {
	u, _ := url.Parse(base) // validated before the run
	isTLS := u.Scheme == "https"
	addr := u.Host
	if u.Port() == "" {
		if isTLS {
			addr = net.JoinHostPort(u.Hostname(), "443")
		} else {
			addr = net.JoinHostPort(u.Hostname(), "80")
		}
	}
	conns := &connSet{open: map[*trackedConn]struct{}{}}
	dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}
	hostClient := func() *fasthttp.HostClient {
		hc := &fasthttp.HostClient{
			Addr:                      addr,
			IsTLS:                     isTLS,
			Dial:                      conns.dial(func(a string) (net.Conn, error) { return dialer.Dial("tcp", a) }),
			MaxConns:                  cfg.MaxInFlight,
			MaxConnWaitTimeout:        cfg.Timeout,
			MaxIdleConnDuration:       90 * time.Second,
			MaxIdemponentCallAttempts: 1, // send retries, on a new connection
			NoDefaultUserAgentHeader:  true,
			DisablePathNormalizing:    true,
			StreamResponseBody:        true,
			MaxResponseBodySize:       bufferedBody,
			ReadBufferSize:            maxResponseHead,
			ConnPoolStrategy:          fasthttp.LIFO,
			SecureErrorLogMessage:     true,
		}
		if isTLS {
			hc.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: u.Hostname()}
		}
		return hc
	}
	c := &sideClient{hc: hostClient(), fresh: hostClient(), base: strings.TrimSuffix(base, "/"), host: cfg.Header.Get("Host"), timeout: cfg.Timeout, conns: conns}
	c.headers = requestHeaders(cfg.Header)
	return c
}

// requestHeaders lists the headers every request carries, once for the run: what a
// browser sends (the server's compression counts in its latency) unless the run's
// headers set it, then the run's headers but Host, which the request sets apart.
func requestHeaders(h http.Header) [][2]string {
	var out [][2]string
	for _, d := range [][2]string{{fasthttp.HeaderUserAgent, userAgent}, {fasthttp.HeaderAcceptEncoding, "gzip"}} {
		if h.Get(d[0]) == "" {
			out = append(out, d)
		}
	}
	for k, vs := range h {
		if http.CanonicalHeaderKey(k) == "Host" {
			continue
		}
		for _, v := range vs {
			out = append(out, [2]string{k, v})
		}
	}
	return out
}

// stale reports whether a request failed because its kept-alive connection was one
// the server had closed (end of file, reset, broken pipe): a server may close an idle
// connection at any moment, and browsers send the request again. A timeout, or any
// other error, is the side's answer.
func stale(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, fasthttp.ErrConnectionClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func (c *sideClient) close() {
	c.hc.CloseIdleConnections()
	c.fresh.CloseIdleConnections()
}

// worker sends one request at a time, reusing its request and response.
type worker struct {
	c    *sideClient
	req  *fasthttp.Request
	resp *fasthttp.Response
	uri  []byte
}

func (c *sideClient) newWorker() *worker {
	return &worker{c: c, req: fasthttp.AcquireRequest(), resp: fasthttp.AcquireResponse()}
}

func (w *worker) release() {
	fasthttp.ReleaseRequest(w.req)
	fasthttp.ReleaseResponse(w.resp)
}

// hit sends the schedule's n-th request and records it.
func (w *worker) hit(start time.Time, hard context.Context, rec *recorder, m requestMix, sched schedule, n uint64) {
	due, _ := sched.at(n)
	r := m.requests[n%uint64(len(m.requests))]
	w.prepare(r)
	sent := time.Since(start)
	code, err := w.send()
	took := time.Since(start) - sent
	if err != nil && hard.Err() != nil {
		rec.abort()
		return
	}
	rec.add(sample{
		endpoint: r.endpoint,
		due:      due,
		sent:     sent,
		// Latency counts from the due time; a send that started early (it cannot,
		// but clocks are clocks) counts from the send.
		done:   max(sent, due) + took,
		code:   code,
		failed: code == 0,
	})
}

// prepare sets the worker's request to r, with the run's headers.
func (w *worker) prepare(r request) {
	req := w.req
	req.Reset()
	w.uri = append(append(w.uri[:0], w.c.base...), r.uri...)
	req.SetRequestURIBytes(w.uri)
	req.Header.SetMethod(r.method)
	for _, h := range w.c.headers {
		req.Header.Add(h[0], h[1])
	}
	if w.c.host != "" {
		req.UseHostHeader = true
		req.Header.SetHost(w.c.host)
	}
}

// send sends the prepared request and reads the whole response; the code is 0 when
// either failed.
func (w *worker) send() (int, error) {
	resp := w.resp
	resp.Reset()
	deadline := time.Now().Add(w.c.timeout)
	err := w.c.hc.DoDeadline(w.req, resp, deadline)
	if err != nil && stale(err) && isReadOnly(string(w.req.Header.Method())) {
		// Once more, within the same timeout, on a new connection that closes after
		// it: another pooled one may be as stale (under load, one that another
		// request was just done with). A write is never sent twice: the side may
		// have carried it out.
		resp.Reset()
		w.req.SetConnectionClose()
		err = w.c.fresh.DoDeadline(w.req, resp, deadline)
	}
	if err != nil {
		return 0, err
	}
	if resp.IsBodyStream() {
		_, err := io.Copy(io.Discard, resp.BodyStream())
		if cerr := resp.CloseBodyStream(); err == nil {
			err = cerr
		}
		if err != nil {
			return 0, err
		}
	}
	return resp.StatusCode(), nil
}

// connSet tracks a side's open connections so that the hard stop can cut off the
// requests in flight on them.
type connSet struct {
	mu      sync.Mutex
	open    map[*trackedConn]struct{}
	stopped bool
}

func (s *connSet) dial(next fasthttp.DialFunc) fasthttp.DialFunc {
	return func(addr string) (net.Conn, error) {
		conn, err := next(addr)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.stopped {
			conn.Close()
			return nil, errStopped
		}
		tc := &trackedConn{Conn: conn, set: s}
		s.open[tc] = struct{}{}
		return tc, nil
	}
}

// closeAll closes every open connection and refuses new ones.
func (s *connSet) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	for c := range s.open {
		_ = c.Conn.Close()
	}
	clear(s.open)
}

type trackedConn struct {
	net.Conn
	set  *connSet
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.set.mu.Lock()
		delete(c.set.open, c)
		c.set.mu.Unlock()
	})
	return c.Conn.Close()
}
