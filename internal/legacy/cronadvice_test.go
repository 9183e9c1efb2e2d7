package legacy

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"ferry.dev/ferry/internal/cronexpr"
)

// TestForeignSchedulesAreSkippedWithARewrite: one entry in L, W, # or the day-field
// rule does not fail the import; it is skipped with a crontab line to write instead,
// and the rest is imported. ? is read as *.
func TestForeignSchedulesAreSkippedWithARewrite(t *testing.T) {
	jobs, notes := importFixture(t, "quartz.crontab", false, CronJobConfig{Image: "payroll/web:v1", TimeZone: "Asia/Tokyo"})
	got := map[string]string{}
	for _, cj := range jobs {
		got[cj.Annotations[AnnotationImportedFrom]] = cj.Spec.Schedule
	}
	want := map[string]string{"quartz.crontab:2": "*/5 * * * *", "quartz.crontab:9": "0 6 * * 1", "quartz.crontab:12": "0 1 * * *"}
	if len(got) != len(want) {
		t.Fatalf("CronJobs %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("CronJobs %v, want %v", got, want)
		}
	}
	if r := notesOf(notes, Review)[9]; !strings.Contains(strings.Join(r, "|"), "read as *") {
		t.Errorf("line 9 review notes %q, want one on ?", r)
	}
	skipped := notesOf(notes, Skipped)
	for line, words := range map[int]string{
		3: "the last day of the month", 4: "the last weekday of the month", 5: "the weekday nearest the 15th",
		6: "the weekday nearest the 1st", 7: "the 2nd Monday of the month", 8: "the last Friday of the month",
		10: `day-of-month "L-2"`, 11: "match both",
	} {
		if len(skipped[line]) != 1 || !strings.Contains(skipped[line][0], words) || strings.Contains(skipped[line][0], "strconv") {
			t.Errorf("line %d skipped %q, want it to say %q", line, skipped[line], words)
		}
	}
	if len(skipped) != 8 {
		t.Errorf("%d entries skipped, want 8: %v", len(skipped), skipped)
	}
}

// rewriteOf is the crontab line a skip note suggests, split into schedule and test.
func rewriteOf(t *testing.T, note string) (schedule, test string) {
	t.Helper()
	_, line, ok := strings.Cut(note, "`")
	line, _, ok2 := strings.Cut(line, "`")
	if !ok || !ok2 {
		t.Fatalf("no line to write in %q", note)
	}
	fields, rest := splitFields(line, 5)
	return strings.Join(fields, " "), strings.TrimSuffix(rest, " && …")
}

// TestRewritesRunOnTheSameDays runs the suggested tests with GNU date on every day
// their schedule fires in 2027 and checks they pass exactly on the days the original
// entry meant.
func TestRewritesRunOnTheSameDays(t *testing.T) {
	if out, err := exec.Command("date", "--version").Output(); err != nil || !strings.Contains(string(out), "GNU") {
		t.Skip("needs GNU date")
	}
	// date as if today were $FAKE_NOW, relative dates included.
	const shim = `date() { if [ "$1" = -d ]; then rel=$2; shift 2; command date -d "$FAKE_NOW $rel" "$@"; else command date -d "$FAKE_NOW" "$@"; fi; }; `
	_, notes := importFixture(t, "quartz.crontab", false, CronJobConfig{Image: "payroll/web:v1", TimeZone: "Asia/Tokyo"})
	skipped := notesOf(notes, Skipped)
	lastDay := func(d time.Time) int { return time.Date(d.Year(), d.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day() }
	weekday := func(d time.Time) bool { return d.Weekday() != time.Saturday && d.Weekday() != time.Sunday }
	nearest := func(n int) func(time.Time) bool {
		return func(d time.Time) bool {
			target := time.Date(d.Year(), d.Month(), n, 0, 0, 0, 0, time.UTC)
			switch {
			case target.Weekday() == time.Saturday && n == 1:
				target = target.AddDate(0, 0, 2)
			case target.Weekday() == time.Saturday:
				target = target.AddDate(0, 0, -1)
			case target.Weekday() == time.Sunday:
				target = target.AddDate(0, 0, 1)
			}
			return d.Day() == target.Day()
		}
	}
	reindex, err := cronexpr.ParseClassic("0 0 */2 * 1-5")
	if err != nil {
		t.Fatal(err)
	}
	for line, meant := range map[int]func(time.Time) bool{
		3: func(d time.Time) bool { return d.Day() == lastDay(d) },
		4: func(d time.Time) bool {
			for later := d.AddDate(0, 0, 1); later.Month() == d.Month(); later = later.AddDate(0, 0, 1) {
				if weekday(later) {
					return false
				}
			}
			return weekday(d)
		},
		5:  nearest(15),
		6:  nearest(1),
		7:  func(d time.Time) bool { return d.Weekday() == time.Monday && (d.Day()-1)/7 == 1 },
		8:  func(d time.Time) bool { return d.Weekday() == time.Friday && d.Day()+7 > lastDay(d) },
		11: reindex.Matches,
	} {
		schedule, test := rewriteOf(t, skipped[line][0])
		rewritten, err := cronexpr.ParseClassic(schedule)
		if err != nil {
			t.Fatalf("line %d: the rewrite %q: %v", line, schedule, err)
		}
		if _, err := cronexpr.FromClassic(schedule); err != nil {
			t.Fatalf("line %d: the rewrite %q does not map: %v", line, schedule, err)
		}
		test = strings.ReplaceAll(test, `\%`, "%")
		// One shell per rewrite runs the test for every day the schedule fires in months
		// of each length, starting and ending on each kind of day.
		var days []string
		for d := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == 2027; d = d.AddDate(0, 0, 1) {
			if !testedMonths[d.Month()] {
				continue
			}
			if runsOn(rewritten, d) {
				days = append(days, d.Format("2006-01-02"))
			} else if meant(d) {
				t.Errorf("line %d: %s never runs on %s", line, schedule, d.Format("2006-01-02 Mon"))
			}
		}
		script := shim + "for FAKE_NOW in " + strings.Join(days, " ") + "; do export FAKE_NOW; if " + test + "; then echo $FAKE_NOW; fi; done"
		out, err := exec.Command("sh", "-c", script).Output()
		if err != nil {
			t.Fatalf("line %d: %v", line, err)
		}
		passed := map[string]bool{}
		for _, d := range strings.Fields(string(out)) {
			passed[d] = true
		}
		for _, day := range days {
			d, _ := time.Parse("2006-01-02", day)
			if passed[day] != meant(d) {
				t.Errorf("line %d: on %s the test %q says %v, want %v", line, d.Format("2006-01-02 Mon"), test, passed[day], meant(d))
			}
		}
	}
}

// testedMonths of 2027 start on Friday, Monday, Saturday, Thursday and Friday and end
// on Sunday, Sunday, Monday, Saturday and Sunday; February has 28 days.
var testedMonths = map[time.Month]bool{time.January: true, time.February: true, time.May: true, time.July: true, time.October: true}

// runsOn says whether c fires at some minute of day d.
func runsOn(c *cronexpr.Classic, d time.Time) bool {
	for m := 0; m < 24*60; m++ {
		if c.Matches(d.Add(time.Duration(m) * time.Minute)) {
			return true
		}
	}
	return false
}
