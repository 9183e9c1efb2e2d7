package providers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/plan"
	"ferry.dev/ferry/internal/traffic"
	"ferry.dev/ferry/internal/traffic/alb"
	"ferry.dev/ferry/internal/traffic/route53"
)

// Validate does everything a run of p does before its first step, and changes
// nothing: it builds the run's configuration as Config does (settings, files,
// credentials), asks the router for its weights and the metric source for a sample,
// checks the gates, dry-runs the CronJob hold and reads the recorded state. It returns
// every check, failed or not; when the configuration cannot be built, that is the
// last one.
func Validate(ctx context.Context, p *plan.Plan, opts Options) []migrate.Check {
	checks := []migrate.Check{{Name: "plan", Detail: stepsLine(p)}}
	cfg, err := Config(ctx, p, opts)
	if err != nil {
		return append(checks, migrate.Check{Name: "providers", Err: err})
	}
	checks = append(checks, migrate.CheckProviders(ctx, cfg)...)
	if p.CronJobs != nil {
		c := migrate.Check{Name: "cronJobs"}
		b := &builder{plan: p, opts: opts}
		co, err := b.cutover()
		if err == nil {
			c.Detail, err = co.Check(ctx)
		}
		c.Err = err
		checks = append(checks, c)
	}
	return append(checks, stateCheck(ctx, cfg))
}

// stepsLine lists the plan's steps and, for routers with integer weights, the
// weights each maps to.
func stepsLine(p *plan.Plan) string {
	steps := make([]string, 0, len(p.Steps))
	for _, s := range p.Steps {
		steps = append(steps, traffic.FormatPercent(s.BasisPoints))
	}
	line := fmt.Sprintf("%s: %d steps, %s", p.Name, len(p.Steps), strings.Join(steps, " → "))
	if last := len(p.Steps) - 1; p.Judged(last) != p.Steps[last].BasisPoints {
		line += fmt.Sprintf(" (the last judged at %s first)", traffic.FormatPercent(p.Judged(last)))
	}
	switch {
	case p.Router.Route53 != nil:
		line += "; record weights (legacy:kubernetes) " + weightTable(p, route53.MaxWeight)
	case p.Router.ALB != nil:
		line += "; target group weights (legacy:kubernetes) " + weightTable(p, alb.MaxWeight)
	}
	return line
}

// stateCheck says what `ferry migrate start` would do with the recorded state.
func stateCheck(ctx context.Context, cfg migrate.Config) migrate.Check {
	c := migrate.Check{Name: "state"}
	st, err := migrate.LoadState(ctx, cfg.Store, cfg.Plan)
	switch {
	case errors.Is(err, migrate.ErrNoMigration):
		c.Detail = "nothing recorded: start begins at step 1"
	case err != nil:
		c.Err = err
	case st.Phase.Done():
		c.Detail = fmt.Sprintf("the last run ended %s: start begins a new run at step 1", st.Phase)
	default:
		c.Detail = fmt.Sprintf("a run is recorded %s at step %d/%d: start continues it", st.Phase, st.Step+1, len(cfg.Plan.Steps))
	}
	return c
}
