package kube

import (
	"context"
	"errors"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// ErrLocked means the lock is held by someone else and the caller chose not to wait.
var ErrLocked = errors.New("locked")

// Defaults for Lock.
const (
	DefaultLeaseDuration = 15 * time.Second
	DefaultRenewInterval = 3 * time.Second
)

// Lock is a mutex on a coordination.k8s.io Lease: one holder at a time, renewed
// while held, and free for the taking once its holder stops renewing it (a killed
// process) for longer than Duration.
type Lock struct {
	Client    *Client
	Namespace string
	Name      string
	// Identity says who holds the lock, for whoever waits for it.
	Identity string
	// Duration is how long the lease lasts without renewal.
	Duration time.Duration
	// RenewInterval is how often a held lease is renewed.
	RenewInterval time.Duration
}

// Holder describes the current holder of a lock.
type Holder struct {
	Identity string
	Since    time.Time
}

// Held is an acquired lock.
type Held struct {
	lock   *Lock
	cancel context.CancelFunc
	lost   chan struct{}
	done   chan struct{}
	// last is the lease as this holder last wrote it, owned by the renewing goroutine
	// until done is closed.
	last *coordinationv1.Lease
}

// Acquire takes the lock. When it is held and wait is false, it returns ErrLocked
// with the holder; when wait is true it calls onWait once with the holder and retries
// until ctx ends.
func (l *Lock) Acquire(ctx context.Context, wait bool, onWait func(Holder)) (*Held, error) {
	if l.Duration <= 0 {
		l.Duration = DefaultLeaseDuration
	}
	if l.RenewInterval <= 0 {
		l.RenewInterval = DefaultRenewInterval
	}
	told := false
	for {
		lease, holder, err := l.tryAcquire(ctx)
		if err == nil {
			return l.hold(lease), nil
		}
		if !errors.Is(err, ErrLocked) {
			return nil, err
		}
		if !wait {
			return nil, fmt.Errorf("%w by %s since %s", ErrLocked, holder.Identity, holder.Since.Format(time.RFC3339))
		}
		if !told && onWait != nil {
			onWait(holder)
			told = true
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the lock held by %s: %w", holder.Identity, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// tryAcquire creates or takes over the lease once and returns it as written;
// ErrLocked with the holder when it is held and fresh. Optimistic concurrency makes
// concurrent takers race safely.
func (l *Lock) tryAcquire(ctx context.Context) (*coordinationv1.Lease, Holder, error) {
	leases := l.Client.Clientset.CoordinationV1().Leases(l.Namespace)
	now := metav1.NewMicroTime(time.Now())
	lease, err := leases.Get(ctx, l.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		created, err := leases.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: l.Name, Labels: map[string]string{"app.kubernetes.io/managed-by": "ferry"}},
			Spec:       l.spec(now, 0),
		}, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return nil, Holder{Identity: "another ferry", Since: now.Time}, ErrLocked
		}
		if err != nil {
			return nil, Holder{}, fmt.Errorf("create lease %s/%s: %w", l.Namespace, l.Name, APIError{err})
		}
		return created, Holder{}, nil
	}
	if err != nil {
		return nil, Holder{}, fmt.Errorf("get lease %s/%s: %w", l.Namespace, l.Name, APIError{err})
	}
	if holder, held := leaseHolder(lease, time.Now()); held {
		return nil, holder, ErrLocked
	}
	transitions := ptr.Deref(lease.Spec.LeaseTransitions, 0) + 1
	lease.Spec = l.spec(now, transitions)
	taken, err := leases.Update(ctx, lease, metav1.UpdateOptions{})
	if err != nil {
		if apierrors.IsConflict(err) {
			return nil, Holder{Identity: "another ferry", Since: now.Time}, ErrLocked
		}
		return nil, Holder{}, fmt.Errorf("take lease %s/%s: %w", l.Namespace, l.Name, APIError{err})
	}
	return taken, Holder{}, nil
}

// leaseHolder says who holds the lease and whether that hold is still live at now.
func leaseHolder(lease *coordinationv1.Lease, now time.Time) (Holder, bool) {
	s := lease.Spec
	identity := ptr.Deref(s.HolderIdentity, "")
	if identity == "" || s.RenewTime == nil {
		return Holder{}, false
	}
	h := Holder{Identity: identity}
	if s.AcquireTime != nil {
		h.Since = s.AcquireTime.Time
	}
	expires := s.RenewTime.Add(time.Duration(ptr.Deref(s.LeaseDurationSeconds, 0)) * time.Second)
	return h, now.Before(expires)
}

func (l *Lock) spec(now metav1.MicroTime, transitions int32) coordinationv1.LeaseSpec {
	return coordinationv1.LeaseSpec{
		HolderIdentity:       ptr.To(l.Identity),
		LeaseDurationSeconds: ptr.To(int32(l.Duration / time.Second)),
		AcquireTime:          &now,
		RenewTime:            &now,
		LeaseTransitions:     ptr.To(transitions),
	}
}

func (l *Lock) hold(lease *coordinationv1.Lease) *Held {
	ctx, cancel := context.WithCancel(context.Background())
	h := &Held{lock: l, cancel: cancel, lost: make(chan struct{}), done: make(chan struct{}), last: lease}
	go h.renew(ctx)
	return h
}

// Lost is closed when the lease could not be renewed before it expired: someone
// else may hold it now, so the holder must stop.
func (h *Held) Lost() <-chan struct{} { return h.lost }

func (h *Held) renew(ctx context.Context) {
	defer close(h.done)
	leases := h.lock.Client.Clientset.CoordinationV1().Leases(h.lock.Namespace)
	lastRenew := time.Now()
	tick := time.NewTicker(h.lock.RenewInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		callCtx, cancel := context.WithTimeout(ctx, h.lock.renewTimeout(time.Since(lastRenew)))
		err := h.renewOnce(callCtx, leases)
		cancel()
		if err == nil {
			lastRenew = time.Now()
			continue
		}
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, ErrLocked) || time.Since(lastRenew) > h.lock.Duration {
			close(h.lost)
			return
		}
	}
}

// renewTimeout is how long a renewal may take, sinceRenew after the last one: until
// the lease would run out, and at least one renew interval. Cutting each call at the
// renew interval instead gave a holder on a busy API server (calls slower than the
// interval, well within the lease) no renewal at all, and so lost it the lock.
func (l *Lock) renewTimeout(sinceRenew time.Duration) time.Duration {
	return max(l.Duration-sinceRenew, l.RenewInterval)
}

func (h *Held) renewOnce(ctx context.Context, leases interface {
	Get(context.Context, string, metav1.GetOptions) (*coordinationv1.Lease, error)
	Update(context.Context, *coordinationv1.Lease, metav1.UpdateOptions) (*coordinationv1.Lease, error)
}) error {
	lease, err := leases.Get(ctx, h.lock.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if ptr.Deref(lease.Spec.HolderIdentity, "") != h.lock.Identity {
		return ErrLocked
	}
	now := metav1.NewMicroTime(time.Now())
	lease.Spec.RenewTime = &now
	renewed, err := leases.Update(ctx, lease, metav1.UpdateOptions{})
	if err == nil {
		h.last = renewed
	}
	return err
}

// Release stops renewing and frees the lease, if it is still ours, so the next
// waiter goes at once instead of after expiry. It writes over the lease as this
// holder last wrote it, in one round trip; only if it changed since (a conflict) does
// it read it again to see whether it is still ours.
func (h *Held) Release(ctx context.Context) error {
	h.cancel()
	<-h.done
	leases := h.lock.Client.Clientset.CoordinationV1().Leases(h.lock.Namespace)
	lease := h.last
	for read := false; ; read = true {
		if lease == nil || read {
			var err error
			if lease, err = leases.Get(ctx, h.lock.Name, metav1.GetOptions{}); err != nil {
				return fmt.Errorf("release lease: %w", APIError{err})
			}
		}
		if ptr.Deref(lease.Spec.HolderIdentity, "") != h.lock.Identity {
			return nil
		}
		free := lease.DeepCopy()
		free.Spec.HolderIdentity = ptr.To("")
		free.Spec.RenewTime = nil
		_, err := leases.Update(ctx, free, metav1.UpdateOptions{})
		if err == nil {
			return nil
		}
		if !apierrors.IsConflict(err) || read {
			return fmt.Errorf("release lease: %w", APIError{err})
		}
	}
}
