package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"ferry.dev/ferry/internal/analysis"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/plan"
	"ferry.dev/ferry/internal/traffic"
)

// migrateView is the live terminal view: a redrawn frame on a terminal, one line per
// change otherwise.
type migrateView struct {
	mu       sync.Mutex
	w        io.Writer
	plan     *plan.Plan
	tty      bool
	lines    int
	lastLine string
	events   []string
}

func newMigrateView(w io.Writer, p *plan.Plan) *migrateView {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &migrateView{w: w, plan: p, tty: tty}
}

func (v *migrateView) event(e migrate.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	line := e.Time.Local().Format(time.TimeOnly) + "  " + e.Message
	if v.tty {
		v.events = append(v.events, line)
		if len(v.events) > 5 {
			v.events = v.events[1:]
		}
		return
	}
	fmt.Fprintln(v.w, line)
}

func (v *migrateView) frame(st *migrate.State, d migrate.Decision) {
	v.mu.Lock()
	defer v.mu.Unlock()
	text := migrationFrame(v.plan, st, d, time.Now())
	if !v.tty {
		// One line per change of what the migration waits for.
		line := fmt.Sprintf("step %d (%s): %s", st.Step+1, traffic.FormatPercent(v.plan.Steps[st.Step].BasisPoints), d.Reason)
		if line != v.lastLine {
			fmt.Fprintln(v.w, line)
			v.lastLine = line
		}
		return
	}
	if v.lines > 0 {
		fmt.Fprintf(v.w, "\033[%dA\033[J", v.lines)
	}
	text += strings.Join(v.events, "\n") + "\n"
	fmt.Fprint(v.w, text)
	v.lines = strings.Count(text, "\n")
}

func (v *migrateView) done() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.lines = 0
}

// migrationFrame renders the live view of a migration: step, weights, per-side traffic, each
// gate's verdict and what it waits for, and the time to the next step.
func migrationFrame(p *plan.Plan, st *migrate.State, d migrate.Decision, now time.Time) string {
	var b strings.Builder
	step := p.Steps[st.Step]
	held := now.Sub(st.StepStarted).Round(time.Second)
	fmt.Fprintf(&b, "migration %s  %s  step %d/%d: %s to kubernetes  (held %s of at least %s)\n",
		p.Name, strings.ToUpper(string(st.Phase)), st.Step+1, len(p.Steps), traffic.FormatPercent(step.BasisPoints), held, step.Hold)
	fmt.Fprintf(&b, "  weights   %s\n", st.Applied)
	if s := st.Sample; s != nil {
		fmt.Fprintf(&b, "  legacy     %s\n", sideLine(s.Legacy))
		fmt.Fprintf(&b, "  kubernetes %s\n", sideLine(s.New))
	}
	for _, g := range st.Gates {
		mark := map[analysis.Verdict]string{analysis.Pass: "✓", analysis.Hold: "…", analysis.Fail: "✗"}[g.Verdict]
		fmt.Fprintf(&b, "  %s %-10s %-4s %s\n", mark, g.Gate, g.Verdict, g.Message)
	}
	fmt.Fprintf(&b, "  next       %s%s\n", d.Reason, eta(p, st, d, now))
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
func eta(p *plan.Plan, st *migrate.State, d migrate.Decision, now time.Time) string {
	if d.Action != migrate.ActionHold || st.Phase != migrate.PhaseRunning {
		return ""
	}
	elapsed := now.Sub(st.StepStarted)
	wait := p.Steps[st.Step].Hold - elapsed
	if st.Sample != nil && st.Sample.New.Requests > 0 && elapsed > 0 {
		rate := float64(st.Sample.New.Requests) / elapsed.Seconds()
		var need int64
		for _, g := range st.Gates {
			need = max(need, g.NeedMore)
		}
		need = max(need, p.Steps[st.Step].MinRequests-st.Sample.New.Requests)
		wait = max(wait, time.Duration(float64(need)/rate*float64(time.Second)))
	}
	if wait <= 0 {
		return ""
	}
	return fmt.Sprintf(" (next step in about %s)", wait.Round(time.Second))
}
