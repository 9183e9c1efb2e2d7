package proxy

import (
	"errors"
	"sync"
	"syscall"
)

// epoller watches parked connections for readability with an epoll set of its own
// (level-triggered, one shot), from one goroutine for all of them: a parked connection
// then costs its socket and a map entry, not a goroutine's stack. Each registration
// carries an id of its own rather than the descriptor, which a closed connection's
// successor may reuse.
type epoller struct {
	epfd int
	wake func(*parkConn)
	done chan struct{}

	mu    sync.Mutex
	next  int32
	conns map[int32]watched
}

type watched struct {
	c  *parkConn
	fd int
}

func newPoller(wake func(*parkConn), done chan struct{}) (poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	p := &epoller{epfd: epfd, wake: wake, done: done, conns: map[int32]watched{}}
	go p.loop()
	return p, nil
}

// add watches c until its next byte or its peer's close.
func (p *epoller) add(c *parkConn) error {
	rc, err := c.TCPConn.SyscallConn()
	if err != nil {
		return err
	}
	var addErr error
	err = rc.Control(func(fd uintptr) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.next++
		if p.next <= 0 {
			p.next = 1
		}
		id := p.next
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT, Fd: id}
		if addErr = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev); addErr == nil {
			p.conns[id] = watched{c: c, fd: int(fd)}
			c.pollID = id
		}
	})
	return errors.Join(err, addErr)
}

// remove stops watching c; its descriptor must still be open.
func (p *epoller) remove(c *parkConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w, ok := p.conns[c.pollID]; ok && w.c == c {
		p.forget(c.pollID, w)
	}
}

// forget drops a registration; p.mu is held.
func (p *epoller) forget(id int32, w watched) {
	delete(p.conns, id)
	_ = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, w.fd, nil)
}

func (p *epoller) loop() {
	events := make([]syscall.EpollEvent, 256)
	for {
		select {
		case <-p.done:
			_ = syscall.Close(p.epfd)
			return
		default:
		}
		// The timeout lets the loop see done; a parked connection's idle deadline is the
		// sweep's.
		n, err := syscall.EpollWait(p.epfd, events, int(parkAfter/2/1e6))
		if err != nil {
			continue // EINTR
		}
		for _, ev := range events[:n] {
			p.mu.Lock()
			w, ok := p.conns[ev.Fd]
			if ok {
				p.forget(ev.Fd, w)
			}
			p.mu.Unlock()
			if ok {
				p.wake(w.c)
			}
		}
	}
}
