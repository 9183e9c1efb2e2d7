package controller

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/kube"
	"ferry.dev/ferry/internal/migrate/kubestore"
)

// DefaultWorkers is how many Migrations are reconciled at once by default: a
// reconcile mostly waits on the router and the metric source, so one worker leaves a
// fleet of Migrations queued behind the slowest (bench/controller).
const DefaultWorkers = 8

// MaxWorkers bounds --workers.
const MaxWorkers = 64

// LeaderElectionID names the Lease the controllers elect their leader with.
const LeaderElectionID = "ferry-controller.ferry.dev"

// Config is how the controller runs.
type Config struct {
	// Namespace limits the controller to one namespace; empty: all.
	Namespace string
	// LeaderElect makes the process run Migrations only while it holds the Lease
	// LeaderElectionID in LeaderElectionNamespace: with several replicas, one runs
	// them all (the one runner kubestore.Store.Lock relies on).
	LeaderElect             bool
	LeaderElectionNamespace string
	// LeaseDuration, RenewDeadline and RetryPeriod tune the election (zero:
	// controller-runtime's 15s, 10s and 2s). A leader that dies without releasing
	// the Lease holds it for up to LeaseDuration; another takes it over within one
	// RetryPeriod after that.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// MetricsAddr and HealthAddr are the listen addresses of the metrics and the
	// health (healthz, readyz) endpoints; "0" turns one off.
	MetricsAddr, HealthAddr string
	// Kube reaches the cluster for the routers that need it.
	Kube kube.Options
	// Workers is how many Migrations are reconciled at once (default DefaultWorkers).
	// One Migration is never reconciled by two workers at a time.
	Workers int
	// SeveralPerProcess lets tests start several managers in one process (their
	// controllers share a name).
	SeveralPerProcess bool
}

// Scheme returns the types the controller reads and writes.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, v1alpha1.AddToScheme} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// NewManager returns a manager running the Migration reconciler, not yet started.
func NewManager(rc *rest.Config, cfg Config) (manager.Manager, error) {
	scheme, err := Scheme()
	if err != nil {
		return nil, err
	}
	opts := ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsserver.Options{BindAddress: cfg.MetricsAddr},
		HealthProbeBindAddress:  cfg.HealthAddr,
		LeaderElection:          cfg.LeaderElect,
		LeaderElectionID:        LeaderElectionID,
		LeaderElectionNamespace: cfg.LeaderElectionNamespace,
		// A new leader must not start while the old one may still act; the stores'
		// revision checks stop one that does anyway.
		LeaderElectionReleaseOnCancel: true,
		Controller:                    config.Controller{SkipNameValidation: &cfg.SeveralPerProcess, MaxConcurrentReconciles: orDefault(cfg.Workers, DefaultWorkers)},
	}
	if cfg.LeaseDuration > 0 {
		opts.LeaseDuration = &cfg.LeaseDuration
	}
	if cfg.RenewDeadline > 0 {
		opts.RenewDeadline = &cfg.RenewDeadline
	}
	if cfg.RetryPeriod > 0 {
		opts.RetryPeriod = &cfg.RetryPeriod
	}
	if cfg.Namespace != "" {
		opts.Cache = cache.Options{DefaultNamespaces: map[string]cache.Config{cfg.Namespace: {}}}
	}
	mgr, err := ctrl.NewManager(rc, opts)
	if err != nil {
		return nil, fmt.Errorf("start the controller: %w", err)
	}
	if err := Setup(mgr, cfg.Kube); err != nil {
		return nil, err
	}
	if cfg.HealthAddr != "" && cfg.HealthAddr != "0" {
		if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
			return nil, err
		}
		if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
			return nil, err
		}
	}
	return mgr, nil
}

// Setup adds the Migration reconciler to mgr. It reconciles on spec edits and on
// annotations (manual requests), not on status writes: the controller's own saves
// must not set off evaluations, which RequeueAfter schedules.
func Setup(mgr manager.Manager, kubeOpts kube.Options) error {
	m, err := NewMetrics(metrics.Registry)
	if err != nil {
		return fmt.Errorf("register the controller's metrics: %w", err)
	}
	r := &MigrationReconciler{
		Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), Recorder: mgr.GetEventRecorder("ferry-controller"),
		Kube: kubeOpts, Runners: &kubestore.Runners{}, Metrics: m,
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.Migration{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Complete(r)
}

// Run runs the controller until ctx ends.
func Run(ctx context.Context, rc *rest.Config, cfg Config) error {
	mgr, err := NewManager(rc, cfg)
	if err != nil {
		return err
	}
	return mgr.Start(ctx)
}
