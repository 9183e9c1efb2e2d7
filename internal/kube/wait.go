package kube

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"ferry.dev/ferry/internal/health"
)

// Errors of WaitHealthy.
var (
	ErrUnhealthy = errors.New("rollout failed")
	ErrTimeout   = errors.New("rollout timed out")
)

// WaitConfig says what to wait for.
type WaitConfig struct {
	Objects []Ref
	// Since is when the rollout began: older warning events and pods are ignored.
	Since time.Time
	// Timeout bounds the wait.
	Timeout time.Duration
	// Interval between polls of the objects that are not watched (default 100ms):
	// Services, whose health is their endpoints', and objects whose watch ended.
	// Every other object that is not yet healthy is watched, and judged again as soon
	// as it changes. Events are looked at every second, and a workload's pods only once
	// it has made no progress for a second: a healthy rollout costs the API server no
	// pod listings.
	Interval time.Duration
	// OnUpdate receives the objects whose state or message changed, and new warning
	// events, as they happen.
	OnUpdate func(Update)
}

// ObjectStatus is one object's health.
type ObjectStatus struct {
	Ref    Ref           `json:"ref"`
	Health health.Status `json:"health"`
}

// Update is what changed since the last one.
type Update struct {
	Changed  []ObjectStatus
	Warnings []string
}

// WaitResult is the final state of every object and the pods that kept them from
// becoming healthy.
type WaitResult struct {
	Objects     []ObjectStatus `json:"objects"`
	PodProblems []string       `json:"podProblems,omitempty"`
}

// WaitHealthy watches the objects until every one is healthy (nil error), one has
// failed (ErrUnhealthy) or the timeout passes (ErrTimeout). Workload pods in a state
// that does not fix itself fail the rollout at once instead of at the deadline.
func (c *Client) WaitHealthy(ctx context.Context, cfg WaitConfig) (*WaitResult, error) {
	if cfg.Interval <= 0 {
		cfg.Interval = 100 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	w := newWaiter(c, cfg)
	w.watches = newWatches(ctx)
	defer w.watches.stop()
	tick := time.NewTicker(cfg.Interval)
	defer tick.Stop()
	lastDeep := time.Time{}
	fetch := true
	for {
		deep := time.Since(lastDeep) >= time.Second
		if deep {
			lastDeep = time.Now()
		}
		res, err := w.poll(ctx, deep, fetch || deep)
		if err == nil || errors.Is(err, ErrUnhealthy) {
			return res, err
		}
		if ctx.Err() != nil {
			// One last look at the pods, to say why.
			lastCtx, lastCancel := context.WithTimeout(context.Background(), 10*time.Second)
			res, _ = w.poll(lastCtx, true, true)
			lastCancel()
			return res, fmt.Errorf("%w after %s: %s", ErrTimeout, cfg.Timeout, w.pending(res))
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
			fetch = true
		case <-w.watches.wake:
			fetch = false // only watched objects changed
		}
	}
}

type waiter struct {
	c          *Client
	cfg        WaitConfig
	watches    *watches // nil: read every object on every poll
	last       map[string]health.Status
	changed    map[string]time.Time
	seenEvents map[string]bool
}

func newWaiter(c *Client, cfg WaitConfig) *waiter {
	return &waiter{c: c, cfg: cfg, last: map[string]health.Status{}, changed: map[string]time.Time{}, seenEvents: map[string]bool{}}
}

// stalledFor is how long a workload must make no progress before its pods are
// inspected.
const stalledFor = time.Second

var errNotYet = errors.New("not yet")

// poll looks at every object once; deep also looks at pods and events. Without
// fetch, an object that is not watched keeps its last known health.
func (w *waiter) poll(ctx context.Context, deep, fetch bool) (*WaitResult, error) {
	res := &WaitResult{}
	var upd Update
	failed := false
	allHealthy := true
	for _, ref := range w.cfg.Objects {
		h, problems, err := w.check(ctx, ref, deep, fetch)
		if err != nil {
			h = health.Status{State: health.Progressing, Message: oneLine(err.Error())}
		}
		res.Objects = append(res.Objects, ObjectStatus{Ref: ref, Health: h})
		res.PodProblems = append(res.PodProblems, problems...)
		if w.last[ref.Key()] != h {
			w.last[ref.Key()] = h
			w.changed[ref.Key()] = time.Now()
			upd.Changed = append(upd.Changed, ObjectStatus{Ref: ref, Health: h})
		}
		failed = failed || h.State == health.Failed
		allHealthy = allHealthy && h.State == health.Healthy
	}
	if deep {
		upd.Warnings = w.newWarnings(ctx)
	}
	if w.cfg.OnUpdate != nil && (len(upd.Changed) > 0 || len(upd.Warnings) > 0) {
		w.cfg.OnUpdate(upd)
	}
	switch {
	case failed:
		return res, fmt.Errorf("%w: %s", ErrUnhealthy, w.failures(res))
	case allHealthy:
		return res, nil
	}
	return res, errNotYet
}

// check returns an object's health and, for workloads on a deep poll, the problems
// of its pods; a fatal pod problem fails the object.
func (w *waiter) check(ctx context.Context, ref Ref, deep, fetch bool) (health.Status, []string, error) {
	last, seen := w.last[ref.Key()]
	if seen && last.State == health.Healthy {
		return last, nil, nil // healthy stays healthy for the rest of this wait
	}
	obj, watched := w.watches.get(ref.Key())
	if !watched {
		if seen && !fetch {
			return last, nil, nil
		}
		var err error
		if obj, err = w.c.Get(ctx, ref); err != nil {
			return health.Status{}, nil, err
		}
	}
	if obj == nil {
		return health.Status{State: health.Progressing, Message: "not found"}, nil, nil
	}
	if ref.Kind == "Service" {
		return w.serviceHealth(ctx, obj) // its endpoints say, not the Service: polled
	}
	h, err := health.Evaluate(obj)
	if err != nil {
		return health.Status{}, nil, err
	}
	if !watched && h.State != health.Healthy {
		w.watches.start(w.c, ref, obj)
	}
	if !deep || h.State != health.Progressing || w.progressing(ref.Key(), h) {
		return h, nil, nil
	}
	problems, fatal, err := w.podProblems(ctx, obj)
	if err != nil {
		return h, nil, err
	}
	if fatal {
		h = health.Status{State: health.Failed, Message: h.Message + ": " + problems[0]}
	}
	return h, problems, nil
}

// progressing reports whether the object's health changed within stalledFor.
func (w *waiter) progressing(key string, h health.Status) bool {
	return w.last[key] != h || time.Since(w.changed[key]) < stalledFor
}

func (w *waiter) failures(res *WaitResult) string {
	var parts []string
	for _, o := range res.Objects {
		if o.Health.State == health.Failed {
			parts = append(parts, o.Ref.String()+" "+o.Health.Message)
		}
	}
	return strings.Join(parts, "; ")
}

func (w *waiter) pending(res *WaitResult) string {
	var parts []string
	for _, o := range res.Objects {
		if o.Health.State != health.Healthy {
			parts = append(parts, o.Ref.String()+" "+o.Health.Message)
		}
	}
	if len(res.PodProblems) > 0 {
		parts = append(parts, res.PodProblems[0])
	}
	return strings.Join(parts, "; ")
}

// Check looks at each object once and returns its health, without waiting.
func (c *Client) Check(ctx context.Context, refs []Ref) []ObjectStatus {
	w := newWaiter(c, WaitConfig{Objects: refs})
	res, _ := w.poll(ctx, false, true)
	return res.Objects
}
