package cronexpr

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/robfig/cron/v3"
)

// weekdays are day-of-week names as cron reads them.
var weekdays = map[string]int{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}

// FromClassic turns a schedule written for classic (Vixie) cron into the one a
// Kubernetes CronJob reads the same way: 7 for Sunday becomes 0. It fails on @reboot
// (ErrReboot), on forms of other schedulers (an ExtensionError, ErrNotCron), where
// day-of-month and day-of-week would be combined differently (ErrDayMatching: cron
// ANDs them when either field starts with "*", Kubernetes only when either is "*"
// without a step), and on mistakes, which it explains in its own words.
func FromClassic(expr string) (string, error) {
	expr = strings.Join(strings.Fields(expr), " ")
	classic, err := ParseClassic(expr)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(expr, "@") {
		return strings.ToLower(expr), nil
	}
	fields := strings.Fields(expr)
	dow, err := sundayAsZero(fields[4])
	if err != nil {
		return "", fmt.Errorf("schedule %q: day-of-week: %w", expr, err)
	}
	fields[4] = dow
	out := strings.Join(fields, " ")
	s, err := cron.ParseStandard(out)
	if err != nil {
		// ParseClassic accepted it, so this is a form only cron reads.
		return "", fmt.Errorf("schedule %q: Kubernetes does not read %q", expr, out)
	}
	spec, ok := s.(*cron.SpecSchedule)
	if !ok {
		return "", fmt.Errorf("schedule %q is not a cron expression", expr)
	}
	classicAND := classic.DomStar || classic.DowStar
	kubeAND := spec.Dom&starBit != 0 || spec.Dow&starBit != 0
	if classicAND != kubeAND {
		return "", fmt.Errorf("schedule %q: %w", expr, ErrDayMatching)
	}
	return out, nil
}

// sundayAsZero rewrites a day-of-week field that uses 7 for Sunday as an explicit
// list of 0-6, leaving any other field as it is.
func sundayAsZero(field string) (string, error) {
	if strings.HasPrefix(field, "*") {
		return field, nil
	}
	days := map[int]bool{}
	uses7 := false
	for _, part := range strings.Split(field, ",") {
		lo, hi, step, err := dayRange(part)
		if err != nil {
			return "", err
		}
		uses7 = uses7 || hi == 7 // Kubernetes refuses 7 even as a bound it never reaches
		for d := lo; d <= hi; d += step {
			if d == 7 {
				uses7 = true
				days[0] = true
				continue
			}
			days[d] = true
		}
	}
	if !uses7 {
		return field, nil
	}
	list := make([]int, 0, len(days))
	for d := range days {
		list = append(list, d)
	}
	sort.Ints(list)
	return compress(list), nil
}

// dayRange reads one comma-separated part of a day-of-week field: N, N-M, with an
// optional /STEP; names like mon count as numbers.
func dayRange(part string) (lo, hi, step int, err error) {
	rng, stepText, hasStep := strings.Cut(part, "/")
	step = 1
	if hasStep {
		step, err = strconv.Atoi(stepText)
		if err != nil || step < 1 {
			return 0, 0, 0, fmt.Errorf("bad step %q", stepText)
		}
		step = min(step, 8) // any longer step takes only the first day; keeps lo+step from overflowing
	}
	loText, hiText, isRange := strings.Cut(rng, "-")
	if lo, err = day(loText); err != nil {
		return 0, 0, 0, err
	}
	hi = lo
	if isRange {
		if hi, err = day(hiText); err != nil {
			return 0, 0, 0, err
		}
	} else if hasStep {
		hi = 7
	}
	if lo > hi {
		return 0, 0, 0, fmt.Errorf("range %q runs backwards", rng)
	}
	return lo, hi, step, nil
}

func day(s string) (int, error) {
	if d, ok := weekdays[strings.ToLower(s)]; ok {
		return d, nil
	}
	d, err := strconv.Atoi(s)
	if err != nil || d < 0 || d > 7 {
		return 0, fmt.Errorf("%q is not a day of the week (0-7 or sun-sat)", s)
	}
	return d, nil
}

// compress writes sorted days as a list with ranges: 0,1,2,5 → 0-2,5.
func compress(days []int) string {
	var parts []string
	for i := 0; i < len(days); {
		j := i
		for j+1 < len(days) && days[j+1] == days[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(days[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", days[i], days[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}
