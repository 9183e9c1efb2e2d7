package kube_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"ferry.dev/ferry/internal/devcluster/devclustertest"
	"ferry.dev/ferry/internal/kube"
)

func TestMain(m *testing.M) { devclustertest.Main(m) }

func newClient(t *testing.T) (*kube.Client, string) {
	t.Helper()
	c, err := kube.NewForConfig(devclustertest.RESTConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	return c, devclustertest.Namespace(t, c.Clientset, "kube-test")
}

// waitLease watches Lease name until cond holds for it.
func waitLease(t *testing.T, c *kube.Client, ns, name, what string, cond func(*coordinationv1.Lease) bool) *coordinationv1.Lease {
	t.Helper()
	return devclustertest.WatchFor(t, 30*time.Second, what, devclustertest.Named(c.Clientset.CoordinationV1().RESTClient(), "leases", ns, name), cond)
}

// expire moves the lease's last renewal back by more than its duration: what a
// holder that stopped renewing looks like once the duration has passed.
func expire(t *testing.T, c *kube.Client, ns, name string, duration time.Duration) {
	t.Helper()
	patch, _ := json.Marshal(map[string]any{"spec": map[string]any{"renewTime": metav1.NewMicroTime(time.Now().Add(-duration - time.Second))}})
	if _, err := c.Clientset.CoordinationV1().Leases(ns).Patch(context.Background(), name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatalf("expire lease %s: %v", name, err)
	}
}

func TestLockIsExclusiveReleasableAndExpires(t *testing.T) {
	c, ns := newClient(t)
	ctx := context.Background()
	const duration = 2 * time.Second
	lock := func(id string) *kube.Lock {
		return &kube.Lock{Client: c, Namespace: ns, Name: "l", Identity: id, Duration: duration, RenewInterval: 200 * time.Millisecond}
	}
	a, err := lock("a").Acquire(ctx, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Held and renewed: b cannot take it, even once a has held it for longer than
	// the lease lasts without renewal.
	waitLease(t, c, ns, "l", "a renewal one lease duration after the acquisition", func(l *coordinationv1.Lease) bool {
		s := l.Spec
		return s.AcquireTime != nil && s.RenewTime != nil && s.RenewTime.Sub(s.AcquireTime.Time) > duration
	})
	if _, err := lock("b").Acquire(ctx, false, nil); !errors.Is(err, kube.ErrLocked) || !strings.Contains(err.Error(), "by a") {
		t.Fatalf("second acquire: %v, want ErrLocked naming a", err)
	}
	// Released: b takes it at once, and a waiting c is told who holds it.
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := lock("b").Acquire(ctx, false, nil)
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	var told []string
	waitCtx, giveUp := context.WithCancel(ctx)
	defer giveUp()
	if _, err := lock("c").Acquire(waitCtx, true, func(h kube.Holder) { told = append(told, h.Identity); giveUp() }); !errors.Is(err, context.Canceled) {
		t.Fatalf("c waiting for a held lock: %v, want it to wait until it gives up", err)
	}
	if len(told) != 1 || told[0] != "b" {
		t.Fatalf("waiter was told %v, want [b]", told)
	}
	select {
	case <-b.Lost():
		t.Fatal("b lost a lock it renews")
	default:
	}
}

func TestLockOfADeadHolderExpires(t *testing.T) {
	c, ns := newClient(t)
	ctx := context.Background()
	// Long enough that it never runs out during the test: expire ends it.
	const duration = time.Minute
	dead := &kube.Lock{Client: c, Namespace: ns, Name: "l", Identity: "dead", Duration: duration, RenewInterval: time.Hour}
	deadHeld, err := dead.Acquire(ctx, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	next := &kube.Lock{Client: c, Namespace: ns, Name: "l", Identity: "next", Duration: duration}
	waiting := make(chan kube.Holder, 1)
	type result struct {
		held *kube.Held
		err  error
	}
	done := make(chan result, 1)
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	go func() {
		held, err := next.Acquire(waitCtx, true, func(h kube.Holder) { waiting <- h })
		done <- result{held, err}
	}()
	// Never renewed (interval of an hour), but within its duration: next waits.
	select {
	case h := <-waiting:
		if h.Identity != "dead" {
			t.Fatalf("next waits for %q, want dead", h.Identity)
		}
	case r := <-done:
		t.Fatalf("next did not wait for a live lease: %v", r.err)
	}
	// Once its duration has passed since the last renewal, next takes it over.
	expire(t, c, ns, "l", duration)
	r := <-done
	if r.err != nil {
		t.Fatalf("take over an expired lease: %v", r.err)
	}
	defer r.held.Release(ctx)
	lease := waitLease(t, c, ns, "l", "next to hold the lease", func(l *coordinationv1.Lease) bool {
		return l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity == "next"
	})
	if n := lease.Spec.LeaseTransitions; n == nil || *n != 1 {
		t.Errorf("lease transitions %v, want 1", n)
	}
	// The dead holder coming back and releasing must not free the new holder's lease.
	if err := deadHeld.Release(ctx); err != nil {
		t.Fatalf("release of a lease taken over: %v", err)
	}
	if _, err := (&kube.Lock{Client: c, Namespace: ns, Name: "l", Identity: "third"}).Acquire(ctx, false, nil); !errors.Is(err, kube.ErrLocked) || !strings.Contains(err.Error(), "by next") {
		t.Fatalf("after the old holder's release: %v, want ErrLocked by next", err)
	}
}
