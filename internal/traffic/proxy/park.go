package proxy

import (
	"errors"
	"io"
	"net"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// parkAfter is how long a keep-alive client connection may wait for its next request
// before it is parked: handed back by fasthttp, with its read buffer (as large as
// limits.maxRequestHeader), its request context and its worker, and watched for
// readability alone. A sweep every parkAfter/2 parks the connections that were idle at
// the sweep before it, so a connection parks after idling between parkAfter/2 and
// parkAfter; one that sends its next request sooner never parks, and pays nothing for
// it but two atomic stores a request. Waking costs what a new connection costs
// fasthttp, plus two epoll calls: a connection that carries fewer than five to ten
// requests a second pays that on each. A longer delay keeps more buffers in use at
// once: with a second, 10 000 connections opened in a burst and then idle held 55 MiB
// instead of 31 (bench/proxy), as fasthttp's pools keep what they once needed.
const parkAfter = 200 * time.Millisecond

// releaseAfter is how many connections must park, the last of them a sweep ago or
// more, before the sweep gives the memory they held back to the system at once
// (runtime/debug.FreeOSMemory, after a collection that empties fasthttp's pools of
// what they kept). Without it, the runtime keeps what the connections freed for up to
// minutes, as an idle proxy collects rarely: 10 000 connections that idled at once
// kept 36.5-38.0 MiB of anonymous memory instead of 20.8-24.1 (bench/proxy). It costs
// two collections, so it waits for parking to settle and comes at most once every
// releaseEvery.
const (
	releaseAfter = 1000
	releaseEvery = 10 * time.Second
)

// poller watches parked connections and wakes each (once) when it has a byte to read
// or its peer closed it.
type poller interface {
	add(c *parkConn) error
	remove(c *parkConn) // before c's descriptor is closed
}

// errParked ends fasthttp's wait for a connection's next request: nothing was read, so
// fasthttp ends the connection quietly, and the close that follows parks it.
var errParked = errors.New("parked until the next request")

// parkListener gives fasthttp the connections its listener accepts and, again, those
// that were parked and became readable: to fasthttp a woken connection is a new one.
// It keeps limits.maxConnections over every open connection, parked or served, as
// fasthttp's own limit would count only those it serves.
type parkListener struct {
	net.Listener
	max   int
	open  atomic.Int64
	conns chan net.Conn
	fail  chan error // the listener's own Accept failed: fasthttp stops serving
	done  chan struct{}

	epoch atomic.Int64 // sweeps so far, from 1
	parks atomic.Int64 // connections parked so far
	poll  poller       // nil: connections do not park

	mu      sync.Mutex
	stopped bool
	all     map[*parkConn]struct{} // open connections
	parked  map[*parkConn]struct{}
}

func newParkListener(ln net.Listener, maxConns int) *parkListener {
	l := &parkListener{
		Listener: ln, max: maxConns,
		conns: make(chan net.Conn), fail: make(chan error, 1), done: make(chan struct{}),
		all: map[*parkConn]struct{}{}, parked: map[*parkConn]struct{}{},
	}
	l.epoch.Store(1)
	var err error
	if l.poll, err = newPoller(l.wake, l.done); err == nil {
		go l.sweep()
	}
	go l.acceptLoop()
	return l
}

// sweep, every parkAfter/2, closes the parked connections whose idle deadline has
// passed, and interrupts fasthttp's wait for the next request on the connections that
// were already idle at the sweep before: their Read parks them.
func (l *parkListener) sweep() {
	t := time.NewTicker(parkAfter / 2)
	defer t.Stop()
	var rel release
	for {
		select {
		case <-l.done:
			return
		case <-t.C:
		}
		epoch := l.epoch.Add(1)
		now := time.Now()
		var expired []*parkConn
		l.mu.Lock()
		for c := range l.all {
			if since := c.idleSince.Load(); since > 0 && epoch-since >= 2 {
				_ = c.TCPConn.SetReadDeadline(now)
			}
		}
		for c := range l.parked {
			if !c.deadline.IsZero() && !now.Before(c.deadline) {
				delete(l.parked, c)
				expired = append(expired, c)
			}
		}
		l.mu.Unlock()
		for _, c := range expired {
			l.closeParked(c)
		}
		if rel.due(l.parks.Load(), now) {
			freeMemory()
		}
	}
}

// release decides when the sweep gives parked connections' memory back.
type release struct {
	at   int64     // parks counted at the last release
	seen int64     // parks counted at the sweep before
	last time.Time // the last release
}

// due is asked at each sweep with the parks counted so far; true means release now.
func (r *release) due(parks int64, now time.Time) bool {
	settled := parks == r.seen
	r.seen = parks
	if !settled || parks-r.at < releaseAfter || now.Sub(r.last) < releaseEvery {
		return false
	}
	r.at, r.last = parks, now
	return true
}

// freeMemory gives the heap's free memory back to the system.
func freeMemory() {
	runtime.GC() // fasthttp's pools keep what they hold until a second collection
	debug.FreeOSMemory()
}

// wake hands a parked connection that became readable to fasthttp again, unless the
// sweep or Close took it first.
func (l *parkListener) wake(c *parkConn) {
	l.mu.Lock()
	_, ok := l.parked[c]
	delete(l.parked, c)
	l.mu.Unlock()
	if ok {
		go l.hand(c)
	}
}

// tooMany answers a connection over limits.maxConnections, as fasthttp answers one
// over its concurrency.
var tooMany = []byte("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 41\r\n\r\nthe proxy is at limits.maxConnections now")

// refuse answers tooMany and closes c once the client has read it: the request is
// drained (a second at most), as closing over unread bytes would reset the
// connection and could lose the answer.
func refuse(c *net.TCPConn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write(tooMany); err != nil {
		return
	}
	_ = c.CloseWrite()
	_, _ = io.Copy(io.Discard, io.LimitReader(c, 64<<10))
}

func (l *parkListener) acceptLoop() {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			l.fail <- err
			return
		}
		tc, ok := c.(*net.TCPConn)
		if !ok { // not a TCP listener: nothing to park
			l.hand(c)
			continue
		}
		if l.open.Add(1) > int64(l.max) {
			l.open.Add(-1)
			go refuse(tc)
			continue
		}
		pc := &parkConn{TCPConn: tc, l: l}
		l.mu.Lock()
		l.all[pc] = struct{}{}
		l.mu.Unlock()
		l.hand(pc)
	}
}

// hand gives c to fasthttp's next Accept, or closes it when the listener is closed.
func (l *parkListener) hand(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.done:
		_ = c.Close()
	}
}

func (l *parkListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case err := <-l.fail:
		return nil, err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting and closes the parked connections; those fasthttp serves it
// closes itself (Server.CloseOnShutdown).
func (l *parkListener) Close() error {
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return nil
	}
	l.stopped = true
	close(l.done)
	parked := l.parked
	l.parked = map[*parkConn]struct{}{}
	l.mu.Unlock()
	for c := range parked {
		l.closeParked(c)
	}
	return l.Listener.Close()
}

// closeParked closes a connection taken out of l.parked: the poller forgets it first,
// while its descriptor cannot yet belong to another connection.
func (l *parkListener) closeParked(c *parkConn) {
	l.poll.remove(c)
	_ = c.close()
}

// Open returns the client connections open now, parked ones included.
func (l *parkListener) Open() int { return int(l.open.Load()) }

// park watches c until its next request arrives (it is handed to fasthttp again), its
// idle deadline passes (the sweep) or the listener closes (it is closed).
func (l *parkListener) park(c *parkConn) {
	c.idleSince.Store(0)
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		_ = c.close()
		return
	}
	l.parked[c] = struct{}{}
	l.mu.Unlock()
	l.parks.Add(1)
	if err := l.poll.add(c); err != nil {
		l.mu.Lock()
		delete(l.parked, c)
		l.mu.Unlock()
		_ = c.close()
	}
}

// connState follows fasthttp's view of a connection: idle between requests, since
// which sweep.
func connState(c net.Conn, st fasthttp.ConnState) {
	pc, ok := c.(*parkConn)
	if !ok {
		return
	}
	if st == fasthttp.StateIdle {
		pc.idleSince.Store(pc.l.epoch.Load())
	} else {
		pc.idleSince.Store(0)
	}
}

// parkConn is a client connection that parks when it idles past parkAfter.
type parkConn struct {
	*net.TCPConn
	l         *parkListener
	idleSince atomic.Int64 // the sweep since which fasthttp waits for the next request, or 0
	parking   atomic.Bool  // the next Close parks instead of closing
	closed    atomic.Bool
	deadline  time.Time // the read deadline fasthttp set last: the idle timeout while idle
	pollID    int32     // its registration with the poller while parked (the poller's lock)
}

func (c *parkConn) SetReadDeadline(t time.Time) error {
	c.deadline = t
	return c.TCPConn.SetReadDeadline(t)
}

func (c *parkConn) SetDeadline(t time.Time) error {
	c.deadline = t
	return c.TCPConn.SetDeadline(t)
}

// Read reads as the connection does. A read that a sweep interrupted (its deadline
// passed, but not the one fasthttp set) parks the connection when it was fasthttp's
// wait for the next request, and carries on otherwise (fasthttp moved on to a request
// just as the sweep came).
func (c *parkConn) Read(p []byte) (int, error) {
	idle := c.idleSince.Load() > 0
	for {
		n, err := c.TCPConn.Read(p)
		if n > 0 || err == nil || !isDeadline(err) || !c.deadline.IsZero() && !time.Now().Before(c.deadline) {
			return n, err
		}
		if idle {
			c.parking.Store(true)
			return 0, errParked
		}
		if err := c.TCPConn.SetReadDeadline(c.deadline); err != nil {
			return 0, err
		}
	}
}

func isDeadline(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Close parks the connection after Read decided so, and closes it otherwise.
func (c *parkConn) Close() error {
	if c.parking.Swap(false) {
		c.l.park(c)
		return nil
	}
	return c.close()
}

func (c *parkConn) close() error {
	if c.closed.Swap(true) {
		return nil
	}
	c.l.open.Add(-1)
	c.l.mu.Lock()
	delete(c.l.all, c)
	c.l.mu.Unlock()
	return c.TCPConn.Close()
}
