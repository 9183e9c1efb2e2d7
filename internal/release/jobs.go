package release

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"ferry.dev/ferry/internal/kube"
)

// replacements are the Jobs a rollout deletes and creates again because their pod
// template changed, by kube.Ref.Key.
type replacements map[string]bool

// checkReplace looks at an object the dry run refused: a Job of this app whose pod
// template changed is to be re-created (true), once the API server has accepted it as
// a new Job. Anything else returns the refusal to report, applyErr or a clearer one.
func (s *session) checkReplace(ctx context.Context, obj *unstructured.Unstructured, applyErr error) (bool, error) {
	if obj.GetKind() != "Job" || obj.GroupVersionKind().Group != "batch" {
		return false, applyErr
	}
	immutable := kube.ImmutableFields(applyErr)
	if len(immutable) == 0 {
		return false, applyErr
	}
	live, err := s.cfg.Client.Get(ctx, kube.RefOf(obj))
	if err != nil {
		return false, err
	}
	if live == nil {
		return false, applyErr
	}
	replace, err := ReplaceJob(obj.GetName(), live.GetLabels(), s.cfg.Def.App, immutable)
	if err != nil || !replace {
		return false, err
	}
	if err := s.cfg.Client.ValidateNew(ctx, obj); err != nil {
		return false, err
	}
	return true, nil
}

// replaceJob deletes the live Job, if it is still this app's, waits until it and its
// pods are gone, and creates obj in its place.
func (s *session) replaceJob(ctx context.Context, obj *unstructured.Unstructured) error {
	ref := kube.RefOf(obj)
	live, err := s.cfg.Client.Get(ctx, ref)
	if err != nil {
		return err
	}
	if live != nil {
		if !Owned(live.GetLabels(), s.cfg.Def.App) {
			return fmt.Errorf("%s stopped being ferry's since the dry run; left alone", ref)
		}
		deleteCtx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
		err := s.cfg.Client.DeleteAndWait(deleteCtx, live)
		cancel()
		if err != nil {
			return err
		}
	}
	if _, err := s.cfg.Client.Apply(ctx, obj, false); err != nil {
		return err
	}
	s.printf("  job %s: template changed, re-created\n", obj.GetName())
	return nil
}
