package release

import (
	"context"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"ferry.dev/ferry/internal/kube"
	"ferry.dev/ferry/internal/render"
)

// Diff names, as the headers of a preview's diffs show them.
const (
	diffLive  = "live"
	diffNext  = "deploy"
	revPrefix = "revision-"
)

// Preview is what a deploy would change, object by object: against the live objects
// (the API server's dry run of every object) and against the latest recorded
// revision's manifests.
type Preview struct {
	App       string `json:"app"`
	Namespace string `json:"namespace"`
	Image     string `json:"image"`
	// NextRevision is the number the deploy would record.
	NextRevision int `json:"nextRevision"`
	// Last is the latest recorded revision, nil when none is.
	Last *Summary `json:"last,omitempty"`
	// Cluster compares the live objects with what the API server would make of the
	// manifests; objects that the deploy would prune show as deleted.
	Cluster []ObjectDiff `json:"cluster"`
	// Revision compares Last's manifests with the new ones; nil when Last is nil.
	Revision []ObjectDiff `json:"revision,omitempty"`
	// Notes say what the comparison could not show, e.g. a namespace to create.
	Notes []string `json:"notes,omitempty"`
}

// Changed reports whether any object of either comparison would change.
func (p *Preview) Changed() bool {
	for _, d := range append(append([]ObjectDiff(nil), p.Cluster...), p.Revision...) {
		if d.Change != ChangeNone {
			return true
		}
	}
	return false
}

// Diff shows what Deploy with opts would change, and changes nothing: it takes no
// lock and records no revision. An empty opts.Image means the latest revision's
// image (the manifests alone changed). Errors are Deploy's: a mutable tag, the
// preflight Check, a manifest the API server rejects (ErrRejected).
func Diff(ctx context.Context, cfg Config, opts DeployOptions) (*Preview, error) {
	cfg.complete()
	nsExists, err := namespaceExists(ctx, cfg)
	if err != nil {
		return nil, err
	}
	var history []*Release
	if nsExists {
		if history, err = cfg.Store.List(ctx, cfg.Def.App); err != nil {
			return nil, err
		}
		history = sortedByRevision(history)
	}
	p := &Preview{App: cfg.Def.App, Namespace: cfg.Def.Namespace, Image: opts.Image, NextRevision: NextRevision(history)}
	var last *Release
	if len(history) > 0 {
		last = history[len(history)-1]
		sum := last.Summarize()
		p.Last = &sum
	}
	if p.Image == "" {
		if last == nil {
			return nil, errors.New("nothing is deployed yet: pass --image")
		}
		p.Image = last.Image
	}
	if err := render.ValidateReference(p.Image); err != nil {
		return nil, err
	}
	if !opts.AllowMutableTag {
		if err := render.CheckImmutable(p.Image); err != nil {
			return nil, err
		}
	}
	objs, err := Render(cfg, p.Image)
	if err != nil {
		return nil, err
	}
	if opts.Check != nil {
		if err := opts.Check(objs); err != nil {
			return nil, err
		}
	}
	if !nsExists {
		p.Notes = append(p.Notes, fmt.Sprintf("namespace %s does not exist yet: the deploy creates it, and the API server could not check the objects in it", cfg.Def.Namespace))
	}
	if p.Cluster, err = clusterDiff(ctx, cfg, nsExists, history, objs); err != nil {
		return nil, err
	}
	if last != nil {
		if last.Status == StatusIncomplete {
			p.Notes = append(p.Notes, fmt.Sprintf("revision %d cannot be read whole (%s): compared with the cluster only", last.Revision, last.Reason))
		} else if p.Revision, err = revisionDiff(last, objs); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// namespaceExists reports whether the app's namespace exists; a missing one is an
// error unless the deploy would create it.
func namespaceExists(ctx context.Context, cfg Config) (bool, error) {
	_, err := cfg.Client.Clientset.CoreV1().Namespaces().Get(ctx, cfg.Def.Namespace, metaGet)
	switch {
	case err == nil:
		return true, nil
	case isNotFound(err) && cfg.CreateNamespace:
		return false, nil
	}
	cfg.CreateNamespace = false
	return false, checkNamespace(ctx, cfg)
}

// clusterDiff dry-runs every object and compares the answer with the live object;
// what the deploy would prune follows as deleted.
func clusterDiff(ctx context.Context, cfg Config, nsExists bool, history []*Release, objs []*unstructured.Unstructured) ([]ObjectDiff, error) {
	creates := map[string]bool{}
	for _, obj := range objs {
		if obj.GetKind() == "Namespace" {
			creates[obj.GetName()] = true
		}
	}
	if !nsExists {
		creates[cfg.Def.Namespace] = true
	}
	s := &session{cfg: cfg}
	var diffs []ObjectDiff
	var rejected []string
	for _, obj := range objs {
		var live *unstructured.Unstructured
		var err error
		if !creates[obj.GetNamespace()] {
			if live, err = cfg.Client.Get(ctx, kube.RefOf(obj)); err != nil {
				return nil, kube.Explain(cfg.Client.Config.Host, err)
			}
		}
		after, err := cfg.Client.Apply(ctx, obj, true)
		change := Change("")
		switch {
		case err == nil:
		case apierrors.IsNotFound(err) && creates[obj.GetNamespace()]:
			after = obj // its namespace does not exist yet: the API server cannot tell
		case ctx.Err() != nil:
			return nil, ctx.Err()
		default:
			ok, rerr := s.checkReplace(ctx, obj, err)
			if !ok {
				rejected = append(rejected, rerr.Error())
				continue
			}
			after, change = obj, ChangeReplace
		}
		d, err := DiffObjects(live, after, diffLive, diffNext)
		if err != nil {
			return nil, err
		}
		if change != "" {
			d.Change = change
		}
		diffs = append(diffs, d)
	}
	if len(rejected) > 0 {
		return nil, rejectedError(rejected)
	}
	for _, ref := range Prunable(history, objs) {
		live, err := cfg.Client.Get(ctx, ref)
		if err != nil {
			if strings.Contains(err.Error(), "does not know kind") {
				continue // its CRD is gone, and so is the object
			}
			return nil, kube.Explain(cfg.Client.Config.Host, err)
		}
		if live == nil || !Owned(live.GetLabels(), cfg.Def.App) {
			continue // prune leaves it alone
		}
		d, err := DiffObjects(live, nil, diffLive, diffNext)
		if err != nil {
			return nil, err
		}
		diffs = append(diffs, d)
	}
	return diffs, nil
}

// revisionDiff compares last's manifests with objs: changed and new objects in objs'
// order, then those objs no longer have.
func revisionDiff(last *Release, objs []*unstructured.Unstructured) ([]ObjectDiff, error) {
	before := map[string]*unstructured.Unstructured{}
	for _, obj := range last.Manifests {
		before[kube.RefOf(obj).Key()] = obj
	}
	name := fmt.Sprintf("%s%d", revPrefix, last.Revision)
	var diffs []ObjectDiff
	for _, obj := range objs {
		key := kube.RefOf(obj).Key()
		d, err := DiffObjects(before[key], obj, name, diffNext)
		if err != nil {
			return nil, err
		}
		delete(before, key)
		diffs = append(diffs, d)
	}
	for _, obj := range last.Manifests {
		if before[kube.RefOf(obj).Key()] == nil {
			continue
		}
		d, err := DiffObjects(obj, nil, name, diffNext)
		if err != nil {
			return nil, err
		}
		diffs = append(diffs, d)
	}
	return diffs, nil
}

// rejectedError is the error of a dry run the API server refused: the first three
// refusals and how many more.
func rejectedError(rejected []string) error {
	more := ""
	if len(rejected) > 3 {
		more = fmt.Sprintf(" (and %d more)", len(rejected)-3)
		rejected = rejected[:3]
	}
	return fmt.Errorf("%w by the API server, nothing was changed: %s%s", ErrRejected, strings.Join(rejected, "; "), more)
}
