package kubestore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/plan"
	"ferry.dev/ferry/internal/traffic"
)

// RequestPrefix starts the annotation key of a queued manual request; the request's
// ID follows it, and its value is the request as JSON: {"action": "promote" or
// "abort", "reason": "…"}, with "id" (default: the key's), "at" (default: when it is
// taken) and "run" (default: the run recorded when it is taken) optional, so that
// `kubectl annotate` queues a request as well as ferry does. The controller pauses
// and resumes by spec.paused, which wins over a pause or resume request.
const RequestPrefix = "ferry.dev/request-"

// MaxEvents is how many lines of the migration's log the status keeps; the
// controller's Kubernetes Events carry the step changes beyond them.
const MaxEvents = 20

// maxAcknowledged bounds the request IDs the status remembers as taken.
const maxAcknowledged = 64

// Config says which Migration a Store keeps.
type Config struct {
	// Client writes the resource; Reader reads it (default Client). Give the
	// controller's uncached reader: a save checks the revision it reads.
	Client client.Client
	Reader client.Reader
	Key    types.NamespacedName
	// Runners holds the process's locks; nil means one of the store's own. The
	// controller shares one among its stores.
	Runners *Runners
}

// Store is a migrate.Store on one Migration resource.
//
// The state is the status: the engine's record (status.engine) with a revision that
// counts saves (status.revision, the state's Version), beside the readable fields
// kubectl shows, all written by one status update conditional on the resourceVersion
// of the read that checked the revision. The Version is that revision, not the
// resourceVersion, because annotations, spec edits and request acknowledgements
// change the resourceVersion without changing the migration's state: comparing on it
// would refuse the runner's next save after every manual request.
//
// Lock is a lock within the process: the controller runs with leader election, so
// the elected process is the one runner of every Migration, and controller-runtime
// never reconciles one object twice at a time. A process that lost its lease and
// still acts is stopped by Save's revision check.
type Store struct {
	cfg Config
}

var _ migrate.Store = (*Store)(nil)

// New returns the store of one Migration.
func New(cfg Config) *Store {
	if cfg.Reader == nil {
		cfg.Reader = cfg.Client
	}
	if cfg.Runners == nil {
		cfg.Runners = &Runners{}
	}
	return &Store{cfg: cfg}
}

func (s *Store) get(ctx context.Context) (*v1alpha1.Migration, error) {
	var m v1alpha1.Migration
	if err := s.cfg.Reader.Get(ctx, s.cfg.Key, &m); err != nil {
		return nil, fmt.Errorf("read migration %s: %w", s.cfg.Key, err)
	}
	return &m, nil
}

// Load implements migrate.Store.
func (s *Store) Load(ctx context.Context) (*migrate.State, error) {
	m, err := s.get(ctx)
	if err != nil {
		return nil, err
	}
	return stateOf(m)
}

// String names the store's record, for messages about it.
func (s *Store) String() string { return "migration " + s.cfg.Key.String() }

// stateOf decodes the status's record; ErrNoMigration when there is none. A record
// that is not a state is ErrUnusableState, returned with a State that holds only its
// Version, so that a Save at it (an abort's fresh record) replaces it.
func stateOf(m *v1alpha1.Migration) (*migrate.State, error) {
	if m.Status.Engine == nil || len(m.Status.Engine.Raw) == 0 {
		return nil, migrate.ErrNoMigration
	}
	var st migrate.State
	if err := json.Unmarshal(m.Status.Engine.Raw, &st); err != nil {
		return &migrate.State{Version: strconv.FormatInt(m.Status.Revision, 10)},
			fmt.Errorf("%w migration %s/%s: status.engine is not a migration state (%s)", migrate.ErrUnusableState, m.Namespace, m.Name, jsonProblem(err))
	}
	for _, e := range m.Status.Events {
		st.Events = append(st.Events, migrate.Event{Time: e.Time.Time, Message: e.Message})
	}
	st.Version = strconv.FormatInt(m.Status.Revision, 10)
	return &st, nil
}

// recordedVersion is the Version a Save must carry: empty when nothing is recorded.
func recordedVersion(m *v1alpha1.Migration) string {
	if m.Status.Engine == nil {
		return ""
	}
	return strconv.FormatInt(m.Status.Revision, 10)
}

// Save implements migrate.Store.
func (s *Store) Save(ctx context.Context, st *migrate.State) error {
	for {
		m, err := s.get(ctx)
		if err != nil {
			return err
		}
		if recordedVersion(m) != st.Version {
			return migrate.ErrConflict
		}
		revision := m.Status.Revision + 1
		if err := record(m, st, revision); err != nil {
			return err
		}
		err = s.cfg.Client.Status().Update(ctx, m)
		if apierrors.IsConflict(err) {
			continue // the resource changed since the read: check the revision again
		}
		if err != nil {
			return fmt.Errorf("save migration %s: %w", s.cfg.Key, err)
		}
		st.Version = strconv.FormatInt(revision, 10)
		return nil
	}
}

// record writes st into m's status at revision: the engine's record and the fields
// people read.
func record(m *v1alpha1.Migration, st *migrate.State, revision int64) error {
	engine := *st
	engine.Events = nil // kept in status.events
	raw, err := json.Marshal(&engine)
	if err != nil {
		return fmt.Errorf("encode migration state: %w", err)
	}
	ms := &m.Status
	ms.Engine = &apiextensionsv1.JSON{Raw: raw}
	ms.Revision = revision
	ms.Phase = Phase(m, st)
	ms.CurrentStep = int32(st.Step + 1)
	steps := len(m.Spec.Steps)
	if steps == 0 {
		steps = len(plan.DefaultWeights)
	}
	ms.StepDisplay = fmt.Sprintf("%d/%d", st.Step+1, steps)
	started := metav1.NewTime(st.StepStarted)
	ms.StepStarted = &started
	ms.TargetWeight = traffic.FormatPercent(st.Target.Kubernetes)
	ms.AppliedWeight = traffic.FormatPercent(st.Applied.Kubernetes)
	ms.Gates, ms.GateSummary = nil, ""
	var summary []string
	for _, g := range st.Gates {
		ms.Gates = append(ms.Gates, v1alpha1.GateStatus{Name: g.Gate, Verdict: string(g.Verdict), Message: g.Message})
		summary = append(summary, g.Gate+"="+string(g.Verdict))
	}
	ms.GateSummary = strings.Join(summary, " ")
	ms.AbortReason = ""
	if st.Phase == migrate.PhaseAborting || st.Phase == migrate.PhaseAborted {
		ms.AbortReason = st.Reason
	}
	events := st.Events[max(0, len(st.Events)-MaxEvents):]
	ms.Events = make([]v1alpha1.Event, 0, len(events))
	for _, e := range events {
		ms.Events = append(ms.Events, v1alpha1.Event{Time: metav1.NewMicroTime(e.Time), Message: e.Message})
	}
	// The conditions follow the phase in the same write, at the generation the
	// controller last observed; its next reconcile refines them.
	SetConditions(m, st, Hold(m), ms.ObservedGeneration)
	return nil
}

// PhaseOf is the Migration's phase for an engine phase; an abort under way is still
// progressing (its Degraded condition says why).
func PhaseOf(p migrate.Phase) v1alpha1.Phase {
	switch p {
	case migrate.PhasePaused:
		return v1alpha1.PhasePaused
	case migrate.PhaseAborted:
		return v1alpha1.PhaseAborted
	case migrate.PhaseCompleted:
		return v1alpha1.PhaseCompleted
	}
	return v1alpha1.PhaseProgressing
}

// Lock implements migrate.Store (see Store: a lock within the process).
func (s *Store) Lock(context.Context) (func(), error) {
	return s.cfg.Runners.lock(s.cfg.Key)
}

// Runners are the Migrations this process runs at the moment.
type Runners struct {
	mu   sync.Mutex
	held map[types.NamespacedName]bool
}

func (r *Runners) lock(key types.NamespacedName) (func(), error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.held[key] {
		return nil, migrate.ErrRunnerActive
	}
	if r.held == nil {
		r.held = map[types.NamespacedName]bool{}
	}
	r.held[key] = true
	var once sync.Once
	return func() {
		once.Do(func() {
			r.mu.Lock()
			delete(r.held, key)
			r.mu.Unlock()
		})
	}, nil
}

// validID reports whether id can end an annotation key (63 characters in all).
func validID(id string) bool {
	return id != "" && len("request-"+id) <= 63 && !strings.ContainsFunc(id, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_')
	})
}

// PutRequest implements migrate.Store: the request becomes an annotation of its own,
// added by a merge patch, so requests put at the same time never replace each other.
func (s *Store) PutRequest(ctx context.Context, r migrate.Request) error {
	if !validID(r.ID) {
		return fmt.Errorf("request id %q: use up to 55 letters, digits, - and _", r.ID)
	}
	if r.At.IsZero() {
		return fmt.Errorf("request %s has no time", r.ID)
	}
	value, err := json.Marshal(r)
	if err != nil {
		return err
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{RequestPrefix + r.ID: string(value)}}})
	if err != nil {
		return err
	}
	m := &v1alpha1.Migration{ObjectMeta: metav1.ObjectMeta{Namespace: s.cfg.Key.Namespace, Name: s.cfg.Key.Name}}
	if err := s.cfg.Client.Patch(ctx, m, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("queue the request on migration %s: %w", s.cfg.Key, err)
	}
	return nil
}

// TakeRequests implements migrate.Store. Requests are taken by acknowledging their IDs
// in the status, by an update conditional on the resourceVersion read, so of takers
// that read them at the same time only one succeeds; the annotations are removed
// afterwards, and one seen again later (a removal that failed, a manifest applied
// again) is not taken twice while its ID is among the latest acknowledged.
func (s *Store) TakeRequests(ctx context.Context) ([]migrate.Request, error) {
	for {
		m, err := s.get(ctx)
		if err != nil {
			return nil, err
		}
		reqs, ids, errs := pending(m, time.Now())
		if len(ids) == 0 {
			return nil, nil
		}
		acked := append(slices.Clone(m.Status.AcknowledgedRequests), ids...)
		m.Status.AcknowledgedRequests = acked[max(0, len(acked)-maxAcknowledged):]
		err = s.cfg.Client.Status().Update(ctx, m)
		if apierrors.IsConflict(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("take requests of migration %s: %w", s.cfg.Key, err)
		}
		// Acknowledged, the requests are taken; an annotation left behind is ignored.
		_ = s.removeAnnotations(ctx, ids)
		return reqs, errors.Join(errs...)
	}
}

// pending returns the requests of m's annotations not yet acknowledged, oldest first,
// the IDs of all of them (unreadable ones too: they are taken out of the queue) and
// an error for each unreadable one. A request written by hand gets its ID from the
// key, its time (now) and its run (the recorded one) filled in.
func pending(m *v1alpha1.Migration, now time.Time) ([]migrate.Request, []string, []error) {
	var reqs []migrate.Request
	var ids []string
	var errs []error
	run := recordedRun(m)
	for key, value := range m.Annotations {
		id, ok := strings.CutPrefix(key, RequestPrefix)
		if !ok || slices.Contains(m.Status.AcknowledgedRequests, id) {
			continue
		}
		ids = append(ids, id)
		r, err := parseRequest(id, value)
		if err != nil {
			errs = append(errs, fmt.Errorf("annotation %s: %w (dropped)", key, err))
			continue
		}
		if r.At.IsZero() {
			r.At = now
		}
		if r.Run == "" {
			r.Run = run
		}
		reqs = append(reqs, r)
	}
	slices.Sort(ids)
	slices.SortFunc(reqs, func(a, b migrate.Request) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return reqs, ids, errs
}

func (s *Store) removeAnnotations(ctx context.Context, ids []string) error {
	remove := map[string]any{}
	for _, id := range ids {
		remove[RequestPrefix+id] = nil
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": remove}})
	if err != nil {
		return err
	}
	m := &v1alpha1.Migration{ObjectMeta: metav1.ObjectMeta{Namespace: s.cfg.Key.Namespace, Name: s.cfg.Key.Name}}
	return s.cfg.Client.Patch(ctx, m, client.RawPatch(types.MergePatchType, patch))
}

// parseRequest reads the value of the request annotation of id.
func parseRequest(id, value string) (migrate.Request, error) {
	var r migrate.Request
	dec := json.NewDecoder(strings.NewReader(value))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, fmt.Errorf(`not a request: want {"action": "promote" or "abort", "reason": "…"} (%s)`, jsonProblem(err))
	}
	switch {
	case r.ID == "":
		r.ID = id
	case r.ID != id:
		return r, fmt.Errorf("its id %q is not the key's %q", r.ID, id)
	}
	switch r.Action {
	case "promote", "abort", "pause", "resume":
	default:
		return r, fmt.Errorf("action %q: use promote or abort", r.Action)
	}
	return r, nil
}

// recordedRun is the run of m's recorded state; empty when none can be read.
func recordedRun(m *v1alpha1.Migration) string {
	if m.Status.Engine == nil {
		return ""
	}
	var st struct {
		Run string `json:"run"`
	}
	_ = json.Unmarshal(m.Status.Engine.Raw, &st)
	return st.Run
}

// Acknowledged reports whether the controller has taken the request id of m.
func Acknowledged(m *v1alpha1.Migration, id string) bool {
	return slices.Contains(m.Status.AcknowledgedRequests, id)
}

// jsonProblem says in words what is wrong with a JSON document, without the Go
// types a decoding error names.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("not valid JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("%s holds a JSON %s", typ.Field, typ.Value)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends early"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}
