package cronexpr

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseClassicExtensions(t *testing.T) {
	for _, tc := range []struct {
		expr     string
		kind     Extension
		day, nth int
		words    string
	}{
		{"0 23 L * *", LastDay, 0, 0, "the last day of the month"},
		{"0 18 LW * *", LastWeekday, 0, 0, "the last weekday"},
		{"0 9 15W * *", NearestWeekday, 15, 0, "the weekday nearest the 15th"},
		{"0 9 * * 1#2", NthWeekday, 1, 2, "the 2nd Monday of the month"},
		{"0 9 * * mon#1", NthWeekday, 1, 1, "the 1st Monday"},
		{"0 9 * * 5L", LastOfWeekday, 5, 0, "the last Friday"},
		{"0 9 ? * 1", NoSpecificValue, 0, 0, "any day"},
		{"0 9 1 * ?", NoSpecificValue, 0, 0, "any day"},
		{"0 9 L-3 * *", OtherExtension, 0, 0, ""},
		{"0 9 * * 1#6", OtherExtension, 0, 0, ""},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := ParseClassic(tc.expr)
			var e *ExtensionError
			if !errors.As(err, &e) || !errors.Is(err, ErrNotCron) {
				t.Fatalf("error %v, want an ExtensionError", err)
			}
			if e.Kind != tc.kind || e.Day != tc.day || e.Nth != tc.nth || !strings.Contains(err.Error(), tc.words) {
				t.Fatalf("%+v (%v), want %s day %d nth %d saying %q", e, err, tc.kind, tc.day, tc.nth, tc.words)
			}
			if _, err := FromClassic(tc.expr); !errors.Is(err, ErrNotCron) {
				t.Fatalf("FromClassic: %v, want ErrNotCron", err)
			}
		})
	}
}

// TestParseClassicSaysWhatIsWrong: no message of a library (strconv, robfig's
// "beyond end of range") reaches the user.
func TestParseClassicSaysWhatIsWrong(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{"61 * * * *", `minute "61": 61 is out of range 0-59`},
		{"0 24 * * *", `hour "24": 24 is out of range 0-23`},
		{"0 0 0 * *", `day-of-month "0": 0 is out of range 1-31`},
		{"0 0 * 13 *", `month "13": 13 is out of range 1-12`},
		{"0 0 * foo *", `month "foo": "foo" is neither a number 1-12 nor a name such as jan`},
		{"0 0 * * wednesday", `"wednesday" is neither a number 0-7 nor a name such as mon`},
		{"x * * * *", `minute "x": "x" is not a number 0-59`},
		{"*/0 * * * *", `step "0" is not a positive number`},
		{"5-1 * * * *", `range "5-1" runs backwards`},
		{"1,,2 * * * *", "empty part"},
		{"? * * * *", `minute "?": "?" is not a number 0-59`},
		{"Weekly sales report for the", `minute "Weekly"`},
		{"0 0 * *", "has 4 fields, want 5"},
		{"@fortnightly", "unknown schedule"},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := ParseClassic(tc.expr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if _, err := FromClassic(tc.expr); err == nil || strings.Contains(err.Error(), "strconv") || strings.Contains(err.Error(), "beyond") {
				t.Fatalf("FromClassic: %v", err)
			}
		})
	}
	if _, err := ParseClassic("@reboot"); !errors.Is(err, ErrReboot) {
		t.Fatalf("@reboot: %v", err)
	}
}

func TestClassicMatches(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.Parse("2006-01-02 15:04 Mon", s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, tc := range []struct {
		expr, time string
		want       bool
	}{
		{"*/15 * * * *", "2027-03-01 10:45 Mon", true},
		{"*/15 * * * *", "2027-03-01 10:46 Mon", false},
		{"0 9 * * 7", "2027-03-07 09:00 Sun", true},
		{"0 9 * * 5-7", "2027-03-07 09:00 Sun", true},
		{"0 0 1,15 * 1", "2027-03-08 00:00 Mon", true}, // both restricted: either
		{"0 0 */2 * 1", "2027-03-08 00:00 Mon", false}, // day-of-month starts with *: both, and the 8th is even
		{"0 0 */2 * 1", "2027-03-15 00:00 Mon", true},  // odd day, Monday
		{"0 0 * * mon-fri", "2027-03-06 00:00 Sat", false},
		{"5/20 * * * *", "2027-03-06 00:45 Sat", true}, // 5, 25, 45
		{"@monthly", "2027-03-01 00:00 Mon", true},
		{"0 0 1 jan-mar *", "2027-04-01 00:00 Thu", false},
	} {
		c, err := ParseClassic(tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		if got := c.Matches(at(tc.time)); got != tc.want {
			t.Errorf("%s at %s: %v, want %v", tc.expr, tc.time, got, tc.want)
		}
	}
}
