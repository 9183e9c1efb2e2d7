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
		return nil, fmt.Errorf("schedule %q: %s", expr, err)
	}
	return s, nil
}

// reference is the fixed moment MinInterval starts from, so results never depend on
// when they are computed. Its year is not a leap year and precedes one.
var reference = time.Date(2027, time.January, 1, 0, 0, 0, 0, time.UTC)

// maxFires bounds how many runs MinInterval looks at: enough for any schedule whose
// pattern repeats within a year at up to five runs a day, and every shorter gap shows
// up far earlier.
const maxFires = 2000

// MinInterval is the shortest time between two consecutive runs of expr, read in UTC
// over the runs of the coming years from a fixed reference.
func MinInterval(expr string) (time.Duration, error) {
	s, err := Parse(expr)
	if err != nil {
		return 0, err
	}
	prev := s.Next(reference)
	if prev.IsZero() {
		return 0, fmt.Errorf("schedule %q: %w", expr, ErrNeverFires)
	}
	horizon := reference.AddDate(5, 0, 0)
	var shortest time.Duration
	for range maxFires {
		next := s.Next(prev)
		if next.IsZero() {
			break
		}
		if gap := next.Sub(prev); shortest == 0 || gap < shortest {
			shortest = gap
		}
		if shortest == time.Minute || next.After(horizon) {
			break
		}
		prev = next
	}
	if shortest == 0 {
		return 0, fmt.Errorf("schedule %q: %w", expr, ErrNeverFires)
	}
	return shortest, nil
}
