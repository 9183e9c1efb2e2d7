package dashboard

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/migrate/kubestore"
	"ferry.dev/ferry/internal/plan"
)

type migrationsData struct {
	Migrations []v1alpha1.Migration
	Unreadable int
	// NoCRD is set when the cluster does not serve Migrations at all.
	NoCRD bool
}

func (s *Server) migrationsPage(ctx context.Context, v *viewer) (*page, error) {
	data := &migrationsData{NoCRD: !s.source.migrations}
	all, err := s.source.Migrations(ctx)
	if err != nil {
		return nil, err
	}
	nss := map[string]bool{}
	for _, m := range all {
		nss[m.Namespace] = true
	}
	ok, denied, err := s.readable(ctx, v, nss, listMigrations)
	if err != nil {
		return nil, err
	}
	data.Unreadable = denied
	for _, m := range all {
		if ok[m.Namespace] {
			data.Migrations = append(data.Migrations, m)
		}
	}
	return &page{Title: "Migrations", Nav: "migrations", Viewer: v, Live: "/migrations", Data: data}, nil
}

func (s *Server) handleMigrations(w http.ResponseWriter, r *http.Request, v *viewer) {
	p, err := s.migrationsPage(r.Context(), v)
	if err != nil {
		s.fail(w, r, v, http.StatusBadGateway, err.Error())
		return
	}
	s.render(w, r, http.StatusOK, "migrations", p)
}

// rung is one step of a migration's ladder.
type rung struct {
	Number int
	Weight string
	// State is done, current or next.
	State string
}

type chart struct {
	Title string
	SVG   any
}

type migrationData struct {
	M        *v1alpha1.Migration
	Ladder   []rung
	Charts   []chart
	Latest   *point
	Samples  int
	Events   []v1alpha1.Event // newest first
	Done     bool
	CanSteer bool
}

func (s *Server) migrationPage(ctx context.Context, v *viewer, ns, name string) (*page, int, string) {
	ok, err := s.access.allowed(ctx, v, getMigration(ns, name))
	if err != nil {
		return nil, http.StatusBadGateway, err.Error()
	}
	if !ok {
		return nil, http.StatusForbidden, refusal(v.User, "see migration "+name, []Permission{getMigration(ns, name)})
	}
	m, pts, err := s.source.Migration(ctx, ns, name)
	if err != nil {
		return nil, http.StatusBadGateway, err.Error()
	}
	if m == nil {
		return nil, http.StatusNotFound, "There is no migration " + name + " in namespace " + ns + ": create one with ferry migrate apply -f migration.yaml."
	}
	data := &migrationData{M: m, Samples: len(pts)}
	data.Done = m.Status.Phase == v1alpha1.PhaseCompleted || m.Status.Phase == v1alpha1.PhaseAborted
	data.CanSteer, err = s.access.allowed(ctx, v, steerMigration(ns, name))
	if err != nil {
		return nil, http.StatusBadGateway, err.Error()
	}
	data.Ladder = ladder(m)
	if len(pts) > 0 {
		data.Latest = &pts[len(pts)-1]
	}
	data.Charts = []chart{
		{"Requests per window", chartOf("Requests per window", "requests", pts, func(s sideStats) float64 { return float64(s.Requests) }, formatCount)},
		{"Error rate", chartOf("Error rate", "", pts, func(s sideStats) float64 { return s.ErrorRate }, formatPercent)},
		{"Latency p50", chartOf("Latency p50", "", pts, func(s sideStats) float64 { return s.P50 }, formatMillis)},
		{"Latency p99", chartOf("Latency p99", "", pts, func(s sideStats) float64 { return s.P99 }, formatMillis)},
	}
	data.Events = slices.Clone(m.Status.Events)
	slices.Reverse(data.Events)
	return &page{Title: name, Nav: "migrations", Viewer: v, Live: "/migrations/" + ns + "/" + name, Data: data}, http.StatusOK, ""
}

// ladder is m's steps, marked done, current or next.
func ladder(m *v1alpha1.Migration) []rung {
	weights := plan.DefaultWeights
	if len(m.Spec.Steps) > 0 {
		weights = nil
		for _, st := range m.Spec.Steps {
			weights = append(weights, st.Weight)
		}
	}
	cur := int(m.Status.CurrentStep)
	out := make([]rung, len(weights))
	for i, w := range weights {
		state := "next"
		switch {
		case i+1 < cur || m.Status.Phase == v1alpha1.PhaseCompleted:
			state = "done"
		case i+1 == cur:
			state = "current"
		}
		out[i] = rung{Number: i + 1, Weight: strings.TrimSuffix(w, "%") + "%", State: state}
	}
	return out
}

func (s *Server) handleMigration(w http.ResponseWriter, r *http.Request, v *viewer) {
	p, status, msg := s.migrationPage(r.Context(), v, r.PathValue("ns"), r.PathValue("name"))
	if p == nil {
		s.fail(w, r, v, status, msg)
		return
	}
	if did := r.URL.Query().Get("did"); did != "" {
		p.Notice = notices[did]
	}
	s.render(w, r, http.StatusOK, "migration", p)
}

var notices = map[string]string{
	"pause":   "Paused: the weights stay where they are until you resume.",
	"resume":  "Resumed.",
	"promote": "Promotion asked: the controller moves to the next step on its next evaluation.",
	"abort":   "Abort asked: the controller sends all traffic back to legacy on its next evaluation.",
}

// handleSteer pauses, resumes, promotes or aborts a migration as the viewer.
func (s *Server) handleSteer(w http.ResponseWriter, r *http.Request, v *viewer) {
	ns, name, action := r.PathValue("ns"), r.PathValue("name"), r.PathValue("action")
	if _, known := notices[action]; !known {
		s.fail(w, r, v, http.StatusNotFound, "A migration can be paused, resumed, promoted or aborted; "+action+" is none of them.")
		return
	}
	ctx := r.Context()
	need := steerMigration(ns, name)
	ok, err := s.access.allowed(ctx, v, need)
	if err != nil {
		s.fail(w, r, v, http.StatusBadGateway, err.Error())
		return
	}
	if !ok {
		s.fail(w, r, v, http.StatusForbidden, refusal(v.User, action+" migration "+name, []Permission{need}))
		return
	}
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if action == "abort" && reason == "" {
		s.fail(w, r, v, http.StatusBadRequest, "Say why you abort: the reason goes into the migration's status and its notifications.")
		return
	}
	if err := s.steer(ctx, v, ns, name, action, reason); err != nil {
		s.fail(w, r, v, http.StatusBadGateway, err.Error())
		return
	}
	http.Redirect(w, r, "/migrations/"+url.PathEscape(ns)+"/"+url.PathEscape(name)+"?did="+action, http.StatusSeeOther)
}

// steer carries out an action with the viewer's credentials: pause and resume set
// spec.paused, promote and abort queue a request the controller acknowledges.
func (s *Server) steer(ctx context.Context, v *viewer, ns, name, action, reason string) error {
	sc, err := scheme()
	if err != nil {
		return err
	}
	c, err := client.New(s.userRest(v), client.Options{Scheme: sc})
	if err != nil {
		return fmt.Errorf("connect as %s: %w", v.User, err)
	}
	key := types.NamespacedName{Namespace: ns, Name: name}
	m := &v1alpha1.Migration{}
	m.Namespace, m.Name = ns, name
	switch action {
	case "pause", "resume":
		patch, _ := json.Marshal(map[string]any{"spec": map[string]any{"paused": action == "pause"}})
		if err := c.Patch(ctx, m, client.RawPatch(types.MergePatchType, patch)); err != nil {
			return fmt.Errorf("%s migration %s: %w", action, name, err)
		}
		return nil
	}
	cur, _, err := s.source.Migration(ctx, ns, name)
	if err != nil {
		return err
	}
	run := ""
	if cur != nil {
		if st := engineState(cur); st != nil {
			run = st.Run
		}
	}
	if action == "abort" {
		reason = fmt.Sprintf("%s (%s, from the dashboard)", reason, v.User)
	} else {
		reason = fmt.Sprintf("by %s from the dashboard", v.User)
	}
	req := migrate.Request{ID: "dashboard-" + strings.ToLower(rand.Text()[:12]), Action: action, Reason: reason, Run: run, At: time.Now()}
	return kubestore.New(kubestore.Config{Client: c, Key: key}).PutRequest(ctx, req)
}
