package cronexpr

import (
	"errors"
	"testing"
	"time"
)

func TestFromClassic(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{"*/5 * * * *", "*/5 * * * *", nil},
		{"0  3 * *   *", "0 3 * * *", nil},
		{"@daily", "@daily", nil},
		{"@Weekly", "@weekly", nil},
		{"@annually", "@annually", nil},
		{"0 9 * * 1-5", "0 9 * * 1-5", nil},
		{"0 9 * * mon-fri", "0 9 * * mon-fri", nil},
		{"0 9 * * 7", "0 9 * * 0", nil},
		{"0 9 * * 5-7", "0 9 * * 0,5-6", nil},
		{"0 9 * * 0-7", "0 9 * * 0-6", nil},
		{"0 9 * * 1,7", "0 9 * * 0-1", nil},
		{"0 9 * * 1-7/2", "0 9 * * 0-1,3,5", nil},
		{"15 2 1,15 * *", "15 2 1,15 * *", nil},
		{"0 0 1-7 * 1", "0 0 1-7 * 1", nil},   // both restricted: ORed in both
		{"0 0 */2 * *", "0 0 */2 * *", nil},   // day-of-week is *: ANDed in both
		{"0 0 */2 * 1-5", "", ErrDayMatching}, // cron ANDs, Kubernetes ORs
		{"@reboot", "", ErrReboot},
		{"CRON_TZ=Asia/Tokyo 0 0 * * *", "", nil}, // wrong field count is reported
		{"0 0 * *", "", nil},
		{"61 * * * *", "", nil},
		{"0 0 * * 8", "", nil},
		{"0 0 * * 5-2", "", nil},
		{"@every 5m", "", nil},
		{"0 0 * * 1-7/9223372036854775807", "0 0 * * 1", nil}, // found by fuzzing: the step overflowed
		{"0 0 * * 0-7/100", "0 0 * * 0", nil},
		{"0 0 * * 6/3", "0 0 * * 6", nil},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := FromClassic(tc.in)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("got %q, want an error", got)
				}
				if tc.err != nil && !errors.Is(err, tc.err) {
					t.Fatalf("error %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestParseRefusesTimeZonePrefix(t *testing.T) {
	for _, expr := range []string{"TZ=UTC 0 0 * * *", "CRON_TZ=Asia/Tokyo 0 0 * * *"} {
		if _, err := Parse(expr); !errors.Is(err, ErrTimeZoneInSchedule) {
			t.Errorf("Parse(%q) = %v, want ErrTimeZoneInSchedule", expr, err)
		}
	}
}

func TestMinInterval(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want time.Duration
	}{
		{"* * * * *", time.Minute},
		{"*/5 * * * *", 5 * time.Minute},
		{"7,37 * * * *", 30 * time.Minute},
		{"0 * * * *", time.Hour},
		{"@hourly", time.Hour},
		{"0 0 * * *", 24 * time.Hour},
		{"@daily", 24 * time.Hour},
		{"0 9 * * 1-5", 24 * time.Hour},
		{"0 9,17 * * *", 8 * time.Hour},
		{"0 0 * * 0", 7 * 24 * time.Hour},
		{"0 0 1 * *", 28 * 24 * time.Hour}, // February
		{"0 0 1 1 *", 365 * 24 * time.Hour},
		{"0 0 29 2 *", (3*365 + 366) * 24 * time.Hour},
		{"0 0 1,2 1 *", 24 * time.Hour},
		{"55 23 31 12 *", 365 * 24 * time.Hour}, // 2027-12-31 → 2028-12-31 is 366 days, the one before 365
	} {
		t.Run(tc.expr, func(t *testing.T) {
			got, err := MinInterval(tc.expr)
			if err != nil || got != tc.want {
				t.Fatalf("MinInterval = %s, %v; want %s", got, err, tc.want)
			}
		})
	}
	if _, err := MinInterval("0 0 30 2 *"); !errors.Is(err, ErrNeverFires) {
		t.Fatalf("February 30: %v, want ErrNeverFires", err)
	}
}

// stepped is the shortest gap found by stepping through the runs with robfig/cron,
// the reference MinInterval must agree with.
func stepped(t *testing.T, expr string) time.Duration {
	s, err := Parse(expr)
	if err != nil {
		t.Fatal(err)
	}
	prev := s.Next(reference.Add(-time.Minute))
	var shortest time.Duration
	for range 20000 {
		next := s.Next(prev)
		if next.IsZero() || next.After(reference.AddDate(0, 0, horizonDays)) {
			break
		}
		if gap := next.Sub(prev); shortest == 0 || gap < shortest {
			shortest = gap
		}
		prev = next
	}
	return shortest
}

func TestMinIntervalAgreesWithSteppingThroughRuns(t *testing.T) {
	for _, expr := range []string{
		"*/7 * * * *", "13 */5 * * *", "0 23 * * 5", "0 1 * * 6", "30 0,23 * * *", "0 0 28-31 * *",
		"0 12 1 1,7 *", "0 0 13 * 5", "45 23 * * 0,6", "0 0 */2 * *", "5,55 11,12 * * 1-5", "0 9 * 2 2",
		"0 0 31 * *", "59 23 * * 6", "0 0 1,31 * *",
	} {
		if got, want := mustMin(t, expr), stepped(t, expr); got != want {
			t.Errorf("MinInterval(%q) = %s, stepping through runs gives %s", expr, got, want)
		}
	}
}

func mustMin(t *testing.T, expr string) time.Duration {
	d, err := MinInterval(expr)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
