package dashboard

import (
	"context"
	"net/http"
	"sort"
	"strconv"
	"time"

	"ferry.dev/ferry/internal/kube"
	"ferry.dev/ferry/internal/release"
)

// appRow is one app on the Apps page.
type appRow struct {
	Namespace, Name string
	Current         *release.Release // newest good revision; nil if none
	Latest          *release.Release
	Health          *healthCheck
}

// HealthText says how the app's objects are, or that they are being looked at.
func (a appRow) HealthText() string {
	switch {
	case a.Current == nil:
		return "no good revision"
	case a.Health == nil:
		return "checking…"
	}
	return a.Health.summary
}

// HealthClass is the row's health for styling: ok, bad or unknown.
func (a appRow) HealthClass() string {
	switch {
	case a.Current == nil || a.Health == nil:
		return "unknown"
	case a.Health.healthy:
		return "ok"
	}
	return "bad"
}

// Deploying names who deploys the app now, if anyone.
func (a appRow) Deploying() string {
	if a.Health == nil {
		return ""
	}
	return a.Health.deploy
}

type appsData struct {
	Apps []appRow
	// Unreadable counts the namespaces with apps the viewer may not read.
	Unreadable int
}

// readableNamespaces returns which of nss the viewer may p in.
func (s *Server) readable(ctx context.Context, v *viewer, nss map[string]bool, p func(string) Permission) (map[string]bool, int, error) {
	ok := map[string]bool{}
	denied := 0
	for ns := range nss {
		allowed, err := s.access.allowed(ctx, v, p(ns))
		if err != nil {
			return nil, 0, err
		}
		if allowed {
			ok[ns] = true
		} else {
			denied++
		}
	}
	return ok, denied, nil
}

func (s *Server) appsPage(ctx context.Context, v *viewer) (*page, error) {
	all := s.source.Apps()
	nss := map[string]bool{}
	for k := range all {
		nss[k.Namespace] = true
	}
	ok, denied, err := s.readable(ctx, v, nss, readReleases)
	if err != nil {
		return nil, err
	}
	data := &appsData{Unreadable: denied}
	for k, revs := range all {
		if !ok[k.Namespace] {
			continue
		}
		row := appRow{Namespace: k.Namespace, Name: k.Name, Latest: revs[0], Current: current(revs)}
		row.Health = s.source.Health(ctx, k, row.Current)
		data.Apps = append(data.Apps, row)
	}
	sort.Slice(data.Apps, func(i, j int) bool {
		a, b := data.Apps[i], data.Apps[j]
		return a.Namespace < b.Namespace || a.Namespace == b.Namespace && a.Name < b.Name
	})
	return &page{Title: "Apps", Nav: "apps", Viewer: v, Live: "/", Data: data}, nil
}

// current is the newest good revision of revs (newest first).
func current(revs []*release.Release) *release.Release {
	for _, r := range revs {
		if r.Good() {
			return r
		}
	}
	return nil
}

func (s *Server) handleApps(w http.ResponseWriter, r *http.Request, v *viewer) {
	p, err := s.appsPage(r.Context(), v)
	if err != nil {
		s.fail(w, r, v, http.StatusBadGateway, err.Error())
		return
	}
	s.render(w, r, http.StatusOK, "apps", p)
}

// revRow is one revision on an app's page.
type revRow struct {
	*release.Release
	Current bool
	// RollbackTo is set when the viewer may roll back to this revision.
	RollbackTo bool
}

type appData struct {
	Namespace, Name string
	Revisions       []revRow
	From, To        int
	Diff            []ObjectDiff
	Objects         []kube.ObjectStatus
	Deploying       string
	CheckedAt       time.Time
	CanRollback     bool
	Rollback        string // a message about the last rollback asked from here
}

func (s *Server) appPage(ctx context.Context, v *viewer, ns, name string, from, to int) (*page, int, string) {
	ok, err := s.access.allowed(ctx, v, readReleases(ns))
	if err != nil {
		return nil, http.StatusBadGateway, err.Error()
	}
	if !ok {
		return nil, http.StatusForbidden, refusal(v.User, "read the revisions of "+name, []Permission{readReleases(ns)})
	}
	revs := s.source.App(ns, name)
	if len(revs) == 0 {
		return nil, http.StatusNotFound, "No revision of " + name + " is recorded in namespace " + ns + ": deploy it with ferry deploy."
	}
	cur := current(revs)
	data := &appData{Namespace: ns, Name: name, From: from, To: to}
	missing, err := s.rollbackMissing(ctx, v, ns, revs, cur)
	if err != nil {
		return nil, http.StatusBadGateway, err.Error()
	}
	data.CanRollback = len(missing) == 0
	for _, r := range revs {
		row := revRow{Release: r, Current: cur != nil && r.Revision == cur.Revision}
		row.RollbackTo = data.CanRollback && !row.Current && len(r.Manifests) > 0 && r.Status != release.StatusIncomplete
		data.Revisions = append(data.Revisions, row)
	}
	// By default the diff is the latest revision against the one before it.
	if data.To == 0 {
		data.To = revs[0].Revision
	}
	if data.From == 0 && len(revs) > 1 {
		data.From = revs[1].Revision
	}
	a, b := find(revs, data.From), find(revs, data.To)
	if a != nil && b != nil {
		data.Diff = DiffManifests(a.Manifests, b.Manifests)
	}
	if cur != nil {
		data.Objects = s.source.ObjectHealth(ctx, cur)
		data.CheckedAt = time.Now()
	}
	data.Deploying = release.DeployingNow(ctx, s.source.kube, ns, name)
	data.Rollback = s.lastRollback(ns, name)
	return &page{Title: name, Nav: "apps", Viewer: v, Live: "/apps/" + ns + "/" + name, Data: data}, http.StatusOK, ""
}

func find(revs []*release.Release, n int) *release.Release {
	for _, r := range revs {
		if r.Revision == n {
			return r
		}
	}
	return nil
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func (s *Server) handleApp(w http.ResponseWriter, r *http.Request, v *viewer) {
	q := r.URL.Query()
	p, status, msg := s.appPage(r.Context(), v, r.PathValue("ns"), r.PathValue("app"), atoi(q.Get("from")), atoi(q.Get("to")))
	if p == nil {
		s.fail(w, r, v, status, msg)
		return
	}
	s.render(w, r, http.StatusOK, "app", p)
}
