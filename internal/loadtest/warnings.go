package loadtest

import "fmt"

// maxHealthyLag is the send lag (p99) past which the generator is said to have
// fallen behind: latencies then include its own delay, not only the servers'.
const maxHealthyLag = Millis(10)

// warnings lists what makes a report's figures less trustworthy. It is pure.
func warnings(r *Report) []string {
	var out []string
	for _, s := range r.Sides {
		if s.Pacing.LagP99 > maxHealthyLag {
			out = append(out, fmt.Sprintf("%s: the generator sent late (send lag p99 %.1fms, max %.1fms): latencies include that delay; give ferry more CPU or lower the rate",
				s.Name, s.Pacing.LagP99, s.Pacing.LagMax))
		}
		if r.Mode == "constant" && !r.Interrupted && s.Pacing.Sent > 10 && s.Pacing.AchievedRate < 0.95*r.Rate {
			out = append(out, fmt.Sprintf("%s: achieved %.1f req/s of %.1f offered", s.Name, s.Pacing.AchievedRate, r.Rate))
		}
		if s.Pacing.Aborted > 0 {
			out = append(out, fmt.Sprintf("%s: %d requests in flight at the stop were cut off and are not counted", s.Name, s.Pacing.Aborted))
		}
	}
	if r.Interrupted {
		out = append(out, fmt.Sprintf("interrupted after %.1fs of %.1fs: the report covers what ran", r.Elapsed, r.Planned))
	}
	return out
}
