package proxy

import (
	"errors"
	"math/rand/v2"
	"os"
	"time"

	"github.com/valyala/fasthttp"

	"ferry.dev/ferry/internal/traffic"
)

// handle serves one request: decide the side, pick a server, forward, record.
func (p *Proxy) handle(ctx *fasthttp.RequestCtx) {
	rt := p.rt.Load()
	start := ctx.Time() // fasthttp's clock reading just before calling the handler
	c, forced := p.decide(ctx, rt)
	srv, failover := rt.server(c.side, forced, start)
	if failover {
		p.metrics.failover[c.side].Inc()
	}
	if ctx.Request.Header.ConnectionUpgrade() && len(ctx.Request.Header.Peek("Upgrade")) > 0 {
		p.tunnel(ctx, rt, srv, start)
		return
	}
	prepareRequest(ctx, rt.pools[srv.side], rt.cfg.Forwarded.TrustIncoming, false)
	srv, blame, err := p.forward(ctx, rt, srv, start)
	if blame != clientOK {
		p.clientFailed(ctx, srv, blame, err, start)
		return
	}
	status := ctx.Response.StatusCode()
	if err != nil {
		status = errorResponse(ctx, err)
	} else {
		removeHopByHop(&ctx.Response.Header, false)
		ctx.Response.Header.ResetConnectionClose()
	}
	if c.setCookie {
		ctx.Response.Header.Add("Set-Cookie", rt.setCookie[c.side])
	}
	end := time.Now()
	p.record(srv, status, err != nil, end.Sub(start), end)
	if p.access != nil {
		p.access.log(ctx, logEntry{srv: srv, status: status, err: err, d: end.Sub(start), start: start})
	}
}

// clientFailed answers a client that broke its request and closes its connection.
// The backend is not to blame: the request counts neither against the server's
// health nor in the statistics the migration gates read, only as a client failure.
func (p *Proxy) clientFailed(ctx *fasthttp.RequestCtx, srv *server, f clientFailure, err error, start time.Time) {
	ctx.Response.Reset()
	ctx.Response.SetStatusCode(f.status())
	ctx.Response.Header.SetContentType("text/plain; charset=utf-8")
	ctx.Response.SetBodyString(fasthttp.StatusMessage(f.status()) + "\n")
	ctx.SetConnectionClose()
	end := time.Now()
	p.stats.recordClientFailure(srv.side, end)
	p.metrics.clientFailures[srv.side][f].Inc()
	if p.access != nil {
		p.access.log(ctx, logEntry{srv: srv, status: f.logStatus(), err: err, clientFailure: f, d: end.Sub(start), start: start})
	}
}

// decide reads the force header and cookies and applies the decision function.
func (p *Proxy) decide(ctx *fasthttp.RequestCtx, rt *generation) (choice, bool) {
	var forced, stuck hint
	h := &ctx.Request.Header
	if !rt.cfg.Force.Disabled {
		if forced = parseHint(h.Peek(rt.cfg.Force.Header)); !forced.ok {
			forced = parseHint(h.Cookie(rt.cfg.Force.Cookie))
		}
	}
	if rt.policy.sticky && !forced.ok {
		stuck = parseHint(h.Cookie(rt.cfg.Sticky.Cookie))
	}
	return decide(p.current(), forced, stuck, rt.policy, rand.IntN(traffic.Total)), forced.ok
}

// prepareRequest turns the client's request into the backend's.
func prepareRequest(ctx *fasthttp.RequestCtx, pl *pool, trust, upgrade bool) {
	h := &ctx.Request.Header
	removeHopByHop(h, upgrade)
	setForwarded(h, ctx.RemoteAddr(), trust)
	if len(pl.hostHeader) > 0 {
		h.SetHostBytes(pl.hostHeader)
		ctx.Request.UseHostHeader = true
	}
}

// forward sends the request to srv and, for an idempotent request whose body can be
// sent again, retries on the side's next available server while no response has
// arrived. It returns the server that answered last and, when the request failed
// through the client's fault, how; such a failure is not held against the server.
func (p *Proxy) forward(ctx *fasthttp.RequestCtx, rt *generation, srv *server, now time.Time) (*server, clientFailure, error) {
	attempts := 1
	if methodIsIdempotent(string(ctx.Method())) && !ctx.Request.IsBodyStream() {
		attempts = rt.retries
	}
	req := &ctx.Request
	var up *upload
	if req.IsBodyStream() {
		up = p.acquireUpload(ctx)
		defer p.releaseUpload(up)
		req = &up.req
	}
	pl := rt.pools[srv.side]
	for i := 1; ; i++ {
		err := srv.client.Do(req, &ctx.Response)
		if err != nil && up != nil {
			if blame := up.body.failure(); blame != clientOK {
				return srv, blame, err
			}
		}
		status := ctx.Response.StatusCode()
		// A full connection pool says the proxy is busy, not that the server is sick.
		transportErr := err != nil && !errors.Is(err, fasthttp.ErrNoFreeConns)
		if srv.observe(isFailure(status, transportErr), pl.cfg.Ejection, now) {
			p.ejected(srv)
		}
		if err == nil || i >= attempts {
			return srv, clientOK, err
		}
		p.metrics.retries[srv.side].Inc()
		if next := pl.pick(now); next != nil {
			srv = next
		}
	}
}

// errorResponse answers for a backend that did not: 504 after a timeout, 503 when the
// server's connection limit is reached, 502 otherwise.
func errorResponse(ctx *fasthttp.RequestCtx, err error) int {
	status := fasthttp.StatusBadGateway
	switch {
	case errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, os.ErrDeadlineExceeded):
		status = fasthttp.StatusGatewayTimeout
	case errors.Is(err, fasthttp.ErrNoFreeConns):
		status = fasthttp.StatusServiceUnavailable
	}
	ctx.Response.Reset()
	ctx.Response.SetStatusCode(status)
	ctx.Response.Header.SetContentType("text/plain; charset=utf-8")
	ctx.Response.SetBodyString(fasthttp.StatusMessage(status) + ": the backend did not answer\n")
	return status
}

// record counts one request in the statistics and metrics.
func (p *Proxy) record(srv *server, status int, failed bool, latency time.Duration, now time.Time) {
	p.stats.record(srv.side, status, failed, latency, now)
	p.metrics.requests[srv.side][statusClass(status, failed)].Inc()
	p.metrics.duration[srv.side].Observe(latency.Seconds())
}

// ejected reports a server taken out of rotation by passive health checks.
func (p *Proxy) ejected(srv *server) {
	p.metrics.ejected.WithLabelValues(srv.side.String(), srv.url).Inc()
	p.Logger.Warn("server ejected after consecutive failures", logKeySide, srv.side.String(), logKeyServer, srv.url)
}
