package kube

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"
)

// ImmutableFields returns the fields that an API server's "invalid" answer says cannot
// be changed on an existing object, such as "spec.template" of a Job; none for any
// other error.
func ImmutableFields(err error) []string {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return nil
	}
	s := status.Status()
	if s.Reason != metav1.StatusReasonInvalid || s.Details == nil {
		return nil
	}
	var fields []string
	for _, c := range s.Details.Causes {
		if strings.HasSuffix(c.Message, "field is immutable") {
			fields = append(fields, c.Field)
		}
	}
	return fields
}

// ValidateNew has the API server check obj as a new object, changing nothing: for an
// object that exists and is about to be replaced, which a dry-run apply would only
// compare with what exists. It is created (dry run) under a generated name.
func (c *Client) ValidateNew(ctx context.Context, obj *unstructured.Unstructured) error {
	ref := RefOf(obj)
	res, err := c.Resource(ref)
	if err != nil {
		return err
	}
	fresh := obj.DeepCopy()
	fresh.SetName("")
	fresh.SetGenerateName(obj.GetName() + "-")
	_, err = res.Create(ctx, fresh, metav1.CreateOptions{FieldManager: FieldManager, DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		return fmt.Errorf("%s: %w", ref, APIError{err})
	}
	return nil
}

// DeleteAndWait deletes exactly live, the object as it was read (same UID, and the
// same spec, labels and annotations since), and returns once the API server no longer
// has it, so that an object of the same name can be created. Its status may have moved
// on meanwhile (a running Job's counts change on their own): the delete is then tried
// again on the newer version, a few times. Dependents go first (foreground deletion):
// a Job's pods are gone before it is, so an old Job's pod never runs next to a new
// one's.
func (c *Client) DeleteAndWait(ctx context.Context, live *unstructured.Unstructured) error {
	ref := RefOf(live)
	res, err := c.Resource(ref)
	if err != nil {
		return err
	}
	uid, version := live.GetUID(), live.GetResourceVersion()
	policy := metav1.DeletePropagationForeground
	changed := fmt.Errorf("delete %s: it changed since ferry read it; run again", ref)
	err = retry.OnError(deleteBackoff, apierrors.IsConflict, func() error {
		err := res.Delete(ctx, ref.Name, metav1.DeleteOptions{
			PropagationPolicy: &policy,
			Preconditions:     &metav1.Preconditions{UID: &uid, ResourceVersion: &version},
		})
		if !apierrors.IsConflict(err) {
			return err
		}
		now, gerr := res.Get(ctx, ref.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(gerr):
			return gerr
		case gerr != nil:
			return err // the conflict: tried again
		case now.GetUID() != uid || !sameIntent(live, now):
			return changed
		}
		version = now.GetResourceVersion()
		return err
	})
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case apierrors.IsConflict(err) || errors.Is(err, changed):
		return changed
	case err != nil:
		return fmt.Errorf("delete %s: %w", ref, APIError{err})
	}
	if err := waitGone(ctx, res, ref.Name, uid); err != nil {
		return fmt.Errorf("delete %s: %w", ref, err)
	}
	return nil
}

// deleteBackoff paces DeleteAndWait's tries while only the object's status moves.
var deleteBackoff = wait.Backoff{Duration: 10 * time.Millisecond, Factor: 2, Jitter: 1, Steps: 8, Cap: time.Second}

// sameIntent reports whether now is what was decided on when a was read: the same
// spec (its generation), labels and annotations; status and bookkeeping may differ.
func sameIntent(a, now *unstructured.Unstructured) bool {
	return a.GetGeneration() == now.GetGeneration() &&
		maps.Equal(a.GetLabels(), now.GetLabels()) && maps.Equal(a.GetAnnotations(), now.GetAnnotations())
}

// waitGone lists the named object and watches from that list until the object with
// uid is deleted; a watch that ends early is started again from a fresh list.
func waitGone(ctx context.Context, res dynamic.ResourceInterface, name string, uid types.UID) error {
	byName := metav1.ListOptions{FieldSelector: "metadata.name=" + name}
	for {
		list, err := res.List(ctx, byName)
		if err != nil {
			return APIError{err}
		}
		if !hasUID(list.Items, uid) {
			return nil
		}
		w, err := res.Watch(ctx, metav1.ListOptions{FieldSelector: byName.FieldSelector, ResourceVersion: list.GetResourceVersion()})
		if err != nil {
			return APIError{err}
		}
		gone := watchDeleted(ctx, w, uid)
		w.Stop()
		if gone {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("waiting for it to be gone: %w", context.Cause(ctx))
		}
	}
}

// watchDeleted reports whether w saw the object with uid deleted before it ended.
func watchDeleted(ctx context.Context, w watch.Interface, uid types.UID) bool {
	for {
		select {
		case <-ctx.Done():
			return false
		case e, ok := <-w.ResultChan():
			if !ok {
				return false
			}
			if obj, isObj := e.Object.(*unstructured.Unstructured); isObj && e.Type == watch.Deleted && obj.GetUID() == uid {
				return true
			}
		}
	}
}

func hasUID(items []unstructured.Unstructured, uid types.UID) bool {
	for i := range items {
		if items[i].GetUID() == uid {
			return true
		}
	}
	return false
}
