package traffic

import (
	"context"
	"errors"
	"fmt"
)

// ErrNoCapacity means a router cannot tell how the legacy side is doing (a DNS record
// without a health check): a guard that asked for it cannot check and does not hold.
var ErrNoCapacity = errors.New("the router cannot tell the legacy side's health")

// CapacityReporter is a Router that can tell how much traffic the legacy side can take
// now: the embedded proxy from its health checks and the load each server carried,
// weighted DNS and load balancers from the health their provider reports. A migration
// asks it before a step up and before an abort sends traffic back.
type CapacityReporter interface {
	Router
	// LegacyCapacity returns the legacy side's health (and load, where the router sees
	// requests) now. It returns an error wrapping ErrNoCapacity when the router has
	// nothing to judge by, and any other error when it could not ask.
	LegacyCapacity(ctx context.Context) (Capacity, error)
}

// Capacity is what a router knows of the legacy side's health and load.
type Capacity struct {
	// Servers counts the legacy servers (targets, health-checked records) the router
	// knows; Healthy those it sees healthy now.
	Servers int `json:"servers"`
	Healthy int `json:"healthy"`
	// Gone counts servers in Servers that the router no longer knows (a load
	// balancer's targets deregistered since the migration began); they are not healthy.
	Gone int `json:"gone,omitempty"`
	// RPS is both sides' requests per second now (the proxy: its busiest stats bucket
	// of the last minute), and HealthyPeakRPS the sum over the healthy legacy servers
	// of the most requests per second each handled within the recent window (the
	// proxy: its busiest bucket within the stats retention). Both are 0 where the
	// router sees no requests (DNS, load balancers).
	RPS            float64 `json:"rps,omitempty"`
	HealthyPeakRPS float64 `json:"healthyPeakRPS,omitempty"`
}

// MaxLegacy returns the largest legacy share, in basis points, the legacy side can
// take. It is the larger of two lower bounds, each honest on its own assumption:
//
//   - by health: the legacy servers the router knows carried all of the traffic before
//     the migration began, so Healthy of Servers can carry Healthy/Servers of it;
//   - by load: a healthy server can take at least the most it was seen to take, so
//     the healthy servers can carry HealthyPeakRPS of the RPS there is now.
//
// With every server healthy it is 100 %: an abort can always land when legacy is
// whole. A router that knows no server reports 100 % (nothing to judge by).
func (c Capacity) MaxLegacy() int {
	if c.Servers <= 0 {
		return Total
	}
	share := Total * max(0, min(c.Healthy, c.Servers)) / c.Servers
	if c.RPS > 0 && c.HealthyPeakRPS > 0 {
		byLoad := float64(Total) * c.HealthyPeakRPS / c.RPS
		if byLoad >= Total {
			return Total
		}
		share = max(share, int(byLoad))
	}
	return min(share, Total)
}

// String describes the legacy side in one phrase, e.g. "legacy has 1 of 3 servers
// healthy".
func (c Capacity) String() string {
	noun := "servers"
	if c.Servers == 1 {
		noun = "server"
	}
	out := fmt.Sprintf("legacy has %d of %d %s healthy", c.Healthy, c.Servers, noun)
	if c.Gone > 0 {
		out += fmt.Sprintf(" (%d no longer registered since the migration began)", c.Gone)
	}
	return out
}

// CapAbort returns the weights an abort from applied may send when legacy can take at
// most maxLegacy basis points: everything to legacy when it can take it, else as much
// as it can take, but never less on legacy than applied already gives it (an abort
// never sends more to Kubernetes).
func CapAbort(applied Weights, maxLegacy int) Weights {
	legacy := min(Total, max(applied.Legacy, maxLegacy))
	return Weights{Legacy: legacy, Kubernetes: Total - legacy}
}
