package traffic

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Total is the sum of the two shares of Weights: shares are in basis points, so one
// unit is 0.01 % of the requests.
const Total = 10000

// ErrInvalidWeights is returned for weights that do not add up to Total or are out of
// range.
var ErrInvalidWeights = errors.New("invalid weights")

// Side is one of the two places a request can go.
type Side uint8

// The two sides of a migration.
const (
	Legacy Side = iota
	Kubernetes
)

// String returns "legacy" or "kubernetes".
func (s Side) String() string {
	if s == Kubernetes {
		return "kubernetes"
	}
	return "legacy"
}

// ParseSide accepts "legacy" or "kubernetes" (also "k8s"), in any case.
func ParseSide(s string) (Side, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "legacy":
		return Legacy, nil
	case "kubernetes", "k8s":
		return Kubernetes, nil
	}
	return 0, fmt.Errorf("unknown side %q: use legacy or kubernetes", s)
}

// Weights is the share of requests each side receives, in basis points (0.01 %).
// Legacy + Kubernetes is always Total for valid weights.
type Weights struct {
	Legacy     int `json:"legacy"`
	Kubernetes int `json:"kubernetes"`
}

// KubernetesShare returns the weights that send bp basis points to Kubernetes and the
// rest to legacy.
func KubernetesShare(bp int) Weights { return Weights{Legacy: Total - bp, Kubernetes: bp} }

// Of returns the share of side s in basis points.
func (w Weights) Of(s Side) int {
	if s == Kubernetes {
		return w.Kubernetes
	}
	return w.Legacy
}

// Validate reports whether both shares are within 0..Total and add up to Total.
func (w Weights) Validate() error {
	if w.Legacy < 0 || w.Kubernetes < 0 || w.Legacy+w.Kubernetes != Total {
		return fmt.Errorf("%w: legacy %d + kubernetes %d basis points must add up to %d", ErrInvalidWeights, w.Legacy, w.Kubernetes, Total)
	}
	return nil
}

// String renders the weights as percentages, e.g. "legacy 90% / kubernetes 10%".
func (w Weights) String() string {
	return "legacy " + FormatPercent(w.Legacy) + " / kubernetes " + FormatPercent(w.Kubernetes)
}

// FormatPercent renders basis points as a percentage with at most two decimals:
// 1000 → "10%", 1 → "0.01%", 1250 → "12.5%".
func FormatPercent(bp int) string {
	s := strconv.FormatFloat(float64(bp)/100, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + "%"
}

// ParsePercent reads a percentage with at most two decimals ("10", "10%", "0.01 %",
// "12.5") as basis points, without floating-point rounding.
func ParsePercent(s string) (int, error) {
	t := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	whole, frac, hasFrac := strings.Cut(t, ".")
	if whole == "" || len(frac) > 2 || (hasFrac && frac == "") || !digits(whole) || !digits(frac) || len(whole) > 3 {
		return 0, fmt.Errorf("percentage %q: want a number from 0 to 100 with at most two decimals", s)
	}
	w, _ := strconv.Atoi(whole)
	f := 0
	if frac != "" {
		f, _ = strconv.Atoi((frac + "0")[:2])
	}
	bp := w*100 + f
	if bp > Total {
		return 0, fmt.Errorf("percentage %q: must not exceed 100", s)
	}
	return bp, nil
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Router sends each request to the legacy side or to Kubernetes by weight. Migrations
// call it to shift traffic step by step; every provider (the embedded proxy, weighted
// DNS, Gateway API, load-balancer target groups) implements it.
type Router interface {
	// SetWeights makes w the split for new requests. It returns only once the router
	// applies w (for the proxy, from the next request on; for DNS, once the change is
	// accepted), and returns an error wrapping ErrInvalidWeights for invalid w without
	// changing anything. Requests already in flight are never dropped.
	SetWeights(ctx context.Context, w Weights) error
	// Weights returns the split the router applies now.
	Weights(ctx context.Context) (Weights, error)
}

// Settler is a Router whose changes take time to reach every client. SetWeights
// returns once the change is applied everywhere the router controls (for weighted DNS,
// on every authoritative name server), which may take minutes; clients may then follow
// the previous split for a while longer (cached answers). A migration gives SetWeights
// ApplyTimeout and keeps SettleTime out of each step's window on top of its warm-up.
type Settler interface {
	Router
	// ApplyTimeout bounds one SetWeights call, waiting for the change included.
	ApplyTimeout() time.Duration
	// SettleTime is how long after SetWeights returns clients may still follow the
	// previous split.
	SettleTime() time.Duration
}
