package cli

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"ferry.dev/ferry/internal/app"
	"ferry.dev/ferry/internal/kube"
	"ferry.dev/ferry/internal/release"
)

// releaseOptions are the flags every release command shares.
type releaseOptions struct {
	file string
	// app names the app instead of file, for the commands that need only what the
	// cluster recorded (history, status, rollback).
	app     string
	timeout time.Duration
	noWait  bool
	// createNamespace is only offered by deploy.
	createNamespace bool
}

// releaseFlags says which of the shared flags a release command takes.
type releaseFlags struct {
	// lock: the command takes the deploy lock and waits for health.
	lock bool
	// byName: the command can work from the cluster's records alone (--app).
	byName bool
}

func (o *releaseOptions) addFlags(cmd *cobra.Command, with releaseFlags) {
	f := cmd.Flags()
	f.StringVarP(&o.file, "file", "f", app.FileName, "the app definition")
	if with.byName {
		f.StringVar(&o.app, "app", "", "the app's name, instead of -f: what the cluster recorded of it is enough (in -n NAMESPACE, default the context's), no checkout needed")
	}
	if with.lock {
		f.DurationVar(&o.timeout, "health-timeout", 0, "how long to wait for every object to be healthy (default: health.timeout of the app definition, or "+app.DefaultHealthTimeout.String()+" with --app; --timeout is the same)")
		alias(f, f.Lookup("health-timeout"), "timeout")
		f.BoolVar(&o.noWait, "no-wait", false, "fail at once (exit code 4) instead of waiting when another deploy of the app runs")
	}
}

// config loads the definition (or makes one of --app) and connects; -n overrides
// the definition's namespace.
func (o *releaseOptions) config(cmd *cobra.Command, g *globalOptions) (release.Config, error) {
	if o.timeout < 0 {
		return release.Config{}, usageError{fmt.Errorf("--health-timeout must be positive, got %s", o.timeout)}
	}
	if o.app != "" {
		return o.configByName(cmd, g)
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

// configByName is the configuration of --app: the app's name and namespace are all
// that finding its revisions needs, and a rollback re-applies a revision's recorded
// manifests. Without ferry.yaml's history.limit, it forgets no old revision.
func (o *releaseOptions) configByName(cmd *cobra.Command, g *globalOptions) (release.Config, error) {
	if cmd.Flags().Changed("file") {
		return release.Config{}, usageError{errors.New("give -f or --app, not both")}
	}
	if errs := validation.IsDNS1123Label(o.app); len(errs) > 0 {
		return release.Config{}, usageError{fmt.Errorf("--app %q is not an app name: want lower-case letters, digits and '-'", o.app)}
	}
	client, err := kube.New(g.kube)
	if err != nil {
		return release.Config{}, err
	}
	def := &app.Definition{
		App: o.app, Namespace: client.Namespace,
		Health:  app.Health{Timeout: app.DefaultHealthTimeout},
		History: app.History{Limit: math.MaxInt},
	}
	return release.Config{
		Client: client, Def: def, Progress: g.stderr, User: release.DefaultUser(),
		GitCommit: os.Getenv("FERRY_GIT_COMMIT"), NoWait: o.noWait, Timeout: o.timeout,
	}, nil
}

// unknownApp explains an --app with no revisions: it names the apps that have some in
// the namespace, as the cluster recorded them.
func unknownApp(ctx context.Context, cfg release.Config) error {
	ns := cfg.Def.Namespace
	list, err := cfg.Client.Clientset.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{
		LabelSelector: release.LabelOwner + "=ferry," + release.LabelApp + ",!" + release.LabelPart,
	})
	if err != nil {
		return fmt.Errorf("no revisions of app %s in namespace %s", cfg.Def.App, ns)
	}
	var apps []string
	for _, s := range list.Items {
		if s.Type == release.SecretType && !slices.Contains(apps, s.Labels[release.LabelApp]) {
			apps = append(apps, s.Labels[release.LabelApp])
		}
	}
	slices.Sort(apps)
	if len(apps) == 0 {
		return fmt.Errorf("no revisions of app %s in namespace %s, nor of any other app: pass -n with the app's namespace", cfg.Def.App, ns)
	}
	return fmt.Errorf("no revisions of app %s in namespace %s; apps with revisions there: %s", cfg.Def.App, ns, strings.Join(apps, ", "))
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
			cfg, err := o.config(cmd, g)
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
	o.addFlags(cmd, releaseFlags{lock: true})
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
		Use:   "rollback [--to REVISION] [-f ferry.yaml | --app NAME]",
		Short: "Re-apply exactly the manifests of an earlier revision (default: the last good one before the latest)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if to < 0 {
				return usageError{fmt.Errorf("--to must be a revision number, got %d", to)}
			}
			cfg, err := o.config(cmd, g)
			if err != nil {
				return err
			}
			ctx, stop := interruptible(cmd)
			defer stop()
			res, err := release.Rollback(ctx, cfg, to)
			if errors.Is(err, release.ErrNoRevision) && o.app != "" {
				if hist, herr := release.History(ctx, cfg); herr == nil && len(hist) == 0 {
					return unknownApp(ctx, cfg)
				}
			}
			if res != nil {
				if rerr := renderResult(g, res); rerr != nil {
					return rerr
				}
			}
			return releaseError(cfg, err)
		},
	}
	o.addFlags(cmd, releaseFlags{lock: true, byName: true})
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
		Use:   "history [-f ferry.yaml | --app NAME]",
		Short: "List the app's recorded revisions",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := o.config(cmd, g)
			if err != nil {
				return err
			}
			hist, err := release.History(cmd.Context(), cfg)
			if err != nil {
				return releaseError(cfg, err)
			}
			if len(hist) == 0 && o.app != "" {
				return unknownApp(cmd.Context(), cfg)
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
	o.addFlags(cmd, releaseFlags{byName: true})
	return cmd
}

func newStatusCommand(g *globalOptions) *cobra.Command {
	var o releaseOptions
	cmd := &cobra.Command{
		Use:   "status [-f ferry.yaml | --app NAME]",
		Short: "Show the app's current revision and the health of its objects",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := o.config(cmd, g)
			if err != nil {
				return err
			}
			rep, err := release.Inspect(cmd.Context(), cfg)
			if err != nil {
				return releaseError(cfg, err)
			}
			if rep.Latest == nil && o.app != "" {
				return unknownApp(cmd.Context(), cfg)
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
	o.addFlags(cmd, releaseFlags{byName: true})
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
