package cutover

import (
	"reflect"
	"sort"
	"strings"

	"ferry.dev/ferry/internal/cronexpr"
	"ferry.dev/ferry/internal/legacy"
)

// entry is one job of the legacy crontab, as written.
type entry struct {
	schedule string
	line     string
}

// entries reads the jobs of a crontab (crontab -l output or an /etc/cron.d file),
// keeping each job's line as written, for the operator to find.
func entries(file string, data []byte) ([]entry, error) {
	tab, err := legacy.ParseCrontab(file, data, false)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(data), "\n")
	out := make([]entry, 0, len(tab.Jobs))
	for _, j := range tab.Jobs {
		line := j.Schedule + " " + j.Command
		if j.Line >= 1 && j.Line <= len(lines) {
			line = strings.TrimSpace(lines[j.Line-1])
		}
		out = append(out, entry{schedule: j.Schedule, line: line})
	}
	return out, nil
}

// sameSchedule reports whether two schedules fire at the same times, as the CronJob
// controller reads them (@daily is 0 0 * * *); schedules it cannot read compare as
// written.
func sameSchedule(a, b string) bool {
	sa, errA := cronexpr.Parse(a)
	sb, errB := cronexpr.Parse(b)
	if errA != nil || errB != nil {
		return strings.Join(strings.Fields(a), " ") == strings.Join(strings.Fields(b), " ")
	}
	return reflect.DeepEqual(sa, sb)
}

// match names, for each entry, the CronJobs on the same schedule, so the operator sees
// which job took over which line.
func match(es []entry, schedules map[string]string) []string {
	out := make([]string, len(es))
	for i, e := range es {
		var names []string
		for name, s := range schedules {
			if sameSchedule(e.schedule, s) {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		out[i] = strings.Join(names, ", ")
	}
	return out
}
