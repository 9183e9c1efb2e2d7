package proxy

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/valyala/fasthttp"

	"ferry.dev/ferry/internal/traffic"
)

// handle serves one request: decide the side, pick a server, forward, record.
func (p *Proxy) handle(ctx *fasthttp.RequestCtx) {
	rt := p.rt.Load()
	start := ctx.Time() // fasthttp's clock reading just before calling the handler
	p.respHeader.capture(&ctx.Response.Header)
	c, forced := p.decide(ctx, rt)
	srv, failover := rt.server(c.side, forced, start)
	if failover {
		p.metrics.failover[c.side].Inc()
	}
	if hasBothFramings(&ctx.Request.Header) {
		// Which framing wins differs between servers: the stuff of request smuggling.
		p.clientFailed(ctx, rt, srv, clientMalformed, nil, forced, start)
		return
	}
	if rt.tunnels(&ctx.Request.Header) {
		p.tunnel(ctx, rt, srv, forced, start)
		return
	}
	prepareRequest(ctx, rt.pools[srv.side], rt.cfg.Forwarded.TrustIncoming, false)
	srv, blame, bodyLeft, err := p.forward(ctx, rt, srv, start)
	if blame != clientOK {
		p.clientFailed(ctx, rt, srv, blame, err, forced, start)
		return
	}
	status := ctx.Response.StatusCode()
	if err != nil {
		status = errorResponse(ctx, err)
	} else {
		removeHopByHop(&ctx.Response.Header, false)
		ctx.Response.Header.ResetConnectionClose()
	}
	if bodyLeft {
		// The backend answered (or failed) before reading the whole body, whose rest
		// is still on the client's connection. Read as the next request, it would be
		// a request smuggled past whatever sends many clients' requests over that
		// connection (a load balancer in front): close it instead.
		ctx.SetConnectionClose()
	}
	if c.setCookie {
		ctx.Response.Header.Add("Set-Cookie", rt.setCookie[c.side])
	}
	end := time.Now()
	p.record(ctx, srv, status, err != nil, forced, end.Sub(start), end)
	if p.access != nil {
		p.access.log(ctx, logEntry{srv: srv, status: status, err: err, forced: forced, forceHeader: rt.cfg.Force.Header, d: end.Sub(start), start: start})
	}
}

// errResponseHeaderTooLarge replaces fasthttp's advice to raise its buffer size.
var errResponseHeaderTooLarge = errors.New("the backend's response headers are larger than limits.maxResponseHeader")

// unreadable answers a request fasthttp could not read, before any side was chosen;
// fasthttp then closes the connection. A head over limits.maxRequestHeader is logged
// as the client's failure.
func (p *Proxy) unreadable(ctx *fasthttp.RequestCtx, err error) {
	status := fasthttp.StatusBadRequest
	var ne net.Error
	switch _, small := err.(*fasthttp.ErrSmallBuffer); {
	case small:
		status = fasthttp.StatusRequestHeaderFieldsTooLarge
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		status = fasthttp.StatusRequestEntityTooLarge
	case errors.As(err, &ne) && ne.Timeout():
		status = fasthttp.StatusRequestTimeout
	}
	ctx.Error(fasthttp.StatusMessage(status)+"\n", status)
	if status == fasthttp.StatusRequestHeaderFieldsTooLarge && p.access != nil {
		p.access.log(ctx, logEntry{status: status, clientFailure: clientHeaderTooLarge, start: ctx.Time(), d: time.Since(ctx.Time())})
	}
}

// clientFailed answers a client that broke its request and closes its connection.
// The backend is not to blame: the request counts neither against the server's
// health nor in the statistics the migration gates read, only as a client failure.
func (p *Proxy) clientFailed(ctx *fasthttp.RequestCtx, rt *generation, srv *server, f clientFailure, err error, forced bool, start time.Time) {
	ctx.Response.Reset()
	ctx.Response.SetStatusCode(f.status())
	ctx.Response.Header.SetContentType("text/plain; charset=utf-8")
	ctx.Response.SetBodyString(fasthttp.StatusMessage(f.status()) + "\n")
	ctx.SetConnectionClose()
	end := time.Now()
	p.stats.recordClientFailure(srv.side, end)
	p.metrics.clientFailures[srv.side][f].Inc()
	if p.access != nil {
		p.access.log(ctx, logEntry{srv: srv, status: f.logStatus(), err: err, clientFailure: f, forced: forced, forceHeader: rt.cfg.Force.Header, d: end.Sub(start), start: start})
	}
}

// decide reads the force header and cookies and applies the decision function. It
// says whether the side was forced.
func (p *Proxy) decide(ctx *fasthttp.RequestCtx, rt *generation) (choice, bool) {
	var forced, stuck hint
	h := &ctx.Request.Header
	if rt.cfg.Force.Enabled {
		v := h.Peek(rt.cfg.Force.Header)
		if len(v) > 0 {
			forced = rt.forceHint(ctx, v)
			// The value may carry the secret: it is not the backend's business.
			h.Del(rt.cfg.Force.Header)
		} else if v = h.Cookie(rt.cfg.Force.Cookie); len(v) > 0 {
			forced = rt.forceHint(ctx, v)
		}
	}
	if rt.policy.sticky && !forced.ok {
		stuck = parseHint(h.Cookie(rt.cfg.Sticky.Cookie))
	}
	return decide(p.current(), forced, stuck, rt.policy, rand.IntN(traffic.Total)), forced.ok
}

// forceHint reads a force value, "side" or "side:secret", and returns its side if the
// secret (when one is configured) matches and the client is in force.networks (when
// given).
func (rt *generation) forceHint(ctx *fasthttp.RequestCtx, v []byte) hint {
	side, secret, hasSecret := bytes.Cut(v, []byte(":"))
	if len(rt.forceSecret) > 0 {
		if !hasSecret || subtle.ConstantTimeCompare(secret, rt.forceSecret) != 1 {
			return hint{}
		}
	} else if hasSecret {
		return hint{}
	}
	h := parseHint(side)
	if h.ok && len(rt.forceNets) > 0 && !rt.inForceNets(ctx) {
		return hint{}
	}
	return h
}

// inForceNets says whether the client's address is in force.networks: the
// connection's peer, or behind a trusted balancer the last X-Forwarded-For entry.
func (rt *generation) inForceNets(ctx *fasthttp.RequestCtx) bool {
	var addr netip.Addr
	if rt.cfg.Forwarded.TrustIncoming {
		if all := ctx.Request.Header.PeekAll("X-Forwarded-For"); len(all) > 0 {
			last := all[len(all)-1]
			if i := bytes.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			addr, _ = netip.ParseAddr(string(bytes.TrimSpace(last)))
		}
	}
	if !addr.IsValid() {
		if tcp, ok := ctx.RemoteAddr().(*net.TCPAddr); ok {
			addr, _ = netip.AddrFromSlice(tcp.IP)
		}
	}
	addr = addr.Unmap()
	for _, n := range rt.forceNets {
		if n.Contains(addr) {
			return true
		}
	}
	return false
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
// bodyLeft says that part of the client's body was never read.
func (p *Proxy) forward(ctx *fasthttp.RequestCtx, rt *generation, srv *server, now time.Time) (_ *server, _ clientFailure, bodyLeft bool, _ error) {
	attempts := 1
	if methodIsIdempotent(string(ctx.Method())) && !ctx.Request.IsBodyStream() {
		attempts = rt.retries
	}
	req := &ctx.Request
	var up *upload
	if req.IsBodyStream() {
		up = p.acquireUpload(ctx, rt.cfg.Limits.MaxRequestBody)
		defer func() {
			bodyLeft = !up.body.complete()
			p.releaseUpload(up)
		}()
		req = &up.req
	}
	pl := rt.pools[srv.side]
	for i := 1; ; i++ {
		setScheme(req.URI(), srv.client.IsTLS)
		err := srv.client.Do(req, &ctx.Response)
		if _, ok := err.(*fasthttp.ErrSmallBuffer); ok {
			err = errResponseHeaderTooLarge
		}
		if err != nil && up != nil {
			if blame := up.body.failure(); blame != clientOK {
				return srv, blame, false, err
			}
		}
		status := ctx.Response.StatusCode()
		// A full connection pool says the proxy is busy, not that the server is sick.
		transportErr := err != nil && !errors.Is(err, fasthttp.ErrNoFreeConns)
		if srv.observe(isFailure(status, transportErr), pl.cfg.Ejection, now) {
			p.ejected(srv)
		}
		// The backend has worked on a request that timed out, and would send the same
		// oversized header again.
		if err == nil || i >= attempts || err == errResponseHeaderTooLarge || (isTimeout(err) && !rt.cfg.Retries.OnTimeout) {
			return srv, clientOK, false, err
		}
		p.metrics.retries[srv.side].Inc()
		if next := pl.pick(now); next != nil {
			srv = next
		}
	}
}

// setScheme gives the request the scheme of the server it goes to: fasthttp's client
// refuses to send an http:// request over TLS (or the reverse).
func setScheme(u *fasthttp.URI, isTLS bool) {
	if isTLS != bytes.Equal(u.Scheme(), strHTTPS) {
		if isTLS {
			u.SetSchemeBytes(strHTTPS)
		} else {
			u.SetSchemeBytes(strHTTP)
		}
	}
}

var strHTTP, strHTTPS = []byte("http"), []byte("https")

// errorResponse answers for a backend that did not: 504 after a timeout, 503 when the
// server's connection limit is reached, 502 otherwise.
func errorResponse(ctx *fasthttp.RequestCtx, err error) int {
	status := fasthttp.StatusBadGateway
	switch {
	case isTimeout(err):
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

// isTimeout says whether a backend took longer than timeouts.response to answer.
func isTimeout(err error) bool {
	return errors.Is(err, fasthttp.ErrTimeout) || errors.Is(err, os.ErrDeadlineExceeded)
}

// record counts one request in the statistics and metrics, under its route; a forced
// one apart from those the migration gates read.
func (p *Proxy) record(ctx *fasthttp.RequestCtx, srv *server, status int, failed, forced bool, latency time.Duration, now time.Time) {
	if srv.load != nil && !failed {
		srv.load.add(now) // what it answered, forced or not: its load
	}
	if forced {
		p.stats.recordForced(srv.side, status, failed, now)
		p.metrics.forced[srv.side][statusClass(status, failed)].Inc()
		return
	}
	r := p.routes.lookup(ctx.Method(), ctx.Path(), status)
	p.stats.record(srv.side, r.index, status, failed, latency, now)
	r.requests[srv.side][statusClass(status, failed)].Inc()
	r.duration[srv.side].Observe(latency.Seconds())
}

// ejected reports a server taken out of rotation by passive health checks.
func (p *Proxy) ejected(srv *server) {
	p.metrics.ejected.WithLabelValues(srv.side.String(), srv.url).Inc()
	p.Logger.Warn("server ejected after consecutive failures", logKeySide, srv.side.String(), logKeyServer, srv.url)
}
