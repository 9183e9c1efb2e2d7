package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"ferry.dev/ferry/internal/analysis"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/plan"
	"ferry.dev/ferry/internal/traffic"
)

// migrationStatus is what the migrate commands print about a local migration, the
// same in every format: steps counted from 1 as in the table, weights as percentages
// named for their side. Field names follow the Migration resource's .status where it
// has the same thing.
type migrationStatus struct {
	Name  string        `json:"name"`
	Run   string        `json:"run,omitempty"`
	Phase migrate.Phase `json:"phase"`
	// CurrentStep is the current step, counted from 1; Steps is how many the plan has.
	CurrentStep int `json:"currentStep"`
	Steps       int `json:"steps"`
	// StepDisplay is "CurrentStep/Steps", as the table shows it.
	StepDisplay string `json:"stepDisplay"`
	// StepWeight is the Kubernetes share the current step calls for, e.g. "10%".
	StepWeight  string    `json:"stepWeight"`
	StepStarted time.Time `json:"stepStarted"`
	// TargetWeights are the shares the current step (or an abort) calls for;
	// AppliedWeights the shares the router last confirmed.
	TargetWeights  percentWeights    `json:"targetWeights"`
	AppliedWeights percentWeights    `json:"appliedWeights"`
	Reason         string            `json:"reason,omitempty"`
	Gates          []analysis.Result `json:"gates,omitempty"`
	Started        time.Time         `json:"started"`
	Updated        time.Time         `json:"updated"`
	Events         []migrate.Event   `json:"events,omitempty"`
}

// percentWeights are both sides' shares as percentages, e.g. "90%" and "10%".
type percentWeights struct {
	Legacy     string `json:"legacy"`
	Kubernetes string `json:"kubernetes"`
}

func percentsOf(w traffic.Weights) percentWeights {
	return percentWeights{Legacy: traffic.FormatPercent(w.Legacy), Kubernetes: traffic.FormatPercent(w.Kubernetes)}
}

func (w percentWeights) String() string {
	return "legacy " + w.Legacy + " / kubernetes " + w.Kubernetes
}

// statusOf is st as people read it, against the plan it runs.
func statusOf(p *plan.Plan, st *migrate.State) migrationStatus {
	step := min(st.Step, len(p.Steps)-1)
	return migrationStatus{
		Name: st.Name, Run: st.Run, Phase: st.Phase,
		CurrentStep: step + 1, Steps: len(p.Steps), StepDisplay: fmt.Sprintf("%d/%d", step+1, len(p.Steps)),
		StepWeight: traffic.FormatPercent(p.Steps[step].BasisPoints), StepStarted: st.StepStarted,
		TargetWeights: percentsOf(st.Target), AppliedWeights: percentsOf(st.Applied),
		Reason: st.Reason, Gates: st.Gates, Started: st.Started, Updated: st.Updated, Events: st.Events,
	}
}

// renderMigration prints a local migration's state (see migrationStatus).
func renderMigration(g *globalOptions, p *plan.Plan, st *migrate.State) error {
	out := statusOf(p, st)
	return render(g.stdout, g.output, out, func(tw *tabwriter.Writer) {
		// The last cell of a line is not aligned, so long reasons do not widen the table.
		fmt.Fprintf(tw, "Migration:\t%s %s\n", out.Name, out.Phase)
		fmt.Fprintf(tw, "Step:\t%s, %s to kubernetes\n", out.StepDisplay, out.StepWeight)
		fmt.Fprintf(tw, "Weights:\t%s (applied)\n", out.AppliedWeights)
		fmt.Fprintf(tw, "Target:\t%s\n", out.TargetWeights)
		if out.Reason != "" {
			fmt.Fprintf(tw, "Reason:\t%s\n", out.Reason)
		}
		for _, r := range out.Gates {
			fmt.Fprintf(tw, "Gate %s:\t%s: %s\n", r.Gate, r.Verdict, r.Message)
		}
		fmt.Fprintln(tw, "Log:")
		for _, e := range out.Events[max(0, len(out.Events)-8):] {
			fmt.Fprintf(tw, "  %s  %s\n", e.Time.Local().Format(time.TimeOnly), e.Message)
		}
	})
}
