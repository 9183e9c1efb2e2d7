package migratetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/traffic"
)

// TestStore checks that a migrate.Store keeps the promises its interface documents.
// newStore returns an empty store of its own for each subtest. Every Store
// implementation runs it in its tests.
func TestStore(t *testing.T, newStore func(t *testing.T) migrate.Store) {
	for _, tc := range []struct {
		name string
		test func(t *testing.T, s migrate.Store)
	}{
		{"nothing recorded", testNothingRecorded},
		{"save and load", testSaveLoad},
		{"a save based on a stale load conflicts", testStaleSave},
		{"of concurrent saves on one version one wins", testConcurrentSaves},
		{"one lock holder at a time", testLock},
		{"requests queue in order", testRequestOrder},
		{"requests are taken once", testRequestsTakenOnce},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, newStore(t)) })
	}
}

var (
	ctx = context.Background()
	t0  = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
)

func state(step int) *migrate.State {
	return &migrate.State{
		Name: "shop", Run: "run-1", Phase: migrate.PhaseRunning, Step: step,
		StepStarted: t0.Add(time.Duration(step) * time.Minute),
		Target:      traffic.KubernetesShare(500 * (step + 1)), Applied: traffic.KubernetesShare(500 * step),
		Reason: fmt.Sprintf("step %d", step), Started: t0, Updated: t0.Add(time.Hour),
		Events: []migrate.Event{{Time: t0, Message: "migration shop started: 5 steps"}},
	}
}

// same compares what a store must keep of a state.
func same(a, b *migrate.State) bool {
	return a.Name == b.Name && a.Run == b.Run && a.Phase == b.Phase && a.Step == b.Step &&
		a.StepStarted.Equal(b.StepStarted) && a.Target == b.Target && a.Applied == b.Applied &&
		a.Reason == b.Reason && a.Started.Equal(b.Started) && a.Updated.Equal(b.Updated) &&
		slices.EqualFunc(a.Events, b.Events, func(x, y migrate.Event) bool { return x.Time.Equal(y.Time) && x.Message == y.Message })
}

func mustLoad(t *testing.T, s migrate.Store) *migrate.State {
	t.Helper()
	st, err := s.Load(ctx)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return st
}

func mustSave(t *testing.T, s migrate.Store, st *migrate.State) {
	t.Helper()
	if err := s.Save(ctx, st); err != nil {
		t.Fatalf("save at version %q: %v", st.Version, err)
	}
}

func testNothingRecorded(t *testing.T, s migrate.Store) {
	if st, err := s.Load(ctx); !errors.Is(err, migrate.ErrNoMigration) {
		t.Fatalf("load of an empty store: %+v, %v; want ErrNoMigration", st, err)
	}
	if reqs, err := s.TakeRequests(ctx); err != nil || len(reqs) != 0 {
		t.Fatalf("requests of an empty store: %v, %v; want none", reqs, err)
	}
}

func testSaveLoad(t *testing.T, s migrate.Store) {
	st := state(0)
	mustSave(t, s, st)
	if st.Version == "" {
		t.Fatal("save left the version empty")
	}
	got := mustLoad(t, s)
	if !same(got, st) || got.Version != st.Version {
		t.Fatalf("loaded %+v\nsaved  %+v", got, st)
	}
	next := state(1)
	next.Version = got.Version
	mustSave(t, s, next)
	if next.Version == got.Version {
		t.Fatalf("the version stayed %q across a save", next.Version)
	}
	if got := mustLoad(t, s); !same(got, next) || got.Version != next.Version {
		t.Fatalf("after the second save: loaded %+v, want %+v", got, next)
	}
}

func testStaleSave(t *testing.T, s migrate.Store) {
	mustSave(t, s, state(0))
	a, b := mustLoad(t, s), mustLoad(t, s)
	a.Step, a.Reason = 1, "saved first"
	mustSave(t, s, a)
	b.Step, b.Reason = 2, "saved on a stale load"
	stale := b.Version
	if err := s.Save(ctx, b); !errors.Is(err, migrate.ErrConflict) {
		t.Fatalf("save on a stale load: %v, want ErrConflict", err)
	}
	if b.Version != stale {
		t.Errorf("a failed save changed the version from %q to %q", stale, b.Version)
	}
	if got := mustLoad(t, s); !same(got, a) {
		t.Fatalf("after the conflict the store has %+v, want the first save's %+v", got, a)
	}
	// A fresh state (no version) must not replace a recorded one either.
	if err := s.Save(ctx, state(3)); !errors.Is(err, migrate.ErrConflict) {
		t.Fatalf("save without a version over a recorded state: %v, want ErrConflict", err)
	}
	// Reloaded, the loser can save.
	b = mustLoad(t, s)
	b.Step = 2
	mustSave(t, s, b)
}

func testConcurrentSaves(t *testing.T, s migrate.Store) {
	mustSave(t, s, state(0))
	base := mustLoad(t, s)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := *base
			st.Step, st.Reason = i+1, fmt.Sprintf("writer %d", i)
			errs[i] = s.Save(ctx, &st)
		}()
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("writers %d and %d both saved on version %q", won, i, base.Version)
		case err == nil:
			won = i
		case !errors.Is(err, migrate.ErrConflict):
			t.Fatalf("writer %d: %v, want success or ErrConflict", i, err)
		}
	}
	if won < 0 {
		t.Fatal("no writer saved")
	}
	if got := mustLoad(t, s); got.Reason != fmt.Sprintf("writer %d", won) {
		t.Fatalf("store has %q, want the winner's (writer %d)", got.Reason, won)
	}
}

func testLock(t *testing.T, s migrate.Store) {
	unlock, err := s.Lock(ctx)
	if err != nil {
		t.Fatalf("first lock: %v", err)
	}
	if again, err := s.Lock(ctx); !errors.Is(err, migrate.ErrRunnerActive) {
		if again != nil {
			again()
		}
		t.Fatalf("second lock while held: %v, want ErrRunnerActive", err)
	}
	unlock()
	unlock, err = s.Lock(ctx)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock()
}

func testRequestOrder(t *testing.T, s migrate.Store) {
	// Put out of order; two alike (same action and time) must both stay.
	put := []migrate.Request{
		{ID: "c", Action: "abort", Reason: "saw errors", Run: "run-1", At: t0.Add(2 * time.Second)},
		{ID: "a", Action: "pause", Run: "run-1", At: t0},
		{ID: "b2", Action: "promote", Run: "run-0", At: t0.Add(time.Second)},
		{ID: "b1", Action: "promote", Run: "run-0", At: t0.Add(time.Second)},
	}
	for _, r := range put {
		if err := s.PutRequest(ctx, r); err != nil {
			t.Fatalf("put %s: %v", r.ID, err)
		}
	}
	got, err := s.TakeRequests(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []migrate.Request{put[1], put[3], put[2], put[0]}
	if !slices.EqualFunc(got, want, func(x, y migrate.Request) bool {
		return x.ID == y.ID && x.Action == y.Action && x.Reason == y.Reason && x.Run == y.Run && x.At.Equal(y.At)
	}) {
		t.Fatalf("took %+v\nwant %+v (oldest first, then by id)", got, want)
	}
	if again, err := s.TakeRequests(ctx); err != nil || len(again) != 0 {
		t.Fatalf("second take: %+v, %v; want nothing", again, err)
	}
}

func testRequestsTakenOnce(t *testing.T, s migrate.Store) {
	const n, takers = 20, 4
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := migrate.Request{ID: fmt.Sprintf("r%02d", i), Action: "pause", Run: "run-1", At: t0.Add(time.Duration(i) * time.Millisecond)}
			if err := s.PutRequest(ctx, r); err != nil {
				t.Errorf("put %s: %v", r.ID, err)
			}
		}()
	}
	wg.Wait()
	var mu sync.Mutex
	seen := map[string]int{}
	for range takers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 2 {
				reqs, err := s.TakeRequests(ctx)
				if err != nil {
					t.Errorf("take: %v", err)
				}
				mu.Lock()
				for _, r := range reqs {
					seen[r.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("took %d distinct requests of %d", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("request %s was taken %d times", id, k)
		}
	}
}

// TestStoreReplacesUnreadable checks the promise of Load and Save about a record that
// cannot be read as a state: Load reports it, wrapping migrate.ErrUnusableState, with
// the record's version, and only a Save at that version replaces it. spoil makes the
// store's record unreadable, as a crash or a hand edit would. Every Store
// implementation runs it beside TestStore.
func TestStoreReplacesUnreadable(t *testing.T, newStore func(t *testing.T) migrate.Store, spoil func(t *testing.T, s migrate.Store)) {
	s := newStore(t)
	before := state(0)
	mustSave(t, s, before)
	spoil(t, s)
	bad, err := s.Load(ctx)
	if !errors.Is(err, migrate.ErrUnusableState) || bad == nil || bad.Version == "" || bad.Version == before.Version {
		t.Fatalf("load of an unreadable record: %+v, %v; want ErrUnusableState and the record's own version", bad, err)
	}
	if err := s.Save(ctx, state(1)); !errors.Is(err, migrate.ErrConflict) {
		t.Fatalf("save without a version over an unreadable record: %v, want ErrConflict", err)
	}
	stale := state(1)
	stale.Version = before.Version
	if err := s.Save(ctx, stale); !errors.Is(err, migrate.ErrConflict) {
		t.Fatalf("save at the version before the record was spoiled: %v, want ErrConflict", err)
	}
	fresh := state(2)
	fresh.Version = bad.Version
	mustSave(t, s, fresh)
	if got := mustLoad(t, s); !same(got, fresh) {
		t.Fatalf("after replacing the unreadable record: loaded %+v, want %+v", got, fresh)
	}
	stale.Version = before.Version
	if err := s.Save(ctx, stale); !errors.Is(err, migrate.ErrConflict) {
		t.Fatalf("save at the version before the record was spoiled, after its replacement: %v, want ErrConflict", err)
	}
}
