package release

import (
	"context"
	"errors"
	"fmt"
	"os/user"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"ferry.dev/ferry/internal/health"
	"ferry.dev/ferry/internal/kube"
)

var metaGet = metav1.GetOptions{}

func isNotFound(err error) bool { return apierrors.IsNotFound(err) }

// Labels ferry puts on every object it applies.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedBy      = "ferry"
)

// DefaultUser is the current OS user's name, for the record.
func DefaultUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}

// label marks objects as ferry's and the app's, so pruning only ever deletes what
// ferry applied for this app.
func label(objs []*unstructured.Unstructured, app string) {
	for _, obj := range objs {
		l := obj.GetLabels()
		if l == nil {
			l = map[string]string{}
		}
		l[LabelManagedBy] = ManagedBy
		l[LabelApp] = app
		obj.SetLabels(l)
	}
}

// dryRun validates every object with the API server without changing anything, and
// returns the Jobs to re-create because their pod template changed. Objects in a
// namespace the same manifests create are accepted unchecked there.
func (s *session) dryRun(ctx context.Context, objs []*unstructured.Unstructured) (replacements, error) {
	creates := map[string]bool{}
	for _, obj := range objs {
		if obj.GetKind() == "Namespace" {
			creates[obj.GetName()] = true
		}
	}
	replace := replacements{}
	var rejected []string
	for _, obj := range objs {
		_, err := s.cfg.Client.Apply(ctx, obj, true)
		if err == nil {
			continue
		}
		if apierrors.IsNotFound(err) && creates[obj.GetNamespace()] {
			continue
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		ok, err := s.checkReplace(ctx, obj, err)
		if ok {
			replace[kube.RefOf(obj).Key()] = true
			continue
		}
		rejected = append(rejected, err.Error())
	}
	if len(rejected) > 0 {
		return nil, rejectedError(rejected)
	}
	s.printf("  dry run: %d objects accepted\n", len(objs))
	return replace, nil
}

// record creates a new pending revision before anything is changed.
func (s *session) record(ctx context.Context, r *Release) error {
	r.App = s.cfg.Def.App
	r.Revision = NextRevision(s.history)
	r.Status = StatusPending
	r.User, r.GitCommit = s.cfg.User, s.cfg.GitCommit
	r.Started = time.Now().UTC()
	if err := s.cfg.Store.Create(ctx, r); err != nil {
		return err
	}
	s.history = append(s.history, r)
	return nil
}

// rollout applies r's manifests in dependency order (re-creating the Jobs in
// replace), prunes what earlier revisions applied and r does not contain, and waits
// until everything is healthy. It records
// the outcome; the returned error wraps ErrRolloutFailed when r did not become healthy.
func (s *session) rollout(ctx context.Context, r *Release, replace replacements) error {
	start := time.Now()
	objs := r.Manifests
	kube.SortForApply(objs)
	s.printf("  applying %d objects\n", len(objs))
	for _, obj := range objs {
		if replace[kube.RefOf(obj).Key()] {
			if err := s.replaceJob(ctx, obj); err != nil {
				return s.fail(ctx, r, fmt.Sprintf("re-create %v", err))
			}
			continue
		}
		if _, err := s.cfg.Client.Apply(ctx, obj, false); err != nil {
			return s.fail(ctx, r, fmt.Sprintf("apply %v", err))
		}
	}
	if prune := Prunable(s.history, objs); len(prune) > 0 {
		if err := s.prune(ctx, prune); err != nil {
			return s.fail(ctx, r, err.Error())
		}
	}
	refs := make([]kube.Ref, 0, len(objs))
	for _, obj := range objs {
		refs = append(refs, kube.RefOf(obj))
	}
	s.printf("  waiting for %d objects to be healthy (timeout %s)\n", len(refs), s.cfg.Timeout)
	res, err := s.cfg.Client.WaitHealthy(ctx, kube.WaitConfig{
		Objects: refs, Since: start, Timeout: s.cfg.Timeout, OnUpdate: s.showUpdate,
	})
	if err != nil {
		if res != nil {
			for _, p := range res.PodProblems {
				s.printf("    ✗ %s\n", p)
			}
		}
		return s.fail(ctx, r, err.Error())
	}
	if err := s.finish(r, StatusDeployed, r.Reason); err != nil {
		return err
	}
	s.printf("  revision %d deployed in %s\n", r.Revision, time.Since(start).Round(100*time.Millisecond))
	return nil
}

// prune deletes objects an earlier revision applied, but only if they still carry
// this app's labels: an object someone else took over is left alone.
func (s *session) prune(ctx context.Context, refs []kube.Ref) error {
	var names []string
	for _, ref := range refs {
		live, err := s.cfg.Client.Get(ctx, ref)
		if err != nil {
			if strings.Contains(err.Error(), "does not know kind") {
				continue // its CRD is gone, and so is the object
			}
			return err
		}
		if live == nil || !Owned(live.GetLabels(), s.cfg.Def.App) {
			continue
		}
		if err := s.cfg.Client.Delete(ctx, ref); err != nil {
			return err
		}
		names = append(names, ref.String())
	}
	if len(names) > 0 {
		s.printf("  pruned %s\n", strings.Join(names, ", "))
	}
	return nil
}

// fail records r as failed, or as interrupted when the context was cancelled (the
// user pressed Ctrl-C or the lock was lost), and returns the matching error.
func (s *session) fail(ctx context.Context, r *Release, reason string) error {
	status := StatusFailed
	if ctx.Err() != nil {
		status = StatusInterrupted
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			reason = cause.Error()
		} else {
			reason = "interrupted"
		}
	}
	if err := s.finish(r, status, reason); err != nil {
		return err
	}
	if status == StatusInterrupted {
		return fmt.Errorf("revision %d interrupted: %s", r.Revision, reason)
	}
	return fmt.Errorf("%w: revision %d: %s", ErrRolloutFailed, r.Revision, reason)
}

func (s *session) showUpdate(u kube.Update) {
	for _, o := range u.Changed {
		mark := " "
		switch o.Health.State {
		case health.Healthy:
			mark = "✓"
		case health.Failed:
			mark = "✗"
		}
		s.printf("    %s %-32s %s\n", mark, o.Ref.String(), o.Health.Message)
	}
	for _, w := range u.Warnings {
		s.printf("    ! %s\n", w)
	}
}
