package controller

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"

	"ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/analysis"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/migrate/kubestore"
)

// Metrics are the controller's Prometheus metrics of each Migration it runs, served
// on the manager's metrics endpoint beside controller-runtime's own (among them
// controller_runtime_reconcile_total, controller_runtime_reconcile_errors_total and
// the controller_runtime_reconcile_time_seconds histogram, by controller).
type Metrics struct {
	step    *prometheus.GaugeVec
	weight  *prometheus.GaugeVec
	verdict *prometheus.GaugeVec
	phase   *prometheus.GaugeVec
	errors  *prometheus.CounterVec
}

// Verdict values of ferry_migration_gate_verdict.
const (
	verdictFail    = -1
	verdictPending = 0
	verdictPass    = 1
)

var phases = []v1alpha1.Phase{v1alpha1.PhasePending, v1alpha1.PhaseProgressing, v1alpha1.PhasePaused, v1alpha1.PhaseCompleted, v1alpha1.PhaseAborted}

// NewMetrics registers the Migration metrics with reg (controller-runtime's
// metrics.Registry in the controller). Metrics registered before, by another manager
// of the same process, are shared.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	ids := []string{"namespace", "migration"}
	gauge := func(name, help string, labels ...string) (*prometheus.GaugeVec, error) {
		return registered(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, append(ids, labels...)))
	}
	var x Metrics
	var err error
	if x.step, err = gauge("ferry_migration_step", "The Migration's current step, counted from 1."); err != nil {
		return nil, err
	}
	if x.weight, err = gauge("ferry_migration_weight", "The share of traffic in percent the router last confirmed, by side (legacy, kubernetes).", "side"); err != nil {
		return nil, err
	}
	if x.verdict, err = gauge("ferry_migration_gate_verdict", "The latest verdict of each gate of the current step: 1 pass, 0 pending, -1 fail.", "gate"); err != nil {
		return nil, err
	}
	if x.phase, err = gauge("ferry_migration_phase", "1 for the Migration's phase (Pending, Progressing, Paused, Completed, Aborted), 0 for the others.", "phase"); err != nil {
		return nil, err
	}
	if x.errors, err = registered(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ferry_migration_reconcile_errors_total",
		Help: "Reconciles of the Migration that ended in an error: a router or metric source that failed, an invalid spec."}, ids)); err != nil {
		return nil, err
	}
	return &x, nil
}

// registered registers c and returns it, or the same collector registered before.
func registered[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var dup prometheus.AlreadyRegisteredError
	if errors.As(err, &dup) {
		if existing, ok := dup.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}

// observe sets m's gauges from its recorded state.
func (x *Metrics) observe(m *v1alpha1.Migration, st *migrate.State) {
	if x == nil {
		return
	}
	id := prometheus.Labels{"namespace": m.Namespace, "migration": m.Name}
	with := func(k, v string) prometheus.Labels {
		l := prometheus.Labels{k: v}
		for key, val := range id {
			l[key] = val
		}
		return l
	}
	current := kubestore.Phase(m, st)
	for _, p := range phases {
		v := 0.0
		if p == current {
			v = 1
		}
		x.phase.With(with("phase", string(p))).Set(v)
	}
	if st == nil {
		return
	}
	x.step.With(id).Set(float64(st.Step + 1))
	x.weight.With(with("side", "legacy")).Set(float64(st.Applied.Legacy) / 100)
	x.weight.With(with("side", "kubernetes")).Set(float64(st.Applied.Kubernetes) / 100)
	x.verdict.DeletePartialMatch(id) // the gates of a step before
	for _, g := range st.Gates {
		x.verdict.With(with("gate", g.Gate)).Set(verdictValue(g.Verdict))
	}
}

func verdictValue(v analysis.Verdict) float64 {
	switch v {
	case analysis.Pass:
		return verdictPass
	case analysis.Fail:
		return verdictFail
	}
	return verdictPending
}

// failed counts a reconcile of key that ended in an error.
func (x *Metrics) failed(key types.NamespacedName) {
	if x == nil {
		return
	}
	x.errors.With(prometheus.Labels{"namespace": key.Namespace, "migration": key.Name}).Inc()
}

// forget drops the series of a Migration that was deleted.
func (x *Metrics) forget(key types.NamespacedName) {
	if x == nil {
		return
	}
	id := prometheus.Labels{"namespace": key.Namespace, "migration": key.Name}
	for _, v := range []*prometheus.GaugeVec{x.step, x.weight, x.verdict, x.phase} {
		v.DeletePartialMatch(id)
	}
	x.errors.DeletePartialMatch(id)
}
