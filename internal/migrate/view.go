package migrate

import (
	"fmt"
	"strings"
	"time"

	"ferry.dev/ferry/internal/analysis"
	"ferry.dev/ferry/internal/traffic"
)

// Frame renders the live view of a migration: step, weights, per-side traffic, each
// gate's verdict and what it waits for, and the time to the next step.
func Frame(plan *Plan, st *State, d Decision, now time.Time) string {
	var b strings.Builder
	step := plan.Steps[st.Step]
	held := now.Sub(st.StepStarted).Round(time.Second)
	fmt.Fprintf(&b, "migration %s  %s  step %d/%d: %s to kubernetes  (held %s of at least %s)\n",
		plan.Name, strings.ToUpper(string(st.Phase)), st.Step+1, len(plan.Steps), traffic.FormatPercent(step.BasisPoints), held, step.Hold)
	fmt.Fprintf(&b, "  weights   %s\n", st.Applied)
	if s := st.Sample; s != nil {
		fmt.Fprintf(&b, "  legacy     %s\n", sideLine(s.Legacy))
		fmt.Fprintf(&b, "  kubernetes %s\n", sideLine(s.New))
	}
	for _, g := range st.Gates {
		mark := map[analysis.Verdict]string{analysis.Pass: "✓", analysis.Hold: "…", analysis.Fail: "✗"}[g.Verdict]
		fmt.Fprintf(&b, "  %s %-10s %-4s %s\n", mark, g.Gate, g.Verdict, g.Message)
	}
	fmt.Fprintf(&b, "  next       %s%s\n", d.Reason, eta(plan, st, d, now))
	return b.String()
}

func sideLine(s analysis.Side) string {
	line := fmt.Sprintf("%7d req  %6.2f%% errors", s.Requests, 100*s.ErrorRate())
	if s.Latency.Count() > 0 {
		line += fmt.Sprintf("  p50 %s  p99 %s  max %s", ms(s.Latency.Quantile(0.5)), ms(s.Latency.Quantile(0.99)), ms(s.Latency.Max()))
	}
	return line
}

func ms(us int64) string {
	return (time.Duration(us) * time.Microsecond).Round(100 * time.Microsecond).String()
}

// eta estimates the time to the next step from the hold left and, for gates that
// need more requests, the new side's current request rate.
func eta(plan *Plan, st *State, d Decision, now time.Time) string {
	if d.Action != ActionHold || st.Phase != PhaseRunning {
		return ""
	}
	elapsed := now.Sub(st.StepStarted)
	wait := plan.Steps[st.Step].Hold - elapsed
	if st.Sample != nil && st.Sample.New.Requests > 0 && elapsed > 0 {
		rate := float64(st.Sample.New.Requests) / elapsed.Seconds()
		var need int64
		for _, g := range st.Gates {
			need = max(need, g.NeedMore)
		}
		need = max(need, plan.Steps[st.Step].MinRequests-st.Sample.New.Requests)
		wait = max(wait, time.Duration(float64(need)/rate*float64(time.Second)))
	}
	if wait <= 0 {
		return ""
	}
	return fmt.Sprintf(" (next step in about %s)", wait.Round(time.Second))
}
