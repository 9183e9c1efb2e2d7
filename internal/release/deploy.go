package release

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"ferry.dev/ferry/internal/kube"
	"ferry.dev/ferry/internal/render"
)

// DeployOptions are what one deploy changes.
type DeployOptions struct {
	// Image is the REPOSITORY:TAG to deploy.
	Image string
	// AllowMutableTag permits "latest" or no tag.
	AllowMutableTag bool
	// NoRollback leaves a failed revision in place instead of rolling back.
	NoRollback bool
	// Check, when set, vets the rendered objects before anything else happens (the
	// preflight rules); an error stops the deploy with nothing changed.
	Check func(objs []*unstructured.Unstructured) error
}

// Result is what a deploy or rollback did.
type Result struct {
	// Release is the revision the command made.
	Release Summary `json:"release"`
	// RolledBack is the automatic rollback made after Release failed, if any.
	RolledBack *Summary `json:"rolledBack,omitempty"`
}

// Render renders the app's manifests with image set, labelled as ferry's, with
// namespaces filled in from the cluster's API: exactly what a deploy would apply.
func Render(cfg Config, image string) ([]*unstructured.Unstructured, error) {
	objs, err := render.Source(cfg.Def)
	if err != nil {
		return nil, err
	}
	if err := render.SetImage(objs, cfg.Def.Image.Containers, image); err != nil {
		return nil, err
	}
	label(objs, cfg.Def.App)
	if err := cfg.Client.Normalize(objs, cfg.Def.Namespace); err != nil {
		return nil, kube.Explain(cfg.Client.Config.Host, err)
	}
	kube.SortForApply(objs)
	return objs, nil
}

// Deploy rolls out opts.Image as a new revision: render, dry-run every object (a
// rejection changes nothing), record the revision as pending, run the pre-deploy Job,
// apply, prune and wait until healthy. A Job of the app whose pod template changed
// (which a Job does not allow) is deleted and created again. A revision that fails is
// rolled back to the current good one unless NoRollback; the error then wraps
// ErrRolloutFailed.
func Deploy(ctx context.Context, cfg Config, opts DeployOptions) (*Result, error) {
	if err := render.ValidateReference(opts.Image); err != nil {
		return nil, err
	}
	if !opts.AllowMutableTag {
		if err := render.CheckImmutable(opts.Image); err != nil {
			return nil, err
		}
	}
	objs, err := Render(cfg, opts.Image)
	if err != nil {
		return nil, err
	}
	if opts.Check != nil {
		if err := opts.Check(objs); err != nil {
			return nil, err
		}
	}
	var result *Result
	err = withSession(ctx, cfg, "deploy "+opts.Image, func(ctx context.Context, s *session) error {
		s.printf("==> deploy %s revision %d: %s\n", s.cfg.Def.App, NextRevision(s.history), opts.Image)
		replace, err := s.dryRun(ctx, objs)
		if err != nil {
			return err
		}
		r := &Release{Record: Record{Kind: KindDeploy, Image: opts.Image}, Manifests: objs}
		if err := s.record(ctx, r); err != nil {
			return err
		}
		result = &Result{}
		if err := s.preDeploy(ctx, r, objs); err != nil {
			result.Release = r.Summarize()
			return err // nothing but the Job changed: there is nothing to roll back
		}
		rolloutErr := s.rollout(ctx, r, replace)
		result.Release = r.Summarize()
		if rolloutErr == nil || !errors.Is(rolloutErr, ErrRolloutFailed) || opts.NoRollback {
			return rolloutErr
		}
		good := Current(s.history)
		if good == nil {
			s.printf("  no earlier good revision to roll back to\n")
			return rolloutErr
		}
		s.printf("==> rolling back to revision %d (%s)\n", good.Revision, good.Image)
		back, err := s.rollbackTo(ctx, good, fmt.Sprintf("automatic rollback: revision %d failed", r.Revision))
		if back != nil {
			sum := back.Summarize()
			result.RolledBack = &sum
		}
		if err != nil {
			return fmt.Errorf("%w; the automatic rollback to revision %d failed too: %w", rolloutErr, good.Revision, err)
		}
		return fmt.Errorf("%w; rolled back to revision %d", rolloutErr, good.Revision)
	})
	return result, err
}

// Rollback makes a new revision whose manifests are exactly revision to's (zero:
// the last good one before the latest), applied, pruned and watched like a deploy.
// Objects edited or deleted by hand since are restored.
func Rollback(ctx context.Context, cfg Config, to int) (*Result, error) {
	var result *Result
	err := withSession(ctx, cfg, fmt.Sprintf("rollback to %d", to), func(ctx context.Context, s *session) error {
		target, err := RollbackTarget(s.history, to)
		if err != nil {
			return err
		}
		s.printf("==> roll back %s to revision %d (%s) as revision %d\n", s.cfg.Def.App, target.Revision, target.Image, NextRevision(s.history))
		r, err := s.rollbackTo(ctx, target, fmt.Sprintf("rollback to revision %d", target.Revision))
		if r != nil {
			result = &Result{Release: r.Summarize()}
		}
		return err
	})
	return result, err
}

// rollbackTo dry-runs, records and rolls out a copy of target's manifests.
func (s *session) rollbackTo(ctx context.Context, target *Release, reason string) (*Release, error) {
	objs := make([]*unstructured.Unstructured, 0, len(target.Manifests))
	for _, obj := range target.Manifests {
		objs = append(objs, obj.DeepCopy())
	}
	replace, err := s.dryRun(ctx, objs)
	if err != nil {
		return nil, err
	}
	r := &Release{Record: Record{Kind: KindRollback, Image: target.Image, RollbackOf: target.Revision, Reason: reason}, Manifests: objs}
	if err := s.record(ctx, r); err != nil {
		return nil, err
	}
	return r, s.rollout(ctx, r, replace)
}
