package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"ferry.dev/ferry/internal/plan"
	"ferry.dev/ferry/internal/providers"
)

// validateCheck is one line of `ferry migrate validate`.
type validateCheck struct {
	Check  string `json:"check"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
	Error  string `json:"error,omitempty"`
}

func newMigrateValidateCommand(g *globalOptions, o *migrateOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "validate",
		Short: "Check the plan and everything a run checks before its first step, changing nothing",
		Long: `Check the plan and everything a run checks before its first step, changing nothing.

It reads the plan (every mistake at once), builds its providers as a run would (token
files, credentials, the cluster when the plan needs it), asks the router for its
weights and the metric source for a sample of the last minute, checks the gates,
dry-runs the suspension of the plan's CronJobs (cronJobs), and reads the recorded
state. Each check is printed; the exit code is 1 when any failed.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := plan.Load(o.plan)
			if err != nil {
				return err
			}
			checks := providers.Validate(cmd.Context(), p, providers.Options{Kube: *o.kube})
			out := make([]validateCheck, 0, len(checks))
			failed := 0
			for _, c := range checks {
				v := validateCheck{Check: c.Name, OK: !c.Failed(), Detail: c.Detail}
				if c.Failed() {
					failed++
					v.Error = strings.Join(strings.Fields(c.Err.Error()), " ")
				}
				out = append(out, v)
			}
			if err := render(g.stdout, g.output, out, func(tw *tabwriter.Writer) {
				for _, c := range out {
					mark, text := "ok", c.Detail
					if !c.OK {
						mark, text = "FAILED", c.Error
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Check, mark, text)
				}
			}); err != nil {
				return err
			}
			if failed > 0 {
				return fmt.Errorf("plan %s: %d of %d checks failed", p.Name, failed, len(checks))
			}
			return nil
		},
	}
}
