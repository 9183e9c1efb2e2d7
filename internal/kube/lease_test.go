package kube_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
	ns, err := c.Clientset.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "kube-test-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Clientset.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
	})
	return c, ns.Name
}

func TestLockIsExclusiveReleasableAndExpires(t *testing.T) {
	c, ns := newClient(t)
	ctx := context.Background()
	lock := func(id string) *kube.Lock {
		return &kube.Lock{Client: c, Namespace: ns, Name: "l", Identity: id, Duration: 2 * time.Second, RenewInterval: 500 * time.Millisecond}
	}
	a, err := lock("a").Acquire(ctx, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Held and renewed: b cannot take it, even after the lease duration has passed.
	time.Sleep(2500 * time.Millisecond)
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
	waitCtx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if _, err := lock("c").Acquire(waitCtx, true, func(h kube.Holder) { told = append(told, h.Identity) }); err == nil {
		t.Fatal("c acquired a held lock")
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
	dead := &kube.Lock{Client: c, Namespace: ns, Name: "l", Identity: "dead", Duration: 2 * time.Second, RenewInterval: time.Hour}
	deadHeld, err := dead.Acquire(ctx, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Never renewed (interval of an hour): after two seconds it is free.
	start := time.Now()
	next := &kube.Lock{Client: c, Namespace: ns, Name: "l", Identity: "next", Duration: 2 * time.Second}
	held, err := next.Acquire(ctx, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release(ctx)
	if waited := time.Since(start); waited < time.Second || waited > 6*time.Second {
		t.Fatalf("took over after %s, want about the lease duration", waited)
	}
	// The dead holder coming back and releasing must not free the new holder's lease.
	if err := deadHeld.Release(ctx); err != nil {
		t.Fatalf("release of a lease taken over: %v", err)
	}
	if _, err := (&kube.Lock{Client: c, Namespace: ns, Name: "l", Identity: "third"}).Acquire(ctx, false, nil); !errors.Is(err, kube.ErrLocked) || !strings.Contains(err.Error(), "by next") {
		t.Fatalf("after the old holder's release: %v, want ErrLocked by next", err)
	}
}
