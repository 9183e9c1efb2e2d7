package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"ferry.dev/ferry/internal/dashboard"
	"ferry.dev/ferry/internal/kube"
)

// DefaultDashboardAddr is where ferry dashboard listens without --addr.
const DefaultDashboardAddr = "127.0.0.1:8090"

func newDashboardCommand(g *globalOptions) *cobra.Command {
	addr := DefaultDashboardAddr
	cmd := &cobra.Command{
		Use:   "dashboard",
		Short: "Serve the web dashboard on this machine, as you (your kubeconfig)",
		Long: `Serve ferry's web dashboard on 127.0.0.1 with your kubeconfig: apps with their
revisions, diffs and rollback, migrations with their steps, gates and charts, and
pause, promote and abort. You see and do what your RBAC allows.

It prints a link with a one-time token; opening it signs the browser in. It opens
nothing by itself and never listens beyond this machine: to serve a team, run
ferry controller --dashboard-addr in the cluster instead.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			ln, err := listenLoopback(addr)
			if err != nil {
				return err
			}
			defer ln.Close()
			kc, err := kube.New(g.kube)
			if err != nil {
				return err
			}
			srv, err := dashboard.New(dashboard.Config{
				Rest: kc.Config, Mode: dashboard.ModeLocal, Namespace: g.kube.Namespace,
				Log: slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
			})
			if err != nil {
				return err
			}
			if err := srv.Start(ctx); err != nil {
				return kube.Explain(kc.Config.Host, err)
			}
			fmt.Fprintf(g.stdout, "ferry dashboard for %s\nopen http://%s%s\n(the link signs in once; Ctrl-C stops the dashboard)\n", kc.Config.Host, ln.Addr(), srv.LoginPath())
			return srv.Serve(ctx, ln)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", addr, "address to listen on: 127.0.0.1 or localhost, with a port (0 picks one)")
	return cmd
}

// listenLoopback listens on addr, which must name the loopback address: the laptop
// dashboard acts with the user's own credentials and must not be reachable by others.
func listenLoopback(addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, usageError{fmt.Errorf("--addr %q: give HOST:PORT, e.g. %s", addr, DefaultDashboardAddr)}
	}
	if host != "127.0.0.1" && host != "localhost" {
		return nil, usageError{fmt.Errorf("--addr %q: ferry dashboard listens on 127.0.0.1 only, as it acts with your credentials; to serve others, run ferry controller --dashboard-addr in the cluster", addr)}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return nil, fmt.Errorf("listen on 127.0.0.1:%s: %w", port, errors.Unwrap(err))
	}
	return ln, nil
}

// serveDashboard serves the in-cluster dashboard on addr until ctx ends.
func serveDashboard(ctx context.Context, cfg dashboard.Config, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("dashboard: listen on %s: %w", addr, errors.Unwrap(err))
	}
	defer ln.Close()
	srv, err := dashboard.New(cfg)
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	return srv.Serve(ctx, ln)
}
