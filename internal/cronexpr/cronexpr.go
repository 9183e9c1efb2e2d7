package cronexpr

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Errors a schedule can have besides plain syntax errors.
var (
	// ErrTimeZoneInSchedule means a TZ= or CRON_TZ= prefix, which Kubernetes wants in
	// spec.timeZone instead.
	ErrTimeZoneInSchedule = errors.New("a time zone in the schedule")
	// ErrReboot means @reboot, which has no CronJob equivalent.
	ErrReboot = errors.New("@reboot is not a schedule")
	// ErrDayMatching means day-of-month and day-of-week would combine differently in
	// Kubernetes than in cron.
	ErrDayMatching = errors.New("day-of-month and day-of-week combine differently in Kubernetes")
	// ErrNeverFires means the schedule names no time that exists (such as February 30).
	ErrNeverFires = errors.New("the schedule never fires")
)

// starBit is robfig/cron's marker for a field given as "*": when day-of-month or
// day-of-week carries it, the two are ANDed, otherwise ORed.
const starBit = 1 << 63

// Parse reads a schedule as the Kubernetes CronJob controller does.
func Parse(expr string) (cron.Schedule, error) {
	trimmed := strings.TrimSpace(expr)
	if strings.HasPrefix(trimmed, "TZ=") || strings.HasPrefix(trimmed, "CRON_TZ=") {
		return nil, fmt.Errorf("schedule %q: %w: set spec.timeZone instead", expr, ErrTimeZoneInSchedule)
	}
	if trimmed == "@reboot" {
		return nil, fmt.Errorf("schedule %q: %w", expr, ErrReboot)
	}
	s, err := cron.ParseStandard(trimmed)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", expr, err)
	}
	return s, nil
}

// reference is the fixed day MinInterval starts from, so results never depend on when
// they are computed.
var reference = time.Date(2027, time.January, 1, 0, 0, 0, 0, time.UTC)

// horizonDays covers two February 29ths from reference, so every day pattern of a
// schedule repeats within it.
const horizonDays = 6 * 366

// MinInterval is the shortest time between two consecutive runs of expr, read in UTC.
// It works on the schedule's fields rather than stepping through runs: the shortest
// gap between two run times of one day, and between the last run of each matching day
// and the first of the next, over six years of days. A schedule that matches a single
// day in that time gives the whole horizon.
func MinInterval(expr string) (time.Duration, error) {
	s, err := Parse(expr)
	if err != nil {
		return 0, err
	}
	if c, ok := s.(cron.ConstantDelaySchedule); ok {
		return c.Delay, nil
	}
	spec, ok := s.(*cron.SpecSchedule)
	if !ok {
		return 0, fmt.Errorf("schedule %q is not a cron expression", expr)
	}
	minutes := minutesOfDay(spec)
	days := matchingDays(spec)
	if len(minutes) == 0 || len(days) == 0 {
		return 0, fmt.Errorf("schedule %q: %w", expr, ErrNeverFires)
	}
	shortest := horizonDays * 24 * 60
	for i := 1; i < len(minutes); i++ {
		shortest = min(shortest, minutes[i]-minutes[i-1])
	}
	for i := 1; i < len(days); i++ {
		shortest = min(shortest, (days[i]-days[i-1])*24*60-minutes[len(minutes)-1]+minutes[0])
	}
	return time.Duration(shortest) * time.Minute, nil
}

func has(bits uint64, n int) bool { return bits&(1<<uint(n)) != 0 }

// minutesOfDay lists the minutes after midnight at which spec runs, ascending.
func minutesOfDay(spec *cron.SpecSchedule) []int {
	var out []int
	for h := 0; h < 24; h++ {
		for m := 0; m < 60; m++ {
			if has(spec.Hour, h) && has(spec.Minute, m) {
				out = append(out, h*60+m)
			}
		}
	}
	return out
}

// matchingDays lists the days after reference on which spec runs, combining
// day-of-month and day-of-week as robfig/cron does.
func matchingDays(spec *cron.SpecSchedule) []int {
	var out []int
	and := spec.Dom&starBit != 0 || spec.Dow&starBit != 0
	t := reference
	for d := 0; d < horizonDays; d, t = d+1, t.Add(24*time.Hour) { // UTC days are 24h
		if !has(spec.Month, int(t.Month())) {
			continue
		}
		dom, dow := has(spec.Dom, t.Day()), has(spec.Dow, int(t.Weekday()))
		if (and && dom && dow) || (!and && (dom || dow)) {
			out = append(out, d)
		}
	}
	return out
}
