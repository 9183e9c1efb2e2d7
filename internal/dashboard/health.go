package dashboard

import (
	"context"
	"fmt"
	"time"

	"ferry.dev/ferry/internal/health"
	"ferry.dev/ferry/internal/kube"
	"ferry.dev/ferry/internal/release"
)

// Health returns the last health check of an app at its current revision and starts
// a new one in the background when that is older than healthMaxAge, or of another
// revision; the new result is published to "apps" and "app/NS/APP". Nil: not checked
// yet.
func (s *Source) Health(ctx context.Context, key appKey, current *release.Release) *healthCheck {
	s.mu.Lock()
	hc := s.health[key]
	stale := hc == nil || time.Since(hc.at) > healthMaxAge || current != nil && hc.revision != current.Revision
	start := stale && (hc == nil || !hc.running)
	var out *healthCheck
	if hc != nil && hc.at.After(time.Time{}) {
		cp := *hc
		out = &cp
	}
	if start {
		if hc == nil {
			hc = &healthCheck{}
			s.health[key] = hc
		}
		hc.running = true
	}
	s.mu.Unlock()
	if start {
		go s.checkHealth(context.WithoutCancel(ctx), key, current)
	}
	return out
}

// checkHealth looks at the current revision's objects and the deploy lock.
func (s *Source) checkHealth(ctx context.Context, key appKey, current *release.Release) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s.healthSlots <- struct{}{}
	defer func() { <-s.healthSlots }()
	res := healthCheck{at: time.Now(), healthy: true}
	res.deploy = release.DeployingNow(ctx, s.kube, key.Namespace, key.Name)
	if current != nil {
		res.revision = current.Revision
		refs := make([]kube.Ref, 0, len(current.Manifests))
		for _, obj := range current.Manifests {
			refs = append(refs, kube.RefOf(obj))
		}
		bad := 0
		for _, o := range s.kc.Check(ctx, refs) {
			if o.Health.State != health.Healthy {
				bad++
				res.healthy = false
				if res.summary == "" {
					res.summary = o.Ref.String() + ": " + o.Health.Message
				}
			}
		}
		switch {
		case bad == 0:
			res.summary = fmt.Sprintf("%d of %d objects healthy", len(refs), len(refs))
		case bad > 1:
			res.summary = fmt.Sprintf("%d of %d objects not healthy; %s", bad, len(refs), res.summary)
		}
	}
	s.mu.Lock()
	s.health[key] = &res
	s.mu.Unlock()
	s.publish("apps", "app/"+key.Namespace+"/"+key.Name)
}

// ObjectHealth checks every object of a revision now, for the app page.
func (s *Source) ObjectHealth(ctx context.Context, rel *release.Release) []kube.ObjectStatus {
	refs := make([]kube.Ref, 0, len(rel.Manifests))
	for _, obj := range rel.Manifests {
		refs = append(refs, kube.RefOf(obj))
	}
	return s.kc.Check(ctx, refs)
}
