package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"

	"ferry.dev/ferry/internal/app"
	"ferry.dev/ferry/internal/kube"
	"ferry.dev/ferry/internal/release"
)

// rollbackBase is what every rollback of an app in ns needs besides its objects:
// reading and recording revisions, the deploy lock, the namespace check.
func rollbackBase(ns string) []Permission {
	var ps []Permission
	for _, verb := range []string{"list", "create", "update", "delete"} {
		ps = append(ps, Permission{Verb: verb, Resource: "secrets", Namespace: ns})
	}
	for _, verb := range []string{"get", "create", "update"} {
		ps = append(ps, Permission{Verb: verb, Group: "coordination.k8s.io", Resource: "leases", Namespace: ns})
	}
	// The API server authorizes GET /api/v1/namespaces/NS as in namespace NS, so a
	// RoleBinding there may grant it: ask the same way, or a deployer bound only in
	// the namespace is never offered a rollback.
	return append(ps, Permission{Verb: "get", Resource: "namespaces", Name: ns, Namespace: ns})
}

// objectPermissions are verbs on the resources of objs, each kind once.
func (s *Server) objectPermissions(objs []*unstructured.Unstructured, verbs ...string) ([]Permission, error) {
	seen := map[string]bool{}
	var out []Permission
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		m, err := s.source.kc.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return nil, fmt.Errorf("the cluster does not serve %s: %w", gvk.Kind, err)
		}
		for _, verb := range verbs {
			p := Permission{Verb: verb, Group: m.Resource.Group, Resource: m.Resource.Resource, Namespace: o.GetNamespace()}
			if !seen[p.String()] {
				seen[p.String()] = true
				out = append(out, p)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// rollbackMissing returns what the viewer lacks to roll the app back to any of its
// revisions: the base, and applying every kind its revisions hold.
func (s *Server) rollbackMissing(ctx context.Context, v *viewer, ns string, revs []*release.Release, cur *release.Release) ([]Permission, error) {
	var objs []*unstructured.Unstructured
	for _, r := range revs {
		objs = append(objs, r.Manifests...)
	}
	ps, err := s.objectPermissions(objs, "get", "create", "patch")
	if err != nil {
		return nil, err
	}
	return s.access.missing(ctx, v, append(rollbackBase(ns), ps...))
}

// rollbackTargetMissing adds what rolling back to target needs in particular:
// deleting the objects that the rollback prunes.
func (s *Server) rollbackTargetMissing(ctx context.Context, v *viewer, ns string, revs []*release.Release, target *release.Release) ([]Permission, error) {
	missing, err := s.rollbackMissing(ctx, v, ns, revs, target)
	if err != nil {
		return nil, err
	}
	var pruned []*unstructured.Unstructured
	for _, ref := range release.Prunable(revs, target.Manifests) {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(ref.GVK())
		u.SetNamespace(ref.Namespace)
		u.SetName(ref.Name)
		pruned = append(pruned, u)
	}
	del, err := s.objectPermissions(pruned, "delete")
	if err != nil {
		return nil, err
	}
	more, err := s.access.missing(ctx, v, del)
	return append(missing, more...), err
}

type rollbackData struct {
	Namespace, Name string
	From, To        *release.Release
	Diff            []ObjectDiff
}

func (s *Server) rollbackTarget(ctx context.Context, w http.ResponseWriter, r *http.Request, v *viewer) (revs []*release.Release, target *release.Release, ok bool) {
	ns, name := r.PathValue("ns"), r.PathValue("app")
	to := atoi(r.FormValue("to"))
	if allowed, err := s.access.allowed(ctx, v, readReleases(ns)); err != nil || !allowed {
		s.fail(w, r, v, http.StatusForbidden, refusal(v.User, "read the revisions of "+name, []Permission{readReleases(ns)}))
		return nil, nil, false
	}
	revs = s.source.App(ns, name)
	target = find(revs, to)
	if target == nil || len(target.Manifests) == 0 || target.Status == release.StatusIncomplete {
		s.fail(w, r, v, http.StatusNotFound, fmt.Sprintf("%s has no revision %d to roll back to: pick one from its history.", name, to))
		return nil, nil, false
	}
	missing, err := s.rollbackTargetMissing(ctx, v, ns, revs, target)
	if err != nil {
		s.fail(w, r, v, http.StatusBadGateway, err.Error())
		return nil, nil, false
	}
	if len(missing) > 0 {
		s.fail(w, r, v, http.StatusForbidden, refusal(v.User, fmt.Sprintf("roll %s back", name), missing))
		return nil, nil, false
	}
	return revs, target, true
}

// handleRollbackConfirm shows what a rollback would change before it is asked for.
func (s *Server) handleRollbackConfirm(w http.ResponseWriter, r *http.Request, v *viewer) {
	revs, target, ok := s.rollbackTarget(r.Context(), w, r, v)
	if !ok {
		return
	}
	data := &rollbackData{Namespace: r.PathValue("ns"), Name: r.PathValue("app"), To: target}
	if cur := current(revs); cur != nil {
		data.From = cur
		data.Diff = DiffManifests(cur.Manifests, target.Manifests)
	} else {
		data.Diff = DiffManifests(nil, target.Manifests)
	}
	s.render(w, r, http.StatusOK, "rollback", &page{Title: "Roll back " + data.Name, Nav: "apps", Viewer: v, Data: data})
}

// handleRollback starts the rollback as the viewer and goes back to the app's page,
// where its revision appears as it is recorded.
func (s *Server) handleRollback(w http.ResponseWriter, r *http.Request, v *viewer) {
	_, target, ok := s.rollbackTarget(r.Context(), w, r, v)
	if !ok {
		return
	}
	ns, name := r.PathValue("ns"), r.PathValue("app")
	kc, err := s.actingAs(v)
	if err != nil {
		s.fail(w, r, v, http.StatusBadGateway, err.Error())
		return
	}
	def := &app.Definition{App: name, Namespace: ns, Health: app.Health{Timeout: app.DefaultHealthTimeout}, History: app.History{Limit: app.DefaultHistoryLimit}}
	cfg := release.Config{Client: kc, Def: def, User: v.User, NoWait: true}
	s.noteRollback(ns, name, fmt.Sprintf("Rolling back to revision %d, asked by %s.", target.Revision, v.User))
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), def.Health.Timeout*2)
		defer cancel()
		res, err := release.Rollback(ctx, cfg, target.Revision)
		msg := fmt.Sprintf("The rollback to revision %d failed: %v.", target.Revision, err)
		if err == nil {
			msg = fmt.Sprintf("Rolled back to revision %d as revision %d.", target.Revision, res.Release.Revision)
		}
		s.noteRollback(ns, name, msg)
	}()
	http.Redirect(w, r, "/apps/"+url.PathEscape(ns)+"/"+url.PathEscape(name)+"?rolledback="+strconv.Itoa(target.Revision), http.StatusSeeOther)
}

func (s *Server) noteRollback(ns, name, msg string) {
	s.notesMu.Lock()
	s.notes[appKey{Namespace: ns, Name: name}] = msg
	s.notesMu.Unlock()
	s.source.publish("app/" + ns + "/" + name)
}

func (s *Server) lastRollback(ns, name string) string {
	s.notesMu.Lock()
	defer s.notesMu.Unlock()
	return s.notes[appKey{Namespace: ns, Name: name}]
}

// actingAs is a client that acts as the viewer: with the viewer's own token in
// ModeCluster, so the API server checks every call once more; the kubeconfig's in
// ModeLocal.
func (s *Server) actingAs(v *viewer) (*kube.Client, error) {
	if s.cfg.Mode == ModeLocal {
		return s.source.kc, nil
	}
	kc, err := kube.NewForConfig(s.userRest(v))
	if err != nil {
		return nil, fmt.Errorf("connect as %s: %w", v.User, err)
	}
	return kc, nil
}

func (s *Server) userRest(v *viewer) *rest.Config {
	if s.cfg.Mode == ModeLocal {
		return s.cfg.Rest
	}
	rc := rest.AnonymousClientConfig(s.cfg.Rest)
	rc.BearerToken = v.token
	return rc
}
