package migrate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"ferry.dev/ferry/internal/devcluster/devclustertest"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/migrate/migratetest"
	"ferry.dev/ferry/internal/plan"
	"ferry.dev/ferry/internal/providers"
	"ferry.dev/ferry/internal/traffic"
	"ferry.dev/ferry/internal/traffic/proxy"
)

// guardEnv is a migration over real traffic through the proxy to three legacy
// servers, which the proxy health-checks, and one Kubernetes backend.
type guardEnv struct {
	legacy []*migratetest.Backend
	kube   *migratetest.Backend
	proxy  *proxy.Proxy
	hook   *receiver
	cfg    migrate.Config
	log    *eventLog
}

const guardPlan = `name: guard
steps:
- {weight: 10, hold: 1s}
- {weight: 80, hold: 1s}
- {weight: 100, hold: 1s}
router: {proxy: {admin: "http://%s"}}
metrics: {proxy: {}}
interval: 200ms
warmup: 1500ms
deadline: 60s
final: {control: 10%%}
gates:
  errorRate: {minAbsolute: 0.02}
  disable: [latency, endpoints]
notify: [{webhook: %s}]
%s`

func newGuardEnv(t *testing.T, extra string) *guardEnv {
	t.Helper()
	e := &guardEnv{kube: migratetest.NewBackend(t, 0, time.Millisecond, 3*time.Millisecond), hook: newReceiver(t), log: &eventLog{}}
	for range 3 {
		e.legacy = append(e.legacy, migratetest.NewBackend(t, 0, time.Millisecond, 3*time.Millisecond))
	}
	e.proxy = migratetest.StartProxyHealthChecked(t, e.legacy, e.kube)
	p, err := plan.Parse(fmt.Appendf(nil, guardPlan, e.proxy.AdminAddr(), e.hook.URL, extra), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if e.cfg, err = providers.Config(context.Background(), p, providers.Options{}); err != nil {
		t.Fatal(err)
	}
	e.cfg.OnEvent = e.log.add
	load := migratetest.StartLoad(migratetest.URL(e.proxy), 300)
	t.Cleanup(load.Stop)
	return e
}

// setLegacyDown takes the second and third legacy servers out or back and waits
// until the proxy's health checks see it.
func (e *guardEnv) setLegacyDown(t *testing.T, down bool) {
	t.Helper()
	for _, b := range e.legacy[1:] {
		b.SetDown(down)
	}
	want := map[bool]int{true: 1, false: 3}[down]
	devclustertest.WaitFor(t, 30*time.Second, fmt.Sprintf("the proxy to see %d of 3 legacy servers healthy", want), func(context.Context) (bool, error) {
		return e.proxy.CapacityReport().Capacity().Healthy == want, nil
	})
}

// run is a migration running in the background.
type run struct {
	stop context.CancelFunc
	done chan struct{} // closed when it has ended, with err
	err  error
}

// start runs the migration until it ends or the test stops it.
func (e *guardEnv) start(t *testing.T) *run {
	ctx, cancel := context.WithTimeout(context.Background(), devclustertest.Patience(t, 2*time.Minute))
	r := &run{stop: cancel, done: make(chan struct{})}
	go func() { _, r.err = migrate.Start(ctx, e.cfg); close(r.done) }()
	t.Cleanup(func() { cancel(); <-r.done })
	return r
}

// wait waits for the run to end and returns its error.
func (r *run) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-r.done:
		return r.err
	case <-time.After(devclustertest.Patience(t, time.Minute)):
		t.Fatal("the run did not end within the test's patience")
		return nil
	}
}

// recorded waits until the recorded state's guard finding contains s, and returns it.
func (e *guardEnv) recorded(t *testing.T, s string) *migrate.State {
	t.Helper()
	var st *migrate.State
	devclustertest.WaitFor(t, 30*time.Second, "the state to record "+s, func(ctx context.Context) (bool, error) {
		var err error
		st, err = e.cfg.Store.Load(ctx)
		return err == nil && strings.Contains(st.Guard, s), nil
	})
	return st
}

func (e *guardEnv) weights(t *testing.T) traffic.Weights {
	t.Helper()
	w, err := e.proxy.Weights(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// With two of three legacy servers down, the step up holds and says why; once they
// are back, it goes on.
func TestGuardHoldsAStepUpWhileLegacyCouldNotTakeAnAbort(t *testing.T) {
	e := newGuardEnv(t, "")
	e.setLegacyDown(t, true)
	r := e.start(t)
	hold := e.log.wait(t, r, "legacy has 1 of 3 servers healthy: it could take")
	for _, want := range []string{"an abort from the next step would send it 100%", "holding at 10%"} {
		if !strings.Contains(hold, want) {
			t.Errorf("hold %q does not say %q", hold, want)
		}
	}
	if w := e.weights(t); w.Kubernetes != 1000 {
		t.Fatalf("the proxy is at %s while the step up holds, want kubernetes 10%%", w)
	}
	// The line is logged as the state is saved: wait for the record.
	st := e.recorded(t, "legacy has 1 of 3 servers healthy: it could take")
	if st.Step != 0 || st.Phase != migrate.PhaseRunning {
		t.Errorf("recorded %s at step %d; want step 1 held", st.Phase, st.Step+1)
	}
	e.setLegacyDown(t, false)
	e.log.wait(t, r, "step 2:")
	r.stop()
}

// An abort while two of three legacy servers are down sends legacy what it can take,
// alerts and says so; as the servers come back it finishes at 0 %.
func TestGuardedAbortSendsBackWhatLegacyCanTake(t *testing.T) {
	e := newGuardEnv(t, "")
	r := e.start(t)
	e.log.wait(t, r, "weights applied: legacy 20%")
	e.setLegacyDown(t, true)
	e.kube.SetErrorRate(0.5)
	limited := e.log.wait(t, r, "abort limited: legacy has 1 of 3 servers healthy")
	w := e.weights(t)
	if w.Legacy <= 2000 || w.Legacy >= traffic.Total {
		t.Fatalf("the limited abort left the proxy at %s: want legacy above its 20%% and below 100%%", w)
	}
	if want := "so the abort sends it " + traffic.FormatPercent(w.Legacy); !strings.Contains(limited, want) {
		t.Errorf("the log says %q, want it to say %q", limited, want)
	}
	st := e.recorded(t, "abort limited: legacy has 1 of 3 servers healthy")
	if st.Phase != migrate.PhaseAborting || st.Applied.Legacy <= 2000 || st.Applied.Kubernetes == 0 {
		t.Errorf("recorded %s at %s; want aborting, legacy above 20%% and below 100%%", st.Phase, st.Applied)
	}
	devclustertest.WaitFor(t, 30*time.Second, "the abort-limited alert", func(context.Context) (bool, error) { return len(e.hook.got()) > 0, nil })
	if n := e.hook.got()[0]; n.Event != "abort-limited" || n.Weights != w || !strings.Contains(n.Reason, "abort limited: legacy has 1 of 3") {
		t.Errorf("first notice %+v: want abort-limited at %s saying why", n, w)
	}

	e.setLegacyDown(t, false)
	if err := r.wait(t); !errors.Is(err, migrate.ErrAborted) {
		t.Fatalf("run ended with %v, want an abort", err)
	}
	if w := e.weights(t); w.Kubernetes != 0 {
		t.Errorf("after legacy recovered the proxy is at %s, want all legacy", w)
	}
	notices := e.hook.got()
	if last := notices[len(notices)-1]; last.Event != "aborted" || last.Weights.Kubernetes != 0 {
		t.Errorf("last notice %+v: want aborted with all traffic on legacy", last)
	}
	for _, n := range notices[:len(notices)-1] {
		if n.Event != "abort-limited" {
			t.Errorf("notice %+v before the end: want only the one abort-limited alert", n)
		}
	}
	if len(notices) != 2 {
		t.Errorf("%d notices, want the abort-limited alert and the abort", len(notices))
	}
}

// With guard.legacyCapacity false, a migration steps up and aborts as it did
// before the guard: two of three legacy servers down change nothing.
func TestGuardOffKeepsTheOldBehaviour(t *testing.T) {
	e := newGuardEnv(t, "guard: {legacyCapacity: false}\n")
	if e.cfg.Capacity != nil {
		t.Fatal("the plan turned the guard off, yet the run has a capacity source")
	}
	e.setLegacyDown(t, true)
	r := e.start(t)
	e.log.wait(t, r, "weights applied: legacy 20%")
	e.kube.SetErrorRate(0.5)
	if err := r.wait(t); !errors.Is(err, migrate.ErrAborted) {
		t.Fatalf("run ended with %v, want an abort", err)
	}
	if w := e.weights(t); w.Kubernetes != 0 {
		t.Errorf("the abort left the proxy at %s, want all legacy", w)
	}
	for _, line := range e.log.all() {
		if strings.Contains(line, "legacy has") {
			t.Errorf("the guard spoke while off: %q", line)
		}
	}
}

// eventLog keeps the lines a run logs, for tests to wait on.
type eventLog struct {
	mu    sync.Mutex
	lines []string
	more  chan struct{} // closed and replaced at each line
}

func (l *eventLog) add(ev migrate.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, ev.Message)
	if l.more != nil {
		close(l.more)
		l.more = nil
	}
}

func (l *eventLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// wait returns the first line logged that contains s, waiting for it; it fails the
// test when the run ends first or nothing comes within the test's patience.
func (l *eventLog) wait(t *testing.T, r *run, s string) string {
	t.Helper()
	patience := devclustertest.Patience(t, time.Minute)
	timeout := time.After(patience)
	for {
		l.mu.Lock()
		for _, line := range l.lines {
			if strings.Contains(line, s) {
				l.mu.Unlock()
				return line
			}
		}
		if l.more == nil {
			l.more = make(chan struct{})
		}
		more := l.more
		l.mu.Unlock()
		select {
		case <-more:
		case <-r.done:
			t.Fatalf("the run ended (%v) before it logged %q; it logged %q", r.err, s, l.all())
		case <-timeout:
			t.Fatalf("no line with %q within %s; logged %q", s, patience.Round(time.Second), l.all())
		}
	}
}
