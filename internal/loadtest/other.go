package loadtest

import "fmt"

// DefaultTop is how many endpoints the terminal table shows before it merges the
// rest into one row.
const DefaultTop = 20

// pairTallies pairs each endpoint's legacy and kubernetes tallies.
func pairTallies(legacy, kube map[string]*tally) map[string][2]*tally {
	out := make(map[string][2]*tally, len(legacy))
	for name, t := range legacy {
		out[name] = [2]*tally{t, kube[name]}
	}
	for name, t := range kube {
		if _, ok := out[name]; !ok {
			out[name] = [2]*tally{nil, t}
		}
	}
	return out
}

// topRows returns the busiest top endpoints and, when there are more, one row that
// merges the rest; top 0 returns them all.
func (r *Report) topRows(top int) []EndpointRow {
	if top <= 0 || len(r.Endpoints) <= top {
		return r.Endpoints
	}
	rows := append([]EndpointRow(nil), r.Endpoints[:top]...)
	return append(rows, r.otherRow(r.Endpoints[top:]))
}

// otherRow merges rows into one: counts add up, and latencies come from the rows'
// histograms merged, so its p99 is the p99 of all their requests. Its outcome is the
// worst of theirs, so a failing endpoint is never hidden in it.
func (r *Report) otherRow(rows []EndpointRow) EndpointRow {
	legacy, kube := newTally(), newTally()
	out := EndpointRow{Endpoint: fmt.Sprintf("(%d others)", len(rows)), Outcome: Skip}
	for _, row := range rows {
		pair := r.tallies[row.Endpoint]
		if pair[0] != nil {
			legacy.merge(pair[0])
		}
		if pair[1] != nil {
			kube.merge(pair[1])
		}
		switch {
		case row.Outcome == Fail:
			out.Outcome = Fail
		case row.Outcome == Pass && out.Outcome == Skip:
			out.Outcome = Pass
		}
	}
	out.Legacy, out.Kubernetes = legacy.stats(), kube.stats()
	out.Ratio = ratios(out.Kubernetes, out.Legacy)
	return out
}
