package cronexpr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrNotCron means a field uses a form of other schedulers (Quartz, supercronic, AWS)
// that classic cron does not read and Kubernetes refuses: L, W, # and ?.
var ErrNotCron = errors.New("not classic cron syntax")

// Extension names a form of ErrNotCron.
type Extension string

// The forms ExtensionError reports.
const (
	// LastDay is L in day-of-month: the last day of the month.
	LastDay Extension = "L"
	// LastWeekday is LW in day-of-month: the last Monday-to-Friday of the month.
	LastWeekday Extension = "LW"
	// NearestWeekday is NW in day-of-month: the Monday-to-Friday nearest day N.
	NearestWeekday Extension = "W"
	// NthWeekday is D#N in day-of-week: the N-th weekday D of the month.
	NthWeekday Extension = "#"
	// LastOfWeekday is DL in day-of-week: the last weekday D of the month.
	LastOfWeekday Extension = "DL"
	// NoSpecificValue is ? in a day field: any day, as * is.
	NoSpecificValue Extension = "?"
	// OtherExtension is any other use of L, W, # or ? in a day field.
	OtherExtension Extension = "other"
)

// ExtensionError is a field of a schedule that uses a form ErrNotCron names.
type ExtensionError struct {
	Field string // "day-of-month", "day-of-week", ...
	Value string // the field as written
	Kind  Extension
	// Day is N of NW, the weekday D of D#N and DL (0 is Sunday); Nth is N of D#N.
	Day, Nth int
}

// Error says which field and what it means.
func (e *ExtensionError) Error() string {
	what := ""
	switch e.Kind {
	case LastDay:
		what = "the last day of the month"
	case LastWeekday:
		what = "the last weekday of the month"
	case NearestWeekday:
		what = fmt.Sprintf("the weekday nearest the %s", ordinal(e.Day))
	case NthWeekday:
		what = fmt.Sprintf("the %s %s of the month", ordinal(e.Nth), dayNames[e.Day])
	case LastOfWeekday:
		what = fmt.Sprintf("the last %s of the month", dayNames[e.Day])
	case NoSpecificValue:
		what = "any day"
	}
	if what == "" {
		return fmt.Sprintf("%s %q is %v", e.Field, e.Value, ErrNotCron)
	}
	return fmt.Sprintf("%s %q (%s) is %v", e.Field, e.Value, what, ErrNotCron)
}

// Unwrap makes errors.Is(err, ErrNotCron) hold.
func (e *ExtensionError) Unwrap() error { return ErrNotCron }

var dayNames = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}

func ordinal(n int) string {
	switch {
	case n%100 >= 11 && n%100 <= 13:
		return fmt.Sprintf("%dth", n)
	case n%10 == 1:
		return fmt.Sprintf("%dst", n)
	case n%10 == 2:
		return fmt.Sprintf("%dnd", n)
	case n%10 == 3:
		return fmt.Sprintf("%drd", n)
	}
	return fmt.Sprintf("%dth", n)
}

// Classic is a five-field schedule as classic (Vixie) cron and cronie read it. It is
// the reference the translation to Kubernetes is checked against.
type Classic struct {
	// Minute, Hour, Dom, Month and Dow have bit N set when value N runs; Dow folds
	// 7 into 0 (Sunday).
	Minute, Hour, Dom, Month, Dow uint64
	// DomStar and DowStar say the field starts with *: cron then runs on days that
	// match both day fields, otherwise on days that match either.
	DomStar, DowStar bool
}

// classicField is one of the five fields: its name, bounds and value names.
type classicField struct {
	name     string
	min, max int
	names    map[string]int
}

var (
	monthNames = map[string]int{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
		"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}
	classicFields = []classicField{
		{"minute", 0, 59, nil}, {"hour", 0, 23, nil}, {"day-of-month", 1, 31, nil},
		{"month", 1, 12, monthNames}, {"day-of-week", 0, 7, weekdays},
	}
	// classicMacros are the @-schedules of cron as five fields.
	classicMacros = map[string]string{
		"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
		"@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
	}
)

// ParseClassic reads a schedule as classic cron does: five fields of numbers, names,
// ranges, lists and steps (also N/STEP, as cronie reads it), or an @-macro. Forms of
// other schedulers in the day fields are ExtensionErrors; every other mistake is an error in plain words.
func ParseClassic(expr string) (*Classic, error) {
	expr = strings.Join(strings.Fields(expr), " ")
	if five, ok := classicMacros[strings.ToLower(expr)]; ok {
		expr = five
	}
	switch {
	case strings.EqualFold(expr, "@reboot"):
		return nil, fmt.Errorf("%w", ErrReboot)
	case strings.HasPrefix(expr, "@"):
		return nil, fmt.Errorf("unknown schedule %q: cron knows @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly and @reboot", expr)
	}
	fields := strings.Fields(expr)
	if len(fields) != 5 {
		return nil, fmt.Errorf("schedule %q has %d fields, want 5 (minute hour day-of-month month day-of-week)", expr, len(fields))
	}
	if err := extension(fields); err != nil {
		return nil, fmt.Errorf("schedule %q: %w", expr, err)
	}
	c := &Classic{DomStar: strings.HasPrefix(fields[2], "*"), DowStar: strings.HasPrefix(fields[4], "*")}
	out := []*uint64{&c.Minute, &c.Hour, &c.Dom, &c.Month, &c.Dow}
	for i, f := range classicFields {
		bits, err := f.parse(fields[i])
		if err != nil {
			return nil, fmt.Errorf("schedule %q: %s %q: %w", expr, f.name, fields[i], err)
		}
		*out[i] = bits
	}
	if has(c.Dow, 7) {
		c.Dow = c.Dow&^(1<<7) | 1
	}
	return c, nil
}

// extension finds the first use of L, W, # or ? in the day fields; elsewhere they
// are plain mistakes.
func extension(fields []string) error {
	for _, i := range []int{2, 4} {
		f := fields[i]
		if !strings.ContainsAny(strings.ToUpper(f), "LW#?") || (i == 4 && onlyNames(f)) {
			continue
		}
		e := &ExtensionError{Field: classicFields[i].name, Value: f, Kind: OtherExtension}
		up := strings.ToUpper(f)
		switch {
		case i == 2 && up == "L":
			e.Kind = LastDay
		case i == 2 && up == "LW":
			e.Kind = LastWeekday
		case i == 2 && strings.HasSuffix(up, "W") && number(up[:len(up)-1], 1, 31) >= 0:
			e.Kind, e.Day = NearestWeekday, number(up[:len(up)-1], 1, 31)
		case i == 4 && strings.Contains(f, "#"):
			d, n, _ := strings.Cut(f, "#")
			if day, nth := weekday(d), number(n, 1, 5); day >= 0 && nth >= 0 {
				e.Kind, e.Day, e.Nth = NthWeekday, day, nth
			}
		case i == 4 && len(up) > 1 && strings.HasSuffix(up, "L") && weekday(f[:len(f)-1]) >= 0:
			e.Kind, e.Day = LastOfWeekday, weekday(f[:len(f)-1])
		case f == "?":
			e.Kind = NoSpecificValue
		}
		return e
	}
	return nil
}

// onlyNames says a month or day-of-week field spells its L and W in names (jul, wed).
func onlyNames(f string) bool {
	for _, part := range strings.FieldsFunc(f, func(r rune) bool { return r == ',' || r == '-' || r == '/' }) {
		if strings.ContainsAny(part, "#?") {
			return false
		}
		if strings.ContainsAny(strings.ToUpper(part), "LW") && (len(part) < 3 || !letters(part)) {
			return false
		}
	}
	return !strings.ContainsAny(f, "#?")
}

func letters(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// number reads s as a number in [lo, hi], or -1.
func number(s string, lo, hi int) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi || strings.HasPrefix(s, "+") {
		return -1
	}
	return n
}

// weekday reads a day of the week as 0-6 (7 is Sunday too), or -1.
func weekday(s string) int {
	if d, ok := weekdays[strings.ToLower(s)]; ok {
		return d
	}
	return number(s, 0, 7) % 7
}

// parse reads one field: a list of *, N, N-M, each with an optional /STEP.
func (f classicField) parse(text string) (uint64, error) {
	var bits uint64
	for _, part := range strings.Split(text, ",") {
		rng, stepText, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 || strings.HasPrefix(stepText, "+") {
				return 0, fmt.Errorf("step %q is not a positive number", stepText)
			}
			step = min(n, 64) // a longer step takes only the first value; keeps v+step from overflowing
		}
		lo, hi := f.min, f.max
		if rng != "*" {
			loText, hiText, isRange := strings.Cut(rng, "-")
			var err error
			if lo, err = f.value(loText); err != nil {
				return 0, err
			}
			hi = lo
			switch {
			case isRange:
				if hi, err = f.value(hiText); err != nil {
					return 0, err
				}
				if lo > hi {
					return 0, fmt.Errorf("range %q runs backwards", rng)
				}
			case hasStep:
				hi = f.max
			}
		}
		for v := lo; v <= hi; v += step {
			bits |= 1 << uint(v)
		}
	}
	return bits, nil
}

// value reads a number or a name of the field.
func (f classicField) value(s string) (int, error) {
	if v, ok := f.names[strings.ToLower(s)]; ok {
		return v, nil
	}
	if n := number(s, f.min, f.max); n >= 0 {
		return n, nil
	}
	if _, err := strconv.Atoi(s); err == nil {
		return 0, fmt.Errorf("%s is out of range %d-%d", s, f.min, f.max)
	}
	if s == "" {
		return 0, fmt.Errorf("a range or list has an empty part")
	}
	if f.names != nil {
		return 0, fmt.Errorf("%q is neither a number %d-%d nor a name such as %s", s, f.min, f.max, map[bool]string{true: "mon", false: "jan"}[f.max == 7])
	}
	return 0, fmt.Errorf("%q is not a number %d-%d", s, f.min, f.max)
}

// Matches says whether cron runs the schedule in the minute t falls in, read in t's
// location.
func (c *Classic) Matches(t time.Time) bool {
	if !has(c.Minute, t.Minute()) || !has(c.Hour, t.Hour()) || !has(c.Month, int(t.Month())) {
		return false
	}
	dom, dow := has(c.Dom, t.Day()), has(c.Dow, int(t.Weekday()))
	if c.DomStar || c.DowStar {
		return dom && dow
	}
	return dom || dow
}

// Weekdays lists the days of the week the schedule names, 0 (Sunday) to 6.
func (c *Classic) Weekdays() []int {
	var out []int
	for d := 0; d < 7; d++ {
		if has(c.Dow, d) {
			out = append(out, d)
		}
	}
	return out
}
