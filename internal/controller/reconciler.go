package controller

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/kube"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/migrate/kubestore"
	"ferry.dev/ferry/internal/providers"
	"ferry.dev/ferry/internal/traffic"
)

// Defaults of the reconciler.
const (
	// DefaultStepTimeout bounds one engine step; an abort cut short is recorded and
	// finished by the next reconcile.
	DefaultStepTimeout = 2 * time.Minute
	// conflictRetry is how soon a reconcile whose save lost to another runs again.
	conflictRetry = 500 * time.Millisecond
)

// The RBAC markers below are everything the controller does in the cluster; `make
// generate` turns them into config/rbac/role.yaml. Migrations are read through the
// cache (list, watch) and past it (get), their request annotations removed (patch),
// their status written by the store (update) and the reconciler (patch); Secrets are
// read one by one, never listed; Events are recorded by the reconciler (events.k8s.io)
// and by leader election (core); the Lease elects the leader. The gateway and alb
// routers read the Services and patch the HTTPRoute or Ingress they split on; the
// proxy fleet router lists the proxy Service's EndpointSlices.
//
// +kubebuilder:rbac:groups=ferry.dev,resources=migrations,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=ferry.dev,resources=migrations/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get
// +kubebuilder:rbac:groups="",resources=services,verbs=get
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;create;update
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=httproutes,verbs=get;patch
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses,verbs=get;patch
// +kubebuilder:rbac:groups=discovery.k8s.io,resources=endpointslices,verbs=list;watch

// MigrationReconciler runs each Migration one engine step per reconcile and
// schedules the next with RequeueAfter the plan's interval.
type MigrationReconciler struct {
	// Client writes; Reader reads past the cache, so a step starts from the state
	// as recorded (the store's saves are checked against it anyway).
	Client   client.Client
	Reader   client.Reader
	Recorder events.EventRecorder
	// Kube reaches the cluster for the routers that need it (gateway, alb).
	Kube kube.Options
	// Runners are the Migrations this process runs (see kubestore.Store.Lock).
	Runners *kubestore.Runners
	// StepTimeout bounds one step (default DefaultStepTimeout).
	StepTimeout time.Duration
	// Metrics, when set, receive each Migration's step, weights, gates and phase.
	Metrics *Metrics
}

// observed is what one reconcile saw of the step's evaluation.
type observed struct {
	// evaluated is true when the gates judged the step (or a pause held it).
	evaluated bool
	// hold is why the step holds; empty when it did not.
	hold string
}

// Reconcile implements reconcile.Reconciler: get → deferred status patch (phase,
// conditions, observedGeneration) and metrics → spec.paused carried over to the
// engine → one engine step → RequeueAfter.
//
// A paused Migration still takes its requests (an abort must always land), but the
// engine holds its step; it is reconciled again when an annotation or the spec
// changes, not on the interval.
func (r *MigrationReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	log := ctrl.LoggerFrom(ctx)
	var m v1alpha1.Migration
	if err := r.Reader.Get(ctx, req.NamespacedName, &m); err != nil {
		if apierrors.IsNotFound(err) {
			r.Metrics.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	store := kubestore.New(kubestore.Config{Client: r.Client, Reader: r.Reader, Key: req.NamespacedName, Runners: r.Runners})
	before, err := store.Load(ctx)
	if errors.Is(err, migrate.ErrUnusableState) {
		if err = r.abortUnusable(ctx, &m, store, err); err == nil {
			before, err = store.Load(ctx)
		}
	}
	if err != nil && !errors.Is(err, migrate.ErrNoMigration) {
		r.Metrics.failed(req.NamespacedName)
		return ctrl.Result{}, errors.Join(err, r.degraded(ctx, &m, "UnusableState", err))
	}
	after := before
	var seen observed
	defer func() {
		// The metrics first: whoever sees the status sees metrics as new.
		r.Metrics.observe(&m, after)
		if retErr != nil {
			r.Metrics.failed(req.NamespacedName)
		}
		if err := r.patchStatus(ctx, &m, after, seen, retErr); err != nil {
			log.Error(err, "patch the Migration's status")
			retErr = errors.Join(retErr, err)
		}
	}()
	if after != nil && after.Phase.Done() {
		return ctrl.Result{}, nil
	}
	if m.Spec.Paused && before == nil {
		return ctrl.Result{}, nil // not started while paused; clearing spec.paused reconciles again
	}
	p, creds, err := m.Plan(ctx, r.secret(m.Namespace))
	if err != nil {
		return ctrl.Result{}, reconcile.TerminalError(err) // an edit of the spec reconciles again
	}
	if wait := notDue(&m, before, p.Interval); wait > 0 {
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	cfg, err := providers.Config(ctx, p, providers.Options{Kube: r.Kube, Store: store, Secrets: &providers.Secrets{
		ProxyToken: creds.ProxyToken, PrometheusToken: creds.PrometheusToken, DatadogAPIKey: creds.DatadogAPIKey, DatadogAppKey: creds.DatadogAppKey,
	}})
	if err != nil {
		return ctrl.Result{}, reconcile.TerminalError(err)
	}
	cfg.OnEvaluate = func(st *migrate.State, d migrate.Decision) {
		seen.evaluated = true
		seen.hold = ""
		if d.Action == migrate.ActionHold && st.Phase == migrate.PhaseRunning {
			seen.hold = d.Reason
		}
	}
	stepCtx, cancel := context.WithTimeout(ctx, orDefault(r.StepTimeout, DefaultStepTimeout))
	defer cancel()
	err = carryPause(stepCtx, cfg, m.Spec.Paused, before)
	var st *migrate.State
	if err == nil {
		st, err = migrate.Step(stepCtx, cfg)
	}
	switch {
	case errors.Is(err, migrate.ErrConflict) || errors.Is(err, migrate.ErrRunnerActive) || migrate.IsQueued(err):
		log.V(1).Info("another save came first; stepping again from the recorded state")
		return ctrl.Result{RequeueAfter: conflictRetry}, nil
	case err != nil:
		return ctrl.Result{}, err
	}
	after = st
	r.announce(&m, before, after, seen)
	switch {
	case after.Phase.Done():
		return ctrl.Result{}, nil
	case m.Spec.Paused && after.Phase != migrate.PhaseAborting:
		return ctrl.Result{}, nil
	}
	return ctrl.Result{RequeueAfter: p.Interval}, nil
}

// abortUnusable carries out an abort requested of a Migration whose recorded state
// cannot be used: all traffic goes to legacy by the plan alone and a fresh aborted
// state replaces the record (migrate.Control). Without an abort among the requests,
// or when the abort fails, the migration stays stuck and unusable is returned.
func (r *MigrationReconciler) abortUnusable(ctx context.Context, m *v1alpha1.Migration, store *kubestore.Store, unusable error) error {
	p, creds, err := m.Plan(ctx, r.secret(m.Namespace))
	if err != nil {
		return fmt.Errorf("%w (and the spec: %w)", unusable, err)
	}
	reqs, _ := store.TakeRequests(ctx) // unreadable ones are dropped; an abort is what counts
	for _, req := range reqs {
		if req.Action != "abort" {
			continue
		}
		cfg, err := providers.Config(ctx, p, providers.Options{Kube: r.Kube, Store: store, Secrets: &providers.Secrets{
			ProxyToken: creds.ProxyToken, PrometheusToken: creds.PrometheusToken, DatadogAPIKey: creds.DatadogAPIKey, DatadogAppKey: creds.DatadogAppKey,
		}})
		if err != nil {
			return fmt.Errorf("%w (and the spec: %w)", unusable, err)
		}
		stepCtx, cancel := context.WithTimeout(ctx, orDefault(r.StepTimeout, DefaultStepTimeout))
		defer cancel()
		if err := migrate.Control(stepCtx, cfg, req); err != nil {
			return fmt.Errorf("%w; the abort asked failed: %w", unusable, err)
		}
		if r.Recorder != nil {
			r.Recorder.Eventf(m, nil, corev1.EventTypeWarning, "Aborted", "Step", "aborted, all traffic back to legacy by the plan alone (the recorded state could not be used): %s", req.Reason)
		}
		return nil
	}
	return unusable
}

// carryPause makes the engine's phase follow spec.paused: the engine pauses (the
// weights stay, the gates stop judging) and resumes as the engine's own pause and
// resume do, recorded in the migration's log.
func carryPause(ctx context.Context, cfg migrate.Config, paused bool, st *migrate.State) error {
	switch {
	case st == nil:
		return nil
	case paused && st.Phase == migrate.PhaseRunning:
		return migrate.Control(ctx, cfg, migrate.Request{Action: "pause", Reason: "(spec.paused set)"})
	case !paused && st.Phase == migrate.PhasePaused:
		return migrate.Control(ctx, cfg, migrate.Request{Action: "resume", Reason: "(spec.paused cleared)"})
	}
	return nil
}

// notDue returns how long until the next evaluation is due when it is not yet: a
// reconcile set off by the controller's own writes (an annotation it removed) must
// not evaluate early. A spec edit or a queued request is due at once.
func notDue(m *v1alpha1.Migration, st *migrate.State, interval time.Duration) time.Duration {
	if st == nil || m.Generation != m.Status.ObservedGeneration {
		return 0
	}
	for key := range m.Annotations {
		if strings.HasPrefix(key, kubestore.RequestPrefix) {
			return 0
		}
	}
	return time.Until(st.Updated.Add(interval))
}

// orDefault returns v, or def when v is not set (zero or below).
func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// secret reads Secrets of one namespace.
func (r *MigrationReconciler) secret(namespace string) func(context.Context, v1alpha1.SecretKeyRef) (string, error) {
	return func(ctx context.Context, ref v1alpha1.SecretKeyRef) (string, error) {
		var s corev1.Secret
		if err := r.Reader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: ref.Name}, &s); err != nil {
			return "", err
		}
		v, ok := s.Data[ref.Key]
		if !ok {
			return "", fmt.Errorf("the Secret has no key %s", ref.Key)
		}
		return string(v), nil
	}
}

// announce records a Kubernetes Event for each change a step made: a run begun, a
// step advanced, a new reason to hold, a pause or resume, an abort, a completion.
func (r *MigrationReconciler) announce(m *v1alpha1.Migration, before, after *migrate.State, seen observed) {
	if r.Recorder == nil {
		return
	}
	note := func(kind, reason, format string, args ...any) {
		r.Recorder.Eventf(m, nil, kind, reason, "Step", format, args...)
	}
	if before == nil {
		note(corev1.EventTypeNormal, "Started", "migration started at %s", traffic.FormatPercent(after.Target.Kubernetes))
	} else if after.Step != before.Step {
		note(corev1.EventTypeNormal, "StepAdvanced", "step %d: %s to kubernetes", after.Step+1, traffic.FormatPercent(after.Target.Kubernetes))
	}
	if seen.hold != "" && (after.Step != stepOf(before) || holdKind(seen.hold) != holdKind(kubestore.Hold(m))) {
		note(corev1.EventTypeNormal, "Holding", "step %d holds: %s", after.Step+1, seen.hold)
	}
	if before != nil && before.Phase == after.Phase {
		return
	}
	switch after.Phase {
	case migrate.PhasePaused:
		note(corev1.EventTypeNormal, "Paused", "paused at step %d: the weights stay, the gates stop judging", after.Step+1)
	case migrate.PhaseRunning:
		if before != nil && before.Phase == migrate.PhasePaused {
			note(corev1.EventTypeNormal, "Resumed", "resumed at step %d", after.Step+1)
		}
	case migrate.PhaseAborted:
		note(corev1.EventTypeWarning, "Aborted", "aborted, all traffic back to legacy: %s", after.Reason)
	case migrate.PhaseCompleted:
		note(corev1.EventTypeNormal, "Completed", "completed: all traffic on kubernetes")
	}
}

func stepOf(st *migrate.State) int {
	if st == nil {
		return -1
	}
	return st.Step
}

// counts are the numbers in a reason to hold: they change at every evaluation
// ("240 more requests", "holding 3s more") while the reason stays the same.
var counts = regexp.MustCompile(`[0-9][0-9a-zµ.]*`)

// holdKind is a reason to hold without its counts, so that an Event marks a new
// reason, not a new count.
func holdKind(reason string) string { return counts.ReplaceAllString(reason, "N") }

// degraded sets only the Degraded condition, for a reconcile that could not read the
// recorded state: the rest of the status stays as recorded.
func (r *MigrationReconciler) degraded(ctx context.Context, m *v1alpha1.Migration, reason string, cause error) error {
	base := m.DeepCopy()
	meta.SetStatusCondition(&m.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionDegraded, Status: metav1.ConditionTrue,
		Reason: reason, Message: cause.Error() + "; an abort (ferry migrate abort NAME) still sends all traffic to legacy", ObservedGeneration: m.Generation})
	return r.Client.Status().Patch(ctx, m, client.MergeFrom(base))
}

// patchStatus writes what the reconcile observed beside the store's record: the
// phase, the conditions (the Progressing condition says why the step holds) and the
// generation seen. It merges only those fields, so it never undoes a save of the
// store.
func (r *MigrationReconciler) patchStatus(ctx context.Context, m *v1alpha1.Migration, st *migrate.State, seen observed, stepErr error) error {
	base := m.DeepCopy()
	s := &m.Status
	s.ObservedGeneration = m.Generation
	s.Phase = kubestore.Phase(m, st)
	hold := kubestore.Hold(m)
	if seen.evaluated {
		hold = seen.hold
	}
	kubestore.SetConditions(m, st, hold, m.Generation)
	if stepErr != nil {
		reason := "StepFailed"
		if errors.Is(stepErr, reconcile.TerminalError(nil)) {
			reason = "InvalidSpec"
		}
		kubestore.SetCondition(m, v1alpha1.ConditionDegraded, true, reason, stepErr.Error(), m.Generation)
	}
	return r.Client.Status().Patch(ctx, m, client.MergeFrom(base))
}
