package release

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ferry.dev/ferry/internal/app"
	"ferry.dev/ferry/internal/kube"
)

// Config is what every release operation needs.
type Config struct {
	Client *kube.Client
	Def    *app.Definition
	// Store keeps revisions; default a SecretStore in the app's namespace.
	Store Store
	// Progress receives live progress lines; nil discards them.
	Progress io.Writer
	// User and GitCommit are recorded with each revision.
	User      string
	GitCommit string
	// NoWait fails at once with kube.ErrLocked when another deploy of the app runs.
	NoWait bool
	// Timeout overrides the definition's health timeout when positive.
	Timeout time.Duration
	// LeaseDuration overrides how long the deploy lock outlives a dead holder.
	LeaseDuration time.Duration
	// CreateNamespace creates the app's namespace when it does not exist.
	CreateNamespace bool
}

func (c *Config) complete() {
	if c.Store == nil {
		c.Store = &SecretStore{Client: c.Client.Clientset, Namespace: c.Def.Namespace}
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if c.Timeout <= 0 {
		c.Timeout = c.Def.Health.Timeout
	}
}

// session is one operation holding the app's deploy lock.
type session struct {
	cfg     Config
	held    *kube.Held
	history []*Release
}

func (s *session) printf(format string, args ...any) { fmt.Fprintf(s.cfg.Progress, format, args...) }

// lockName is the Lease that serializes an app's deploys and rollbacks.
func lockName(app string) string { return "ferry-deploy-" + app }

// withSession takes the app's lock (waiting unless NoWait), marks revisions left
// pending by a dead process as interrupted, runs fn, and frees the lock. If the lock
// is lost, fn's context is cancelled.
func withSession(ctx context.Context, cfg Config, what string, fn func(context.Context, *session) error) error {
	cfg.complete()
	if err := checkNamespace(ctx, cfg); err != nil {
		return err
	}
	host, _ := os.Hostname()
	nonce := make([]byte, 3)
	_, _ = rand.Read(nonce)
	lock := &kube.Lock{
		Client: cfg.Client, Namespace: cfg.Def.Namespace, Name: lockName(cfg.Def.App),
		Identity: fmt.Sprintf("%s@%s pid %d %s (%s)", cfg.User, host, os.Getpid(), hex.EncodeToString(nonce), what),
		Duration: cfg.LeaseDuration,
	}
	held, err := lock.Acquire(ctx, !cfg.NoWait, func(h kube.Holder) {
		fmt.Fprintf(cfg.Progress, "waiting for the deploy lock of %s, held by %s since %s\n", cfg.Def.App, h.Identity, h.Since.Format(time.TimeOnly))
	})
	if err != nil {
		return err
	}
	defer func() {
		releaseCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := held.Release(releaseCtx); err != nil {
			fmt.Fprintf(cfg.Progress, "warning: %v (it expires on its own)\n", err)
		}
	}()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case <-held.Lost():
			cancel(errors.New("lost the deploy lock: another process may have taken it"))
		case <-ctx.Done():
		}
	}()
	s := &session{cfg: cfg, held: held}
	if err := s.load(ctx); err != nil {
		return err
	}
	if err := s.recoverInterrupted(ctx); err != nil {
		return err
	}
	return fn(ctx, s)
}

func checkNamespace(ctx context.Context, cfg Config) error {
	_, err := cfg.Client.Clientset.CoreV1().Namespaces().Get(ctx, cfg.Def.Namespace, metaGet)
	if err == nil {
		return nil
	}
	if isNotFound(err) && cfg.CreateNamespace {
		_, err = cfg.Client.Clientset.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name: cfg.Def.Namespace, Labels: map[string]string{LabelManagedBy: ManagedBy},
		}}, metav1.CreateOptions{})
		if err == nil || apierrors.IsAlreadyExists(err) {
			fmt.Fprintf(cfg.Progress, "created namespace %s\n", cfg.Def.Namespace)
			return nil
		}
		return fmt.Errorf("create namespace %s: %w", cfg.Def.Namespace, kube.APIError{Err: err})
	}
	if isNotFound(err) {
		return fmt.Errorf("namespace %q does not exist: create it first, or pass --create-namespace", cfg.Def.Namespace)
	}
	return kube.Explain(cfg.Client.Config.Host, err)
}

func (s *session) load(ctx context.Context) error {
	h, err := s.cfg.Store.List(ctx, s.cfg.Def.App)
	if err != nil {
		return err
	}
	s.history = sortedByRevision(h)
	return nil
}

// recoverInterrupted marks pending revisions as interrupted: holding the lock means
// whoever left them pending is gone.
func (s *session) recoverInterrupted(ctx context.Context) error {
	for _, r := range s.history {
		if r.Status != StatusPending {
			continue
		}
		r.Status = StatusInterrupted
		r.Finished = time.Now().UTC()
		r.Reason = "the process deploying it stopped before it finished"
		if err := s.cfg.Store.Update(ctx, r); err != nil {
			return err
		}
		s.printf("revision %d was left pending by a process that stopped; marked interrupted\n", r.Revision)
	}
	return nil
}

// finish records a revision's final status with a context that survives the
// operation's cancellation, so nothing is left pending when the user interrupts.
// The writes touch different Secrets and no order of them leaves a wrong history
// (the newest good revision is the current one whatever the others say), so they go
// at once: the deploy ends one round trip after it is healthy, not four or six.
func (s *session) finish(r *Release, status Status, reason string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	r.Status, r.Reason, r.Finished = status, reason, time.Now().UTC()
	updates := []*Release{r}
	if status == StatusDeployed {
		for _, old := range s.history {
			if old.Status == StatusDeployed && old.Revision != r.Revision {
				old.Status = StatusSuperseded
				updates = append(updates, old)
			}
		}
	}
	expired := map[int]bool{}
	var writes []func() error
	for _, old := range Expired(s.history, s.cfg.Def.History.Limit) {
		expired[old.Revision] = true
		writes = append(writes, func() error { return s.cfg.Store.Delete(ctx, old.App, old.Revision) })
	}
	for _, u := range updates {
		if !expired[u.Revision] { // no use rewriting what is being deleted
			writes = append(writes, func() error { return s.cfg.Store.Update(ctx, u) })
		}
	}
	errs := make([]error, len(writes))
	var wg sync.WaitGroup
	for i, write := range writes {
		wg.Go(func() { errs[i] = write() })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
