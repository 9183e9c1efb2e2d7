package loadtest

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteTable writes the report for a terminal: the run, each side, the top busiest
// endpoints side by side with ratios and the baseline (and one row that merges the
// rest; top 0 shows them all), the warnings and the verdict.
func (r *Report) WriteTable(w io.Writer, top int) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s; %s\n\n", r.String(), r.mixLine())
	fmt.Fprintln(tw, "SIDE\tURL\tREQUESTS\tERRORS\tMEAN\tP50\tP90\tP99\tP99.9\tMAX\tRATE\tSEND LAG P99")
	for _, s := range r.Sides {
		st := s.Stats
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f/s\t%s\n", s.Name, s.URL, st.Count, pct(st.ErrorRate),
			ms(st.Mean), ms(st.P50), ms(st.P90), ms(st.P99), ms(st.P999), ms(st.Max), s.Pacing.AchievedRate, ms(s.Pacing.LagP99))
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "ENDPOINT\tSIDE\tREQUESTS\tERRORS\tMEAN\tP50\tP90\tP99\tP99.9\tMAX\tP99 K/L\tBASELINE MEAN/P99\tCHECK")
	for _, row := range append([]EndpointRow{r.Total}, r.topRows(top)...) {
		writeRow(tw, row)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, warn := range r.Warnings {
		fmt.Fprintln(w, "warning: "+warn)
	}
	fmt.Fprintf(w, "verdict: %s\n", strings.ToUpper(string(r.Verdict.Outcome)))
	for _, reason := range r.Verdict.Reasons {
		fmt.Fprintln(w, "  - "+reason)
	}
	_, err := fmt.Fprintln(w, "thresholds: "+r.Verdict.Thresholds.String())
	return err
}

func writeRow(tw io.Writer, row EndpointRow) {
	base := "-"
	if b := row.Baseline; b != nil {
		base = fmt.Sprintf("%s/%s", ms(b.Mean), ms(b.P99))
	}
	for i, side := range []struct {
		name string
		st   Stats
	}{{SideLegacy, row.Legacy}, {SideKubernetes, row.Kubernetes}} {
		name, ratioCol, baseCol, check := row.Endpoint, "", "", ""
		if i == 1 {
			name, ratioCol, check = "", times(row.Ratio.P99), string(row.Outcome)
		} else {
			baseCol = base
		}
		st := side.st
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, side.name, st.Count, pct(st.ErrorRate),
			ms(st.Mean), ms(st.P50), ms(st.P90), ms(st.P99), ms(st.P999), ms(st.Max), ratioCol, baseCol, check)
	}
}

func (r *Report) mixLine() string {
	m := r.Mix
	s := fmt.Sprintf("mix: %s", m.Source)
	if m.Format != "" {
		s += " (" + m.Format + ")"
	}
	s += fmt.Sprintf(", %d requests, %d endpoints", m.Requests, m.Endpoints)
	if m.SkippedWrites > 0 {
		s += fmt.Sprintf(", %d writes skipped", m.SkippedWrites)
	}
	if m.SkippedLines > 0 {
		s += fmt.Sprintf(", %d lines unparsed", m.SkippedLines)
	}
	return s
}

// String states the thresholds in words.
func (t Thresholds) String() string {
	return fmt.Sprintf("kubernetes/legacy mean and p99 ≤ %.2f×; kubernetes/baseline mean and p99 ≤ %.2f×; error rate ≤ legacy + %.2f points; differences under %.1fms never fail; at least %d responses per side",
		t.MaxRatio, t.MaxBaselineRatio, 100*t.MaxErrorRateIncrease, t.MinDelta, t.MinSamples)
}

func ms(m Millis) string {
	switch {
	case m == 0:
		return "-"
	case m < 10:
		return fmt.Sprintf("%.2fms", m)
	case m < 1000:
		return fmt.Sprintf("%.1fms", m)
	}
	return fmt.Sprintf("%.2fs", m/1000)
}

func pct(f float64) string { return fmt.Sprintf("%.2f%%", 100*f) }

func times(f float64) string {
	if f == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", f)
}
