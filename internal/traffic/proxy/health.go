package proxy

import (
	"context"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// healthEvent is a change of a server's active health.
type healthEvent struct {
	srv     *server
	healthy bool
}

// healthChecker runs the active checks of one generation's pools.
type healthChecker struct {
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// startHealthChecks starts one loop per server of every pool with a check path; the
// first check runs at once. Servers start healthy so traffic flows from the start.
func startHealthChecks(rt *generation, events func(healthEvent)) *healthChecker {
	ctx, cancel := context.WithCancel(context.Background())
	hc := &healthChecker{cancel: cancel}
	for _, pl := range rt.pools {
		if pl.cfg.HealthCheck.Path == "" {
			continue
		}
		for _, s := range pl.servers {
			hc.done.Add(1)
			go func() {
				defer hc.done.Done()
				checkLoop(ctx, s, pl.cfg.HealthCheck, events)
			}()
		}
	}
	return hc
}

// stop ends the checks and waits for them; it is safe on a nil checker.
func (hc *healthChecker) stop() {
	if hc == nil {
		return
	}
	hc.cancel()
	hc.done.Wait()
}

func checkLoop(ctx context.Context, s *server, cfg HealthCheckConfig, events func(healthEvent)) {
	state := activeState{healthy: s.healthy.Load()}
	t := time.NewTicker(cfg.Interval)
	defer t.Stop()
	for {
		next := activeNext(state, probe(s, cfg), cfg.HealthyAfter, cfg.UnhealthyAfter)
		if next.healthy != state.healthy {
			s.healthy.Store(next.healthy)
			events(healthEvent{srv: s, healthy: next.healthy})
		}
		state = next
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// probe sends one GET to the server's check path; 2xx and 3xx are healthy.
func probe(s *server, cfg HealthCheckConfig) bool {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(s.url + cfg.Path)
	req.Header.Set("User-Agent", "ferry-health-check")
	if err := s.probe.DoTimeout(req, resp, cfg.Timeout); err != nil {
		return false
	}
	_ = resp.CloseBodyStream()
	code := resp.StatusCode()
	return code >= 200 && code < 400
}
