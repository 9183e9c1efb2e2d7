package proxy

import (
	"net/http"
	"runtime"
	"strings"
	"testing"
)

// TestThePollerWaitsInTheRuntimesPoller: the goroutine that watches parked connections
// waits in Go's network poller ("IO wait"), never in a blocking epoll_wait ("syscall").
// A goroutine in a blocking system call holds its processor until the runtime's
// monitor takes it back: with one processor (GOMAXPROCS=1, as bench/proxy runs the
// proxy), every request stalled for up to 10 ms each time the wait began.
func TestThePollerWaitsInTheRuntimesPoller(t *testing.T) {
	be := startFastBackend(t, "legacy-1")
	p := startProxy(t, testConfig(urls(be), urls(be)))
	k := dialKeepAlive(t, p)
	if got := k.get(t, nil); got != http.StatusOK {
		t.Fatalf("request: %d", got)
	}
	waitFor(t, func() bool { return p.clients.parkedCount() == 1 }, "the connection parked")
	var states []string
	waitFor(t, func() bool {
		states = pollerStates()
		for _, s := range states {
			if s != "runnable" && s != "running" {
				return true
			}
		}
		return false
	}, "a poller goroutine waiting")
	for _, s := range states {
		if s != "IO wait" && s != "runnable" && s != "running" {
			t.Fatalf("a poller goroutine waits in state %q (all: %q), want \"IO wait\": the runtime's poller", s, states)
		}
	}
}

// pollerStates returns the scheduling state of every epoller.loop goroutine, as a
// goroutine dump names it ("IO wait", "syscall", "runnable", ...).
func pollerStates() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var states []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if !strings.Contains(g, ".(*epoller).loop(") {
			continue
		}
		head, _, _ := strings.Cut(g, "\n") // goroutine 12 [IO wait, 2 minutes]:
		_, st, _ := strings.Cut(head, "[")
		st, _, _ = strings.Cut(st, "]")
		st, _, _ = strings.Cut(st, ",")
		states = append(states, st)
	}
	return states
}
