package proxy

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// tunnel relays a protocol upgrade (WebSocket): it sends the handshake to srv, passes
// its answer back, and on 101 Switching Protocols copies bytes both ways until one side
// closes. Any other answer is passed back as an ordinary response.
func (p *Proxy) tunnel(ctx *fasthttp.RequestCtx, rt *generation, srv *server, forced bool, start time.Time) {
	prepareRequest(ctx, rt.pools[srv.side], rt.cfg.Forwarded.TrustIncoming, true)
	backend, br, status, err := handshake(ctx, srv, rt.cfg.Timeouts)
	if srv.observe(isFailure(status, err != nil), rt.pools[srv.side].cfg.Ejection, start) {
		p.ejected(srv)
	}
	end := time.Now()
	if err != nil {
		status = errorResponse(ctx, err)
		p.record(ctx, srv, status, true, forced, end.Sub(start), end)
		return
	}
	p.record(ctx, srv, status, false, forced, end.Sub(start), end)
	if status != fasthttp.StatusSwitchingProtocols {
		return
	}
	head := append([]byte(nil), ctx.Response.Header.Header()...)
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(client net.Conn) {
		if _, err := client.Write(head); err != nil {
			backend.Close()
			return
		}
		p.metrics.tunnels.Inc()
		defer p.metrics.tunnels.Dec()
		p.tunnels.relay(client, backend, br)
	})
}

// handshake dials srv, writes the upgrade request and reads the response head into
// ctx.Response. For a non-101 answer it reads the body too.
func handshake(ctx *fasthttp.RequestCtx, srv *server, t TimeoutsConfig) (net.Conn, *bufio.Reader, int, error) {
	conn, err := (&net.Dialer{Timeout: t.Connect}).Dial("tcp", srv.client.Addr)
	if err != nil {
		return nil, nil, 0, err
	}
	if srv.client.IsTLS {
		host, _, _ := net.SplitHostPort(srv.client.Addr)
		cfg := srv.client.TLSConfig.Clone()
		cfg.ServerName = host
		tc := tls.Client(conn, cfg)
		conn = tc
	}
	_ = conn.SetDeadline(time.Now().Add(t.Response))
	bw := bufio.NewWriter(conn)
	if err := ctx.Request.Write(bw); err != nil || bw.Flush() != nil {
		conn.Close()
		return nil, nil, 0, errOr(err, io.ErrUnexpectedEOF)
	}
	br := bufio.NewReader(conn)
	resp := &ctx.Response
	if err := resp.Header.Read(br); err != nil {
		conn.Close()
		return nil, nil, 0, err
	}
	status := resp.StatusCode()
	if status != fasthttp.StatusSwitchingProtocols {
		err := resp.ReadBody(br, 0)
		conn.Close()
		if err != nil {
			return nil, nil, 0, err
		}
		removeHopByHop(&resp.Header, false)
		resp.Header.ResetConnectionClose()
		return nil, nil, status, nil
	}
	_ = conn.SetDeadline(time.Time{})
	return conn, br, status, nil
}

func errOr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}

// tunnelSet tracks relayed connections so Close can end them.
type tunnelSet struct {
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

func (ts *tunnelSet) add(cs ...net.Conn) bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.closed {
		return false
	}
	if ts.conns == nil {
		ts.conns = map[net.Conn]struct{}{}
	}
	for _, c := range cs {
		ts.conns[c] = struct{}{}
	}
	ts.wg.Add(1)
	return true
}

func (ts *tunnelSet) remove(cs ...net.Conn) {
	ts.mu.Lock()
	for _, c := range cs {
		delete(ts.conns, c)
	}
	ts.mu.Unlock()
	ts.wg.Done()
}

// relay copies between client and backend (starting with what br already buffered)
// until either side closes, then closes both.
func (ts *tunnelSet) relay(client, backend net.Conn, br *bufio.Reader) {
	// fasthttp's hijacked connection reads through its buffer but does not close: keep
	// the socket underneath for closing.
	clientSock := client
	if u, ok := client.(interface{ UnsafeConn() net.Conn }); ok {
		clientSock = u.UnsafeConn()
	}
	if !ts.add(clientSock, backend) {
		backend.Close()
		return
	}
	defer ts.remove(clientSock, backend)
	done := make(chan struct{}, 2)
	go func() {
		_, _ = io.Copy(backend, client)
		closeWrite(backend)
		done <- struct{}{}
	}()
	go func() {
		_, _ = io.Copy(client, br) // br reads through to backend once its buffer is empty
		closeWrite(clientSock)
		done <- struct{}{}
	}()
	<-done
	// One direction ended: give the other a moment to finish, then close both.
	pending := 1
	select {
	case <-done:
		pending = 0
	case <-time.After(5 * time.Second):
	}
	clientSock.Close()
	backend.Close()
	for ; pending > 0; pending-- {
		<-done
	}
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
}

// closeAll closes every relayed connection and waits for the relays to end. Upgraded
// connections live as long as their users want, so shutdown does not wait for them:
// WebSocket clients reconnect.
func (ts *tunnelSet) closeAll() {
	ts.mu.Lock()
	ts.closed = true
	for c := range ts.conns {
		c.Close()
	}
	ts.mu.Unlock()
	ts.wg.Wait()
}
