package providers

import (
	"context"
	"fmt"
	"strings"

	"ferry.dev/ferry/internal/cutover"
	"ferry.dev/ferry/internal/plan"
	"ferry.dev/ferry/internal/traffic"
	"ferry.dev/ferry/internal/traffic/alb"
	"ferry.dev/ferry/internal/traffic/route53"
)

// hooks sets the migration's hooks: the integer weights each step maps to, for routers
// whose weights are coarse, and the CronJob cutover.
func (b *builder) hooks(s *set) error {
	var start []hook
	switch {
	case b.plan.Router.Route53 != nil:
		start = append(start, note("route53 record weights per step (legacy:kubernetes): "+weightTable(b.plan, route53.MaxWeight)))
	case b.plan.Router.ALB != nil:
		start = append(start, note("target group weights per step (legacy:kubernetes): "+weightTable(b.plan, alb.MaxWeight)))
	}
	if b.plan.CronJobs != nil {
		co, err := b.cutover()
		if err != nil {
			return err
		}
		start = append(start, co.Hold)
		s.onComplete = co.Release
	}
	if len(start) > 0 {
		s.onStart = chain(start)
	}
	return nil
}

// cutover builds the CronJob cutover of plan.cronJobs, which must be set.
func (b *builder) cutover() (*cutover.Cutover, error) {
	c := b.plan.CronJobs
	kc, ns, err := b.namespace(c.Namespace)
	if err != nil {
		return nil, fmt.Errorf("cronJobs: %w", err)
	}
	return cutover.New(cutover.Config{Kube: kc.Clientset, Namespace: ns, Selector: c.Selector,
		StartingDeadlineSeconds: c.StartingDeadlineSeconds, LegacyCrontab: c.LegacyCrontab})
}

func note(line string) hook {
	return func(_ context.Context, logf func(string, ...any)) error {
		logf("%s", line)
		return nil
	}
}

func chain(hooks []hook) hook {
	return func(ctx context.Context, logf func(string, ...any)) error {
		for _, h := range hooks {
			if err := h(ctx, logf); err != nil {
				return err
			}
		}
		return nil
	}
}

// weightTable says which integer weights each step's share maps to and, where they
// cannot give it exactly, the share they give; a last step judged beside a control
// shows that share too.
func weightTable(p *plan.Plan, limit int) string {
	parts := make([]string, 0, len(p.Steps)+1)
	add := func(bp int) {
		l, k, eff := traffic.IntegerSplit(bp, limit)
		s := fmt.Sprintf("%s %d:%d", traffic.FormatPercent(bp), l, k)
		if eff != bp {
			s += fmt.Sprintf(" (%s in effect)", traffic.FormatPercent(eff))
		}
		parts = append(parts, s)
	}
	for i, s := range p.Steps {
		if j := p.Judged(i); j != s.BasisPoints {
			add(j)
		}
		add(s.BasisPoints)
	}
	return strings.Join(parts, ", ")
}
