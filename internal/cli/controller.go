package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"ferry.dev/ferry/internal/controller"
	"ferry.dev/ferry/internal/dashboard"
	"ferry.dev/ferry/internal/kube"
)

// controllerOptions are the flags of ferry controller.
type controllerOptions struct {
	cfg           controller.Config
	dashboardAddr string
}

func newControllerCommand(g *globalOptions) *cobra.Command {
	o := &controllerOptions{}
	cmd := &cobra.Command{
		Use:   "controller",
		Short: "Run Migration resources in the cluster (the in-cluster controller)",
		Long: `Run the controller that carries out Migration resources (ferry.dev/v1alpha1): one
evaluation per interval, the state in each Migration's status.

It watches the namespace given with --namespace, or all namespaces without it. It
connects with --kubeconfig/--context, or in-cluster when run in a Pod. With
--leader-elect, replicas elect one leader with a Lease; only the leader runs
Migrations.`,
		Args:        exactArgs(0),
		Annotations: map[string]string{ownsLogs: "json on stderr"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return o.run(ctx, g)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.cfg.LeaderElect, "leader-elect", false, "elect one leader among replicas with a Lease; only it runs Migrations")
	f.StringVar(&o.cfg.LeaderElectionNamespace, "leader-election-namespace", "", "namespace of the leader election Lease (default: the context's, or the Pod's)")
	f.StringVar(&o.cfg.MetricsAddr, "metrics-addr", ":8080", `address of the metrics endpoint ("0" turns it off)`)
	f.StringVar(&o.cfg.HealthAddr, "health-addr", ":8081", `address of /healthz and /readyz ("0" turns them off)`)
	f.IntVar(&o.cfg.Workers, "workers", controller.DefaultWorkers, fmt.Sprintf("Migrations reconciled at once (1 to %d)", controller.MaxWorkers))
	f.StringVar(&o.dashboardAddr, "dashboard-addr", "", "address of the web dashboard, e.g. :8443 (default off); every request needs a bearer token, checked with TokenReview and RBAC")
	return cmd
}

func (o *controllerOptions) run(ctx context.Context, g *globalOptions) error {
	if o.cfg.Workers < 1 || o.cfg.Workers > controller.MaxWorkers {
		return usageError{fmt.Errorf("--workers must be from 1 to %d, got %d", controller.MaxWorkers, o.cfg.Workers)}
	}
	kc, err := kube.New(g.kube)
	if err != nil {
		return err
	}
	routeLibraries(slog.NewJSONHandler(g.stderr, nil))
	cfg := o.cfg
	cfg.Namespace = g.kube.Namespace // the flag only: without it, all namespaces
	cfg.Kube = g.kube
	if cfg.LeaderElectionNamespace == "" {
		cfg.LeaderElectionNamespace = kc.Namespace // in a Pod, the Pod's
	}
	if o.dashboardAddr == "" || o.dashboardAddr == "0" {
		return controller.Run(ctx, kc.Config, cfg)
	}
	// The dashboard serves on every replica, leader or not; either one failing stops both.
	outer := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		err := serveDashboard(ctx, dashboard.Config{
			Rest: kc.Config, Mode: dashboard.ModeCluster, Namespace: cfg.Namespace,
			Log: slog.New(slog.NewJSONHandler(g.stderr, nil)),
		}, o.dashboardAddr)
		if err != nil {
			cancel(err)
		}
	}()
	if err := controller.Run(ctx, kc.Config, cfg); err != nil {
		return err
	}
	if outer.Err() == nil && ctx.Err() != nil {
		return context.Cause(ctx) // the dashboard failed
	}
	return nil
}
