package cli

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"ferry.dev/ferry/internal/kube"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/plan"
	"ferry.dev/ferry/internal/providers"
	"ferry.dev/ferry/internal/traffic"
)

type migrateOptions struct {
	plan string
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
	cmd.PersistentFlags().StringVar(&o.plan, "plan", "migration.yaml", "the migration plan")
	cmd.AddCommand(
		newMigrateRunCommand(g, o, "start", "Start the migration at its first step (or continue the recorded one) and run it in the foreground"),
		newMigrateRunCommand(g, o, "resume", "Un-pause the migration and run it in the foreground"),
		newMigrateStatusCommand(g, o),
		newMigrateControlCommand(g, o, "pause", "Hold the current step: weights stay, gates stop advancing"),
		newMigrateControlCommand(g, o, "promote", "Skip the rest of the current step's analysis and move to the next step"),
		newMigrateControlCommand(g, o, "abort", "Send all traffic back to legacy now and end the migration"),
	)
	return cmd
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
	return &cobra.Command{
		Use:   name,
		Short: short,
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
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
}

func newMigrateControlCommand(g *globalOptions, o *migrateOptions, action, short string) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   action,
		Short: short,
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
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
	if action == "abort" {
		cmd.Flags().StringVar(&reason, "reason", "", "why, for the record and the notifications")
	}
	return cmd
}

func newMigrateStatusCommand(g *globalOptions, o *migrateOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the migration's step, weights, gate verdicts and log",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
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

func renderMigration(g *globalOptions, p *plan.Plan, st *migrate.State) error {
	out := *st
	out.Sample, out.Reference = nil, nil // histograms are for the gates, not for people
	return render(g.stdout, g.output, &out, func(tw *tabwriter.Writer) {
		// The last cell of a line is not aligned, so long reasons do not widen the table.
		fmt.Fprintf(tw, "Migration:\t%s %s\n", st.Name, st.Phase)
		fmt.Fprintf(tw, "Step:\t%d/%d, %s to kubernetes\n", st.Step+1, len(p.Steps), traffic.FormatPercent(p.Steps[min(st.Step, len(p.Steps)-1)].BasisPoints))
		fmt.Fprintf(tw, "Weights:\t%s\n", st.Applied)
		if st.Reason != "" {
			fmt.Fprintf(tw, "Reason:\t%s\n", st.Reason)
		}
		for _, r := range st.Gates {
			fmt.Fprintf(tw, "Gate %s:\t%s: %s\n", r.Gate, r.Verdict, r.Message)
		}
		fmt.Fprintln(tw, "Log:")
		for _, e := range st.Events[max(0, len(st.Events)-8):] {
			fmt.Fprintf(tw, "  %s  %s\n", e.Time.Local().Format(time.TimeOnly), e.Message)
		}
	})
}
