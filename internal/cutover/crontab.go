package cutover

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Entry is one job of a legacy crontab.
type Entry struct {
	// Schedule is the five time fields, or a macro such as @daily.
	Schedule string
	// Command is the rest of the line (with the user field of /etc/cron.d files).
	Command string
	// Line is the line as written.
	Line string
}

var envLine = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*\s*=`)

// ParseCrontab reads the jobs of a crontab (crontab -l output or an /etc/cron.d
// file): blank lines, comments and variable assignments are skipped.
func ParseCrontab(text string) ([]Entry, error) {
	var out []Entry
	for i, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") || envLine.MatchString(line) {
			continue
		}
		fields := strings.Fields(line)
		n := 5
		if strings.HasPrefix(fields[0], "@") {
			n = 1
		}
		if len(fields) <= n {
			return nil, fmt.Errorf("line %d: %q is not a crontab entry (schedule, then command)", i+1, line)
		}
		out = append(out, Entry{Schedule: strings.Join(fields[:n], " "), Command: strings.Join(fields[n:], " "), Line: line})
	}
	return out, nil
}

// macros are the schedules cron's @-forms stand for.
var macros = map[string]string{
	"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
	"@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}

// sameSchedule compares two schedules as cron reads them: fields, not spacing, and
// macros as what they stand for.
func sameSchedule(a, b string) bool {
	norm := func(s string) string {
		s = strings.Join(strings.Fields(s), " ")
		if m, ok := macros[s]; ok {
			return m
		}
		return s
	}
	return norm(a) == norm(b)
}

// match pairs each entry with the CronJobs on the same schedule (by name), so the
// operator sees which job took over which line.
func match(entries []Entry, schedules map[string]string) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		var names []string
		for name, s := range schedules {
			if sameSchedule(e.Schedule, s) {
				names = append(names, name)
			}
		}
		if len(names) > 0 {
			sort.Strings(names)
			out[i] = strings.Join(names, ", ")
		}
	}
	return out
}
