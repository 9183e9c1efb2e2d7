package migrate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Check is the outcome of one preflight check.
type Check struct {
	// Name is what was checked: "router", "metrics", "gates", ….
	Name string `json:"name"`
	// Detail says what the check saw when it passed.
	Detail string `json:"detail,omitempty"`
	// Err says why it failed; nil when it passed.
	Err error `json:"-"`
}

// Failed reports whether the check failed.
func (c Check) Failed() bool { return c.Err != nil }

// PreflightTimeout bounds the calls the preflight makes to the router and the
// metric source.
const PreflightTimeout = 15 * time.Second

// CheckProviders runs the checks a run makes before it changes anything, all of them
// whatever fails: the router reports its weights, the metric source gives a sample of
// the last minute, and there are gates. It calls no hook and changes nothing.
func CheckProviders(ctx context.Context, cfg Config) []Check {
	ctx, cancel := context.WithTimeout(ctx, PreflightTimeout)
	defer cancel()
	checks := []Check{{Name: "router"}, {Name: "metrics"}, {Name: "gates"}}
	if w, err := cfg.Router.Weights(ctx); err != nil {
		checks[0].Err = fmt.Errorf("router: %w", err)
	} else {
		checks[0].Detail = "answered; weights now " + w.String()
	}
	if s, err := cfg.Metrics.Sample(ctx, time.Now().Add(-time.Minute)); err != nil {
		checks[1].Err = fmt.Errorf("metric source: %w", err)
	} else {
		checks[1].Detail = fmt.Sprintf("answered; last minute: legacy %d requests, kubernetes %d", s.Legacy.Requests, s.New.Requests)
	}
	if len(cfg.Gates) == 0 {
		checks[2].Err = errors.New("no gates: a migration is never judged without them")
	} else {
		names := make([]string, 0, len(cfg.Gates))
		for _, g := range cfg.Gates {
			names = append(names, g.Name())
		}
		checks[2].Detail = strings.Join(names, ", ")
	}
	return checks
}
