package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"ferry.dev/ferry/internal/app"
	"ferry.dev/ferry/internal/kube"
	"ferry.dev/ferry/internal/release"
)

// releaseOptions are the flags every release command shares.
type releaseOptions struct {
	file    string
	timeout time.Duration
	noWait  bool
	// createNamespace is only offered by deploy.
	createNamespace bool
}

func (o *releaseOptions) addFlags(cmd *cobra.Command, lock bool) {
	cmd.Flags().StringVarP(&o.file, "file", "f", app.FileName, "the app definition")
	if lock {
		cmd.Flags().DurationVar(&o.timeout, "timeout", 0, "how long to wait for health (default: health.timeout of the app definition)")
		cmd.Flags().BoolVar(&o.noWait, "no-wait", false, "fail at once (exit code 4) instead of waiting when another deploy of the app runs")
	}
}

// config loads the definition and connects; -n overrides the definition's namespace.
func (o *releaseOptions) config(g *globalOptions) (release.Config, error) {
	if o.timeout < 0 {
		return release.Config{}, usageError{fmt.Errorf("--timeout must be positive, got %s", o.timeout)}
	}
	def, err := app.Load(o.file)
	if err != nil {
		return release.Config{}, err
	}
	if g.kube.Namespace != "" {
		def.Namespace = g.kube.Namespace
	}
	client, err := kube.New(g.kube)
	if err != nil {
		return release.Config{}, err
	}
	return release.Config{
		Client: client, Def: def, Progress: g.stderr, User: release.DefaultUser(),
		GitCommit: gitCommit(filepath.Dir(def.Path)), NoWait: o.noWait, Timeout: o.timeout, CreateNamespace: o.createNamespace,
	}, nil
}

// gitCommit is the commit checked out where the app definition lives, if any.
func gitCommit(dir string) string {
	if c := os.Getenv("FERRY_GIT_COMMIT"); c != "" {
		return c
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// releaseError maps release errors to exit codes and explains cluster errors.
func releaseError(cfg release.Config, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, release.ErrRolloutFailed):
		return exitCodeError{ExitReleaseFailed, err}
	case errors.Is(err, kube.ErrLocked):
		return exitCodeError{ExitLocked, fmt.Errorf("another deploy of %s is running: %w", cfg.Def.App, err)}
	}
	return kube.Explain(cfg.Client.Config.Host, err)
}

func interruptible(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
}

func newDeployCommand(g *globalOptions) *cobra.Command {
	var o releaseOptions
	var opts release.DeployOptions
	var skipLint, dryRun bool
	cmd := &cobra.Command{
		Use:   "deploy --image REPOSITORY:TAG",
		Short: "Deploy an immutable image tag as a new revision, watch it until healthy, roll back on failure",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Image == "" {
				return usageError{errors.New("--image is required")}
			}
			cfg, err := o.config(g)
			if err != nil {
				return err
			}
			if !skipLint {
				opts.Check = deployCheck(g, cfg.Def)
			}
			if dryRun {
				return deployDryRun(cmd, g, cfg, opts)
			}
			ctx, stop := interruptible(cmd)
			defer stop()
			res, err := release.Deploy(ctx, cfg, opts)
			if res != nil {
				if rerr := renderResult(g, res); rerr != nil {
					return rerr
				}
			}
			return releaseError(cfg, err)
		},
	}
	o.addFlags(cmd, true)
	cmd.Flags().StringVar(&opts.Image, "image", "", "the image to deploy, REPOSITORY:TAG (required)")
	cmd.Flags().BoolVar(&opts.AllowMutableTag, "allow-mutable-tag", false, "allow \"latest\" or no tag")
	cmd.Flags().BoolVar(&opts.NoRollback, "no-rollback", false, "leave a failed revision in place instead of rolling back")
	cmd.Flags().BoolVar(&o.createNamespace, "create-namespace", false, "create the app's namespace if it does not exist")
	cmd.Flags().BoolVar(&skipLint, "skip-lint", false, "deploy even when the preflight rules (ferry lint) find errors")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "change nothing: show what the deploy would change, as `ferry diff` does, and exit 0 if the API server accepts it")
	return cmd
}

func newRollbackCommand(g *globalOptions) *cobra.Command {
	var o releaseOptions
	var to int
	cmd := &cobra.Command{
		Use:   "rollback [--to REVISION]",
		Short: "Re-apply exactly the manifests of an earlier revision (default: the last good one before the latest)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if to < 0 {
				return usageError{fmt.Errorf("--to must be a revision number, got %d", to)}
			}
			cfg, err := o.config(g)
			if err != nil {
				return err
			}
			ctx, stop := interruptible(cmd)
			defer stop()
			res, err := release.Rollback(ctx, cfg, to)
			if res != nil {
				if rerr := renderResult(g, res); rerr != nil {
					return rerr
				}
			}
			return releaseError(cfg, err)
		},
	}
	o.addFlags(cmd, true)
	cmd.Flags().IntVar(&to, "to", 0, "the revision to roll back to")
	return cmd
}

func renderResult(g *globalOptions, res *release.Result) error {
	return render(g.stdout, g.output, res, func(tw *tabwriter.Writer) {
		fmt.Fprintf(tw, "revision %d\t%s\t%s\n", res.Release.Revision, res.Release.Status, res.Release.Image)
		if b := res.RolledBack; b != nil {
			fmt.Fprintf(tw, "revision %d\t%s\t%s (rollback to revision %d)\n", b.Revision, b.Status, b.Image, b.RollbackOf)
		}
	})
}

func newHistoryCommand(g *globalOptions) *cobra.Command {
	var o releaseOptions
	cmd := &cobra.Command{
		Use:   "history",
		Short: "List the app's recorded revisions",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := o.config(g)
			if err != nil {
				return err
			}
			hist, err := release.History(cmd.Context(), cfg)
			if err != nil {
				return releaseError(cfg, err)
			}
			return render(g.stdout, g.output, hist, func(tw *tabwriter.Writer) {
				fmt.Fprintln(tw, "REVISION\tSTATUS\tKIND\tIMAGE\tAGE\tUSER\tREASON")
				for _, r := range hist {
					kind := r.Kind
					if r.RollbackOf != 0 {
						kind = fmt.Sprintf("rollback to %d", r.RollbackOf)
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Revision, r.Status, kind, r.Image, age(r.Started), r.User, r.Reason)
				}
			})
		},
	}
	o.addFlags(cmd, false)
	return cmd
}

func newStatusCommand(g *globalOptions) *cobra.Command {
	var o releaseOptions
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the app's current revision and the health of its objects",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := o.config(g)
			if err != nil {
				return err
			}
			rep, err := release.Inspect(cmd.Context(), cfg)
			if err != nil {
				return releaseError(cfg, err)
			}
			return render(g.stdout, g.output, rep, func(tw *tabwriter.Writer) {
				fmt.Fprintf(tw, "App:\t%s (namespace %s)\n", rep.App, rep.Namespace)
				if rep.Current == nil {
					fmt.Fprintln(tw, "Current:\tnothing deployed yet")
				} else {
					fmt.Fprintf(tw, "Current:\trevision %d  %s  deployed %s ago by %s\n", rep.Current.Revision, rep.Current.Image, age(rep.Current.Finished), rep.Current.User)
				}
				if rep.Latest != nil && (rep.Current == nil || rep.Latest.Revision != rep.Current.Revision) {
					fmt.Fprintf(tw, "Latest:\trevision %d  %s  %s  %s\n", rep.Latest.Revision, rep.Latest.Image, rep.Latest.Status, rep.Latest.Reason)
				}
				if rep.DeployingNow != "" {
					fmt.Fprintf(tw, "Deploying:\t%s\n", rep.DeployingNow)
				}
				for _, obj := range rep.Objects {
					fmt.Fprintf(tw, "  %s\t%s\t%s\n", obj.Ref.String(), obj.Health.State, obj.Health.Message)
				}
			})
		},
	}
	o.addFlags(cmd, false)
	return cmd
}

func age(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
