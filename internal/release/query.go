package release

import (
	"context"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/utils/ptr"

	"ferry.dev/ferry/internal/health"
	"ferry.dev/ferry/internal/kube"
)

// History returns every recorded revision of the app, oldest first.
func History(ctx context.Context, cfg Config) ([]Summary, error) {
	cfg.complete()
	if err := checkNamespace(ctx, cfg); err != nil {
		return nil, err
	}
	h, err := cfg.Store.List(ctx, cfg.Def.App)
	if err != nil {
		return nil, err
	}
	out := []Summary{}
	for _, r := range sortedByRevision(h) {
		out = append(out, r.Summarize())
	}
	return out, nil
}

// StatusReport is the app's current state: what should run, what the latest attempt
// was, who deploys now, and how the current revision's objects are doing.
type StatusReport struct {
	App       string `json:"app"`
	Namespace string `json:"namespace"`
	// Current is the newest good revision.
	Current *Summary `json:"current,omitempty"`
	// Latest is the newest revision of any status.
	Latest *Summary `json:"latest,omitempty"`
	// DeployingNow names the holder of the deploy lock, if a deploy runs.
	DeployingNow string              `json:"deployingNow,omitempty"`
	Objects      []kube.ObjectStatus `json:"objects,omitempty"`
	// Healthy is true when every object of the current revision is healthy.
	Healthy bool `json:"healthy"`
}

// Inspect reports the app's current revision and the live health of its objects.
func Inspect(ctx context.Context, cfg Config) (*StatusReport, error) {
	cfg.complete()
	if err := checkNamespace(ctx, cfg); err != nil {
		return nil, err
	}
	h, err := cfg.Store.List(ctx, cfg.Def.App)
	if err != nil {
		return nil, err
	}
	rep := &StatusReport{App: cfg.Def.App, Namespace: cfg.Def.Namespace}
	sorted := sortedByRevision(h)
	if len(sorted) > 0 {
		latest := sorted[len(sorted)-1].Summarize()
		rep.Latest = &latest
	}
	if lease, err := cfg.Client.Clientset.CoordinationV1().Leases(cfg.Def.Namespace).Get(ctx, lockName(cfg.Def.App), metaGet); err == nil {
		rep.DeployingNow = liveHolder(lease)
	}
	cur := Current(h)
	if cur == nil {
		return rep, nil
	}
	sum := cur.Summarize()
	rep.Current = &sum
	refs := make([]kube.Ref, 0, len(cur.Manifests))
	for _, obj := range cur.Manifests {
		refs = append(refs, kube.RefOf(obj))
	}
	rep.Objects = cfg.Client.Check(ctx, refs)
	rep.Healthy = true
	for _, o := range rep.Objects {
		rep.Healthy = rep.Healthy && o.Health.State == health.Healthy
	}
	return rep, nil
}

func liveHolder(lease *coordinationv1.Lease) string {
	holder := ptr.Deref(lease.Spec.HolderIdentity, "")
	if holder == "" || lease.Spec.RenewTime == nil {
		return ""
	}
	if time.Since(lease.Spec.RenewTime.Time) > time.Duration(ptr.Deref(lease.Spec.LeaseDurationSeconds, 0))*time.Second {
		return ""
	}
	return holder
}
