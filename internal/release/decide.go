package release

import (
	"fmt"
	"slices"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"ferry.dev/ferry/internal/kube"
)

// NextRevision is one more than the highest recorded revision.
func NextRevision(history []*Release) int {
	highest := 0
	for _, r := range history {
		highest = max(highest, r.Revision)
	}
	return highest + 1
}

// RollbackTarget picks the revision a rollback re-applies: revision to when it is not
// zero (it must exist and have manifests), else the newest good revision older than
// the latest revision whose manifests differ from it: after a good deploy, the one
// before; after a failed or interrupted one, the last good state.
func RollbackTarget(history []*Release, to int) (*Release, error) {
	sorted := sortedByRevision(history)
	if to != 0 {
		for _, r := range sorted {
			if r.Revision == to {
				if r.Status == StatusIncomplete {
					return nil, fmt.Errorf("%w: revision %d cannot be rolled back to: %s", ErrNoRevision, to, r.Reason)
				}
				if len(r.Manifests) == 0 {
					return nil, fmt.Errorf("%w: revision %d has no recorded manifests", ErrNoRevision, to)
				}
				return r, nil
			}
		}
		return nil, fmt.Errorf("%w: revision %d is not in the history (see ferry history)", ErrNoRevision, to)
	}
	if len(sorted) == 0 {
		return nil, fmt.Errorf("%w: the app has no revisions yet", ErrNoRevision)
	}
	latest := sorted[len(sorted)-1]
	for i := len(sorted) - 2; i >= 0; i-- {
		r := sorted[i]
		if r.Good() && !sameManifests(r, latest) {
			return r, nil
		}
	}
	return nil, fmt.Errorf("%w: there is no good revision before the current one to roll back to", ErrNoRevision)
}

// sameManifests reports whether a is a rollback to b's manifests or the other way
// round, so rolling back twice does not land on the same state again.
func sameManifests(a, b *Release) bool {
	if a == nil || b == nil {
		return false
	}
	return a.RollbackOf == b.Revision || b.RollbackOf == a.Revision ||
		(a.RollbackOf != 0 && a.RollbackOf == b.RollbackOf)
}

// Current is the newest good revision: what the cluster should be running.
func Current(history []*Release) *Release {
	var cur *Release
	for _, r := range history {
		if r.Good() && (cur == nil || r.Revision > cur.Revision) {
			cur = r
		}
	}
	return cur
}

// Prunable returns the objects that any recorded revision applied and next does not
// contain, in delete order. Only these are ever deleted: ferry never touches objects
// it did not apply.
func Prunable(history []*Release, next []*unstructured.Unstructured) []kube.Ref {
	keep := map[string]bool{}
	for _, obj := range next {
		keep[kube.RefOf(obj).Key()] = true
	}
	seen := map[string]bool{}
	var out []*unstructured.Unstructured
	for _, r := range sortedByRevision(history) {
		for _, obj := range r.Manifests {
			key := kube.RefOf(obj).Key()
			if !keep[key] && !seen[key] {
				seen[key] = true
				out = append(out, obj)
			}
		}
	}
	kube.SortForApply(out)
	refs := make([]kube.Ref, 0, len(out))
	for i := len(out) - 1; i >= 0; i-- {
		refs = append(refs, kube.RefOf(out[i]))
	}
	return refs
}

// Owned reports whether an object's labels say ferry applied it for app: only such
// objects are ever pruned or re-created.
func Owned(labels map[string]string, app string) bool {
	return labels[LabelManagedBy] == ManagedBy && labels[LabelApp] == app
}

// ReplaceJob decides about a Job of the manifests that the API server would not update
// because the fields in immutable cannot change (its dry-run answer). A Job whose pod
// template changed is deleted and created again (true) when ferry applied it for app;
// any other Job is refused with an error that says what to do. For other immutable
// fields alone it returns false and no error: the API server's refusal stands.
func ReplaceJob(name string, liveLabels map[string]string, app string, immutable []string) (bool, error) {
	if !slices.Contains(immutable, "spec.template") {
		return false, nil
	}
	if Owned(liveLabels, app) {
		return true, nil
	}
	whose := "this one is not ferry's"
	if other := liveLabels[LabelApp]; liveLabels[LabelManagedBy] == ManagedBy && other != "" {
		whose = "this one is app " + other + "'s"
	}
	return false, fmt.Errorf("job/%s: its pod template changed, which a Job does not allow, and ferry re-creates only the Jobs it applied for %s; %s: delete it yourself or rename it in the manifests", name, app, whose)
}

// Expired returns the revisions beyond limit to delete, oldest first; the current
// revision is always kept.
func Expired(history []*Release, limit int) []*Release {
	sorted := sortedByRevision(history)
	if len(sorted) <= limit {
		return nil
	}
	current := Current(history)
	var out []*Release
	for _, r := range sorted[:len(sorted)-limit] {
		if current != nil && r.Revision == current.Revision {
			continue
		}
		out = append(out, r)
	}
	return out
}

func sortedByRevision(history []*Release) []*Release {
	out := append([]*Release(nil), history...)
	sort.Slice(out, func(i, j int) bool { return out[i].Revision < out[j].Revision })
	return out
}
