package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"ferry.dev/ferry/internal/atomicfile"
	"ferry.dev/ferry/internal/devcluster"
)

func newDevCommand(g *globalOptions) *cobra.Command {
	dev := &cobra.Command{
		Use:   "dev",
		Short: "Tools for developing with ferry on this machine",
		Args:  exactArgs(0),
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cluster := &cobra.Command{
		Use:   "cluster",
		Short: "A real local Kubernetes control plane with fake nodes (etcd, kube-apiserver, controller-manager, scheduler, kwok)",
		Args:  exactArgs(0),
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	var dir string
	cluster.PersistentFlags().StringVar(&dir, "dir", filepath.Join(devcluster.CacheDir(), "dev-cluster"), "run directory of the local cluster")
	cluster.AddCommand(newClusterUpCommand(g, &dir), newClusterDownCommand(g, &dir),
		newClusterKubeconfigCommand(g, &dir), newClusterServeCommand(g, &dir))
	dev.AddCommand(cluster)
	return dev
}

func newClusterUpCommand(g *globalOptions, dir *string) *cobra.Command {
	var nodes int
	var podReadyDelay, timeout time.Duration
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the local cluster in the background (builds its binaries the first time) and print its kubeconfig path",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if nodes < 1 || nodes > 500 {
				return usageError{fmt.Errorf("--nodes must be between 1 and 500, got %d", nodes)}
			}
			if podReadyDelay < 0 || podReadyDelay > time.Minute {
				return usageError{fmt.Errorf("--pod-ready-delay must be between 0s and 1m, got %s", podReadyDelay)}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			bin, err := devcluster.Binaries(ctx, g.stderr)
			if err != nil {
				return err
			}
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			res, err := devcluster.Up(ctx, devcluster.UpConfig{
				Dir: *dir,
				Supervisor: []string{exe, "dev", "cluster", "serve", "--dir", *dir, "--bin-dir", bin,
					"--nodes", fmt.Sprint(nodes), "--pod-ready-delay", podReadyDelay.String()},
				Timeout:  timeout,
				Progress: g.stderr,
			})
			if err != nil {
				return err
			}
			if res.AlreadyRunning {
				fmt.Fprintf(g.stderr, "local cluster already running (supervisor pid %d)\n", res.SupervisorPID)
			}
			return render(g.stdout, g.output, res, func(tw *tabwriter.Writer) {
				fmt.Fprintln(tw, res.KubeconfigPath)
			})
		},
	}
	cmd.Flags().IntVar(&nodes, "nodes", devcluster.DefaultNodes, "number of fake nodes (16 CPU, 64 GiB, 110 pods each)")
	cmd.Flags().DurationVar(&podReadyDelay, "pod-ready-delay", devcluster.DefaultPodReadyDelay, "how long a scheduled pod stays Pending before it turns Ready")
	f := cmd.Flags()
	f.DurationVar(&timeout, "ready-timeout", 2*time.Minute, "how long to wait for the cluster to become ready (--timeout is the same)")
	alias(f, f.Lookup("ready-timeout"), "timeout")
	return cmd
}

func newClusterServeCommand(g *globalOptions, dir *string) *cobra.Command {
	cfg := devcluster.Config{}
	cmd := &cobra.Command{
		Use:    "serve",
		Short:  "Run the local cluster in the foreground until interrupted (used by up)",
		Hidden: true,
		Args:   exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
			defer stop()
			cfg.Dir, cfg.Progress = *dir, g.stderr
			if cfg.BinDir == "" {
				bin, err := devcluster.Binaries(ctx, g.stderr)
				if err != nil {
					return err
				}
				cfg.BinDir = bin
			}
			return devcluster.Serve(ctx, cfg)
		},
	}
	cmd.Flags().StringVar(&cfg.BinDir, "bin-dir", "", "directory of the control-plane binaries")
	cmd.Flags().IntVar(&cfg.Nodes, "nodes", devcluster.DefaultNodes, "number of fake nodes")
	cmd.Flags().DurationVar(&cfg.PodReadyDelay, "pod-ready-delay", devcluster.DefaultPodReadyDelay, "pod Ready delay")
	return cmd
}

func newClusterDownCommand(g *globalOptions, dir *string) *cobra.Command {
	return &cobra.Command{
		Use:   "down",
		Short: "Stop the local cluster and remove its data; no process is left behind",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			err := devcluster.Down(*dir, 20*time.Second)
			switch {
			case errors.Is(err, devcluster.ErrNotRunning):
				fmt.Fprintln(g.stderr, "no local cluster was running")
				return nil
			case err != nil:
				return err
			}
			fmt.Fprintln(g.stderr, "local cluster stopped")
			return nil
		},
	}
}

func newClusterKubeconfigCommand(g *globalOptions, dir *string) *cobra.Command {
	var pathOnly bool
	var write string
	cmd := &cobra.Command{
		Use:   "kubeconfig",
		Short: "Print the running local cluster's kubeconfig (or its path, or write it to a file)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := filepath.Join(*dir, "kubeconfig")
			if _, err := os.Stat(filepath.Join(*dir, "ready")); err != nil {
				return fmt.Errorf("%w in %s: start one with `ferry dev cluster up`", devcluster.ErrNotRunning, *dir)
			}
			if pathOnly {
				fmt.Fprintln(g.stdout, path)
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return fmt.Errorf("read kubeconfig: %w", err)
			}
			if write != "" {
				// It holds a client key: mode 0600 even over an existing file, and a
				// symlink at write is replaced, not followed.
				if err := atomicfile.Write(write, data, 0o600); err != nil {
					return fmt.Errorf("write kubeconfig: %w", err)
				}
				fmt.Fprintf(g.stderr, "wrote %s\n", write)
				return nil
			}
			_, err = g.stdout.Write(data)
			return err
		},
	}
	cmd.Flags().BoolVar(&pathOnly, "path", false, "print only the kubeconfig's path")
	cmd.Flags().StringVar(&write, "write", "", "write the kubeconfig to this file instead of printing it")
	return cmd
}
