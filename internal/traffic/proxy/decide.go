package proxy

import (
	"time"

	"ferry.dev/ferry/internal/traffic"
)

// hint is a side named by a request (force header or cookie, sticky cookie), if any.
type hint struct {
	side traffic.Side
	ok   bool
}

// choice is the decision for one request.
type choice struct {
	side traffic.Side
	// setCookie says the sticky cookie must be set to side on the response.
	setCookie bool
}

// policy is how stickiness behaves.
type policy struct {
	sticky bool
	// keepOnZero keeps clients on a side whose weight is zero.
	keepOnZero bool
}

// chooseSide is the weighted choice: roll is uniform in [0, traffic.Total), and
// Kubernetes gets the rolls below its share.
func chooseSide(w traffic.Weights, roll int) traffic.Side {
	if roll < w.Kubernetes {
		return traffic.Kubernetes
	}
	return traffic.Legacy
}

// decide picks the side of one request: a forced side wins, then the sticky side while
// its weight is above zero (or always, with keepOnZero), then the weighted choice.
func decide(w traffic.Weights, forced, stuck hint, p policy, roll int) choice {
	if forced.ok {
		return choice{side: forced.side}
	}
	if p.sticky && stuck.ok && (w.Of(stuck.side) > 0 || p.keepOnZero) {
		return choice{side: stuck.side}
	}
	return choice{side: chooseSide(w, roll), setCookie: p.sticky}
}

// parseHint reads a side name from a header or cookie value without allocating.
func parseHint(v []byte) hint {
	switch string(v) {
	case "kubernetes", "k8s", "Kubernetes":
		return hint{side: traffic.Kubernetes, ok: true}
	case "legacy", "Legacy":
		return hint{side: traffic.Legacy, ok: true}
	}
	return hint{}
}

// passiveNext is the passive health decision after one response from a server: the
// new count of consecutive failures, and whether the server must be ejected now.
func passiveNext(failures int, failed bool, threshold int) (int, bool) {
	if !failed {
		return 0, false
	}
	failures++
	if failures >= threshold {
		return 0, true
	}
	return failures, false
}

// isFailure says whether a backend outcome counts against its passive health:
// transport errors and the gateway-ish statuses that mean "this server is unwell".
func isFailure(status int, transportErr bool) bool {
	return transportErr || status == 502 || status == 503 || status == 504
}

// activeState is a server's standing under active health checks.
type activeState struct {
	healthy bool
	// streak counts consecutive results that disagree with healthy.
	streak int
}

// activeNext is the active health decision after one check result.
func activeNext(s activeState, ok bool, healthyAfter, unhealthyAfter int) activeState {
	if ok == s.healthy {
		return activeState{healthy: s.healthy}
	}
	s.streak++
	if (ok && s.streak >= healthyAfter) || (!ok && s.streak >= unhealthyAfter) {
		return activeState{healthy: ok}
	}
	return s
}

// available says whether a server takes requests: healthy and not ejected.
func available(healthy bool, ejectedUntil, now time.Time) bool {
	return healthy && !now.Before(ejectedUntil)
}
