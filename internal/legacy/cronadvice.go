package legacy

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"ferry.dev/ferry/internal/cronexpr"
)

// scheduleAdvice says why a schedule cannot be a CronJob's and what to write in the
// crontab instead: a schedule both read alike, with a shell test in front of the
// command for the part Kubernetes cannot express (as crontabs already do for month
// ends). The test names the zone, since the pod's clock is not the legacy server's.
// "" means the error is not one of those.
func scheduleAdvice(schedule string, err error, zone string) string {
	var ext *cronexpr.ExtensionError
	switch {
	case errors.As(err, &ext):
		return fmt.Sprintf("%s, and Kubernetes does not read it: %s", ext.Error(), extensionRewrite(schedule, ext, zone))
	case errors.Is(err, cronexpr.ErrDayMatching):
		return dayMatchingAdvice(schedule, zone)
	}
	return ""
}

// shellDate is `date` in the zone the legacy cron ran in, % escaped for a crontab.
func shellDate(zone, args string) string {
	args = strings.ReplaceAll(args, "%", `\%`)
	if zone == "" {
		return "date " + args
	}
	return "TZ=" + zone + " date " + args
}

func extensionRewrite(schedule string, ext *cronexpr.ExtensionError, zone string) string {
	f := strings.Fields(schedule)
	if len(f) != 5 {
		return "write it with numbers, names, ranges, lists and steps, and test the rest in the command"
	}
	line := func(dom, dow, test string) string {
		return fmt.Sprintf("write `%s %s %s %s %s %s && …` in the crontab (GNU date)", f[0], f[1], dom, f[3], dow, test)
	}
	switch ext.Kind {
	case cronexpr.LastDay:
		return line("28-31", "*", fmt.Sprintf(`[ "$(%s)" = 01 ]`, shellDate(zone, "-d tomorrow +%d")))
	case cronexpr.LastWeekday:
		return line("26-31", "*", fmt.Sprintf(`[ "$(%s)" -le 5 ] && { [ "$(%s)" = 01 ] || { [ "$(%s)" = 5 ] && [ "$(%s)" -le 03 ]; }; }`,
			shellDate(zone, "+%u"), shellDate(zone, "-d tomorrow +%d"), shellDate(zone, "+%u"), shellDate(zone, "-d +3days +%d")))
	case cronexpr.NearestWeekday:
		n := ext.Day
		if n > 27 {
			return fmt.Sprintf("run it on the days around day %d (`%s %s %d-31 %s *`) and let the command decide, or pick a fixed day", n, f[0], f[1], n-2, f[3])
		}
		match := fmt.Sprintf("%02d[1-5]|%02d5|%02d1", n, n-1, n+1) // that day on a weekday, Friday before, Monday after
		lo, hi := n-1, n+1
		if n == 1 {
			match, lo, hi = "01[1-5]|021|031", 1, 3 // the 1st on a weekend moves to Monday
		}
		return line(fmt.Sprintf("%d-%d", lo, hi), "*", fmt.Sprintf(`%s | grep -qE '^(%s)$'`, shellDate(zone, "+%d%u"), match))
	case cronexpr.NthWeekday:
		lo := (ext.Nth-1)*7 + 1
		return line(fmt.Sprintf("%d-%d", lo, min(lo+6, 31)), "*", fmt.Sprintf(`[ "$(%s)" = %d ]`, shellDate(zone, "+%w"), ext.Day))
	case cronexpr.LastOfWeekday:
		return line("*", strconv.Itoa(ext.Day), fmt.Sprintf(`[ "$(%s)" -le 07 ]`, shellDate(zone, "-d +7days +%d")))
	}
	return "write it with numbers, names, ranges, lists and steps, and test the rest in the command"
}

// dayMatchingAdvice: cron runs the entry on days that match both day fields (one
// starts with *), Kubernetes would run it on days that match either.
func dayMatchingAdvice(schedule string, zone string) string {
	f := strings.Fields(schedule)
	c, err := cronexpr.ParseClassic(schedule)
	if len(f) != 5 || err != nil {
		return "day-of-month and day-of-week combine differently in Kubernetes"
	}
	var days strings.Builder
	for _, d := range c.Weekdays() {
		days.WriteString(strconv.Itoa(d))
	}
	return fmt.Sprintf("cron runs it on days that match both day-of-month %q and day-of-week %q (one starts with *), Kubernetes would run it on days that match either: write `%s %s %s %s * %s | grep -qx '[%s]' && …` in the crontab",
		f[2], f[4], f[0], f[1], f[2], f[3], shellDate(zone, "+%w"), days.String())
}
