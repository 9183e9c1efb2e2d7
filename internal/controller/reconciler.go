package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
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
}

// Reconcile implements reconcile.Reconciler: get → deferred status patch (phase,
// conditions, observedGeneration) → paused → one engine step → RequeueAfter.
func (r *MigrationReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	log := ctrl.LoggerFrom(ctx)
	var m v1alpha1.Migration
	if err := r.Reader.Get(ctx, req.NamespacedName, &m); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	store := kubestore.New(kubestore.Config{Client: r.Client, Reader: r.Reader, Key: req.NamespacedName, Runners: r.Runners})
	before, err := store.Load(ctx)
	if err != nil && !errors.Is(err, migrate.ErrNoMigration) {
		return ctrl.Result{}, err
	}
	after := before
	defer func() {
		if err := r.patchStatus(ctx, &m, after, retErr); err != nil {
			log.Error(err, "patch the Migration's status")
			retErr = errors.Join(retErr, err)
		}
	}()
	if after != nil && after.Phase.Done() {
		return ctrl.Result{}, nil
	}
	if m.Spec.Paused {
		return ctrl.Result{}, nil // clearing spec.paused changes the generation: a reconcile follows
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
	stepCtx, cancel := context.WithTimeout(ctx, orDefault(r.StepTimeout, DefaultStepTimeout))
	defer cancel()
	st, err := migrate.Step(stepCtx, cfg)
	switch {
	case errors.Is(err, migrate.ErrConflict) || errors.Is(err, migrate.ErrRunnerActive):
		log.V(1).Info("another save came first; stepping again from the recorded state")
		return ctrl.Result{RequeueAfter: conflictRetry}, nil
	case err != nil:
		return ctrl.Result{}, err
	}
	after = st
	r.announce(&m, before, after)
	if after.Phase.Done() {
		return ctrl.Result{}, nil
	}
	return ctrl.Result{RequeueAfter: p.Interval}, nil
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

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
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
// step advanced, an abort, a completion.
func (r *MigrationReconciler) announce(m *v1alpha1.Migration, before, after *migrate.State) {
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
	if before != nil && before.Phase == after.Phase {
		return
	}
	switch after.Phase {
	case migrate.PhaseAborted:
		note(corev1.EventTypeWarning, "Aborted", "aborted, all traffic back to legacy: %s", after.Reason)
	case migrate.PhaseCompleted:
		note(corev1.EventTypeNormal, "Completed", "completed: all traffic on kubernetes")
	}
}

// patchStatus writes what the reconcile observed beside the store's record: the
// phase, the conditions and the generation seen. It merges only those fields, so it
// never undoes a save of the store.
func (r *MigrationReconciler) patchStatus(ctx context.Context, m *v1alpha1.Migration, st *migrate.State, stepErr error) error {
	base := m.DeepCopy()
	s := &m.Status
	s.ObservedGeneration = m.Generation
	switch {
	case st == nil:
		s.Phase = v1alpha1.PhasePending
	case m.Spec.Paused && !st.Phase.Done():
		s.Phase = v1alpha1.PhasePaused
	default:
		s.Phase = kubestore.PhaseOf(st.Phase)
	}
	set := func(typ string, ok bool, reason, msg string) {
		status := metav1.ConditionFalse
		if ok {
			status = metav1.ConditionTrue
		}
		meta.SetStatusCondition(&s.Conditions, metav1.Condition{Type: typ, Status: status, Reason: reason, Message: msg, ObservedGeneration: m.Generation})
	}
	phase := string(s.Phase)
	set(v1alpha1.ConditionReady, s.Phase == v1alpha1.PhaseCompleted, phase, readyMessage(st))
	set(v1alpha1.ConditionProgressing, s.Phase == v1alpha1.PhaseProgressing || s.Phase == v1alpha1.PhasePending, phase, "")
	switch {
	case stepErr != nil:
		reason := "StepFailed"
		if errors.Is(stepErr, reconcile.TerminalError(nil)) {
			reason = "InvalidSpec"
		}
		set(v1alpha1.ConditionDegraded, true, reason, stepErr.Error())
	case st != nil && (st.Phase == migrate.PhaseAborting || st.Phase == migrate.PhaseAborted):
		set(v1alpha1.ConditionDegraded, true, "Aborted", st.Reason)
	default:
		set(v1alpha1.ConditionDegraded, false, "Healthy", "")
	}
	return r.Client.Status().Patch(ctx, m, client.MergeFrom(base))
}

func readyMessage(st *migrate.State) string {
	switch {
	case st == nil:
		return "not started"
	case st.Phase == migrate.PhaseCompleted:
		return "all traffic on kubernetes"
	}
	return fmt.Sprintf("step %d at %s to kubernetes", st.Step+1, traffic.FormatPercent(st.Applied.Kubernetes))
}
