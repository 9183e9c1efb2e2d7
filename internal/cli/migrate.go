package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/kube"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/plan"
	"ferry.dev/ferry/internal/providers"
	"ferry.dev/ferry/internal/traffic"
)

type migrateOptions struct {
	plan string
	// planFlag is -f/--file, which apply takes as --filename too.
	planFlag *pflag.Flag
	// kube is the global connection flags, for plans whose providers live in the cluster.
	kube *kube.Options
}

func newMigrateCommand(g *globalOptions) *cobra.Command {
	o := &migrateOptions{kube: &g.kube}
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Shift traffic from legacy to Kubernetes step by step, judged by analysis gates, aborting on its own",
		Args:  exactArgs(0),
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	f := cmd.PersistentFlags()
	f.StringVarP(&o.plan, "file", "f", "migration.yaml", `the migration plan (--plan is the same; "-": stdin, for apply)`)
	o.planFlag = f.Lookup("file")
	alias(f, o.planFlag, "plan")
	cmd.AddCommand(
		newMigrateRunCommand(g, o, "start", "Start the migration at its first step (or continue the recorded one) and run it in the foreground"),
		newMigrateRunCommand(g, o, "resume", "Un-pause the migration and run it in the foreground (with NAME: un-pause the Migration resource)"),
		newMigrateStatusCommand(g, o),
		newMigrateControlCommand(g, o, "pause", "Hold the current step: weights stay, gates stop advancing"),
		newMigrateControlCommand(g, o, "promote", "Skip the rest of the current step's analysis and move to the next step"),
		newMigrateControlCommand(g, o, "abort", "Send all traffic back to legacy now and end the migration"),
		newMigrateApplyCommand(g, o),
		newMigrateValidateCommand(g, o),
	)
	return cmd
}

// resourceNote tells how a command works on a Migration resource.
const resourceNote = `

With NAME, the command works on the Migration resource NAME (in --namespace or the
kubeconfig's namespace) that ` + "`ferry controller`" + ` runs, instead of the local plan and state
file; it waits (--wait, up to --wait-timeout) until the controller acknowledged it.`

// rangeArgs is cobra.RangeArgs with a usage error.
func rangeArgs(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.RangeArgs(lo, hi)(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// steerFlags adds the flags of a command that waits for the controller.
func steerFlags(cmd *cobra.Command, s *steer) {
	f := cmd.Flags()
	f.BoolVar(&s.wait, "wait", true, "with NAME: wait until the controller acknowledged the command")
	f.DurationVar(&s.timeout, "wait-timeout", DefaultSteerTimeout, "with NAME: how long --wait waits for the controller (--timeout is the same)")
	alias(f, f.Lookup("wait-timeout"), "timeout")
}

// config loads the plan and turns it into a run's configuration.
func (o *migrateOptions) config(ctx context.Context) (migrate.Config, error) {
	p, err := plan.Load(o.plan)
	if err != nil {
		return migrate.Config{}, err
	}
	return providers.Config(ctx, p, providers.Options{Kube: *o.kube})
}

func newMigrateRunCommand(g *globalOptions, o *migrateOptions, name, short string) *cobra.Command {
	var s steer
	cmd := &cobra.Command{
		Use:   name,
		Short: short,
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 { // resume NAME
				r, err := o.resource(args[0])
				if err != nil {
					return err
				}
				m, err := r.setPaused(cmd.Context(), false, s)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stderr, "resume: spec.paused cleared%s\n", map[bool]string{true: ", acknowledged by the controller"}[s.wait])
				return renderMigrationResource(g, m)
			}
			cfg, err := o.config(cmd.Context())
			if err != nil {
				return err
			}
			view := newMigrateView(g.stderr, cfg.Plan)
			cfg.OnEvaluate, cfg.OnEvent = view.frame, view.event
			ctx, stop := interruptible(cmd)
			defer stop()
			run := migrate.Start
			if name == "resume" {
				run = migrate.Resume
			}
			st, err := run(ctx, cfg)
			view.done()
			if st != nil {
				if rerr := renderMigration(g, cfg.Plan, st); rerr != nil {
					return rerr
				}
			}
			switch {
			case errors.Is(err, migrate.ErrAborted):
				return exitCodeError{ExitAborted, err}
			case errors.Is(err, context.Canceled) && st != nil:
				return fmt.Errorf("stopped; the migration stays at step %d (%s) and `ferry migrate start` continues it",
					st.Step+1, traffic.FormatPercent(cfg.Plan.Steps[st.Step].BasisPoints))
			case errors.Is(err, migrate.ErrRunnerActive):
				return fmt.Errorf("%w: use pause, promote or abort to steer it", err)
			}
			return withAbortHint(err)
		},
	}
	if name == "resume" {
		cmd.Use, cmd.Args, cmd.Long = "resume [NAME]", rangeArgs(0, 1), short+"."+resourceNote
		steerFlags(cmd, &s)
	}
	return cmd
}

func newMigrateControlCommand(g *globalOptions, o *migrateOptions, action, short string) *cobra.Command {
	var s steer
	cmd := &cobra.Command{
		Use:   action + " [NAME]",
		Short: short,
		Long:  short + "." + resourceNote,
		Args:  rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				return steerResource(cmd.Context(), g, o, args[0], action, s)
			}
			reason := s.reason
			cfg, err := o.config(cmd.Context())
			if err != nil {
				return err
			}
			cfg.OnEvent = func(e migrate.Event) { fmt.Fprintln(g.stderr, e.Message) }
			err = migrate.Control(cmd.Context(), cfg, migrate.Request{Action: action, Reason: reason})
			switch {
			case migrate.IsQueued(err):
				fmt.Fprintf(g.stderr, "%s: passed to the running migration\n", action)
				return nil
			case errors.Is(err, migrate.ErrNoMigration):
				return fmt.Errorf("%w for plan %s (state %s)", err, cfg.Plan.Name, cfg.Plan.State)
			case err != nil:
				return withAbortHint(err)
			}
			st, err := migrate.LoadState(cmd.Context(), cfg.Store, cfg.Plan)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stderr, "%s: done\n", action)
			return renderMigration(g, cfg.Plan, st)
		},
	}
	switch action {
	case "abort":
		cmd.Flags().StringVar(&s.reason, "reason", "", "why, for the record and the notifications (required with NAME)")
	case "promote":
		cmd.Flags().StringVar(&s.reason, "reason", "", "why, for the record")
	}
	steerFlags(cmd, &s)
	return cmd
}

// steerResource pauses, promotes or aborts the Migration resource name.
func steerResource(ctx context.Context, g *globalOptions, o *migrateOptions, name, action string, s steer) error {
	if action == "abort" && strings.TrimSpace(s.reason) == "" {
		return usageError{errors.New("abort NAME needs --reason: it goes to the Migration's log, its Events and the notifications")}
	}
	r, err := o.resource(name)
	if err != nil {
		return err
	}
	var m *v1alpha1.Migration
	if action == "pause" {
		m, err = r.setPaused(ctx, true, s)
	} else {
		m, err = r.request(ctx, action, s)
	}
	if err != nil {
		return err
	}
	switch {
	case !s.wait:
		fmt.Fprintf(g.stderr, "%s: passed to the controller (not waiting)\n", action)
	case action == "pause":
		fmt.Fprintf(g.stderr, "pause: spec.paused set, acknowledged by the controller\n")
	default:
		fmt.Fprintf(g.stderr, "%s: acknowledged by the controller\n", action)
	}
	return renderMigrationResource(g, m)
}

func newMigrateStatusCommand(g *globalOptions, o *migrateOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "status [NAME]",
		Short: "Show the migration's step, weights, gate verdicts and log",
		Long: `Show the migration's step, weights, gate verdicts and log.

With NAME, show the status of the Migration resource NAME (in --namespace or the
kubeconfig's namespace); -o json and -o yaml print its .status as the resource holds
it.`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				r, err := o.resource(args[0])
				if err != nil {
					return err
				}
				m, err := r.get(cmd.Context())
				if err != nil {
					return err
				}
				return renderMigrationResource(g, m)
			}
			p, err := plan.Load(o.plan)
			if err != nil {
				return err
			}
			st, err := migrate.LoadState(cmd.Context(), &migrate.FileStore{Path: p.State}, p)
			if err != nil {
				if errors.Is(err, migrate.ErrNoMigration) {
					return fmt.Errorf("%w for plan %s: start it with `ferry migrate start`", err, p.Name)
				}
				return withAbortHint(err)
			}
			return renderMigration(g, p, st)
		},
	}
}

// withAbortHint tells what still works when the state is unusable.
func withAbortHint(err error) error {
	if errors.Is(err, migrate.ErrUnusableState) {
		return fmt.Errorf("%w; `ferry migrate abort` still sends all traffic to legacy and records a fresh state", err)
	}
	return err
}
