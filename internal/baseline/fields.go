package baseline

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A column is recognised by its name with any unit suffix removed; the suffix gives
// the unit of plain numbers (milliseconds when there is none).
var columnNames = map[string][]string{
	"endpoint": {"endpoint", "name", "transaction", "route", "path", "url"},
	"method":   {"method", "verb", "http_method"},
	"count":    {"count", "calls", "requests", "throughput_count", "hits"},
	"mean":     {"mean", "avg", "average", "mean_latency", "avg_latency", "duration_avg"},
	"p95":      {"p95", "percentile_95", "pct95", "95th"},
	"p99":      {"p99", "percentile_99", "pct99", "99th"},
	"max":      {"max", "maximum", "max_latency", "duration_max"},
}

var units = []struct {
	suffix string
	unit   time.Duration
}{{"_ms", time.Millisecond}, {"_us", time.Microsecond}, {"_s", time.Second}, {"_sec", time.Second}, {"_seconds", time.Second}, {"_millis", time.Millisecond}}

// column maps a header to a field and the unit of its plain numbers.
func column(header string) (field string, unit time.Duration) {
	h := strings.ToLower(strings.TrimSpace(header))
	h = strings.NewReplacer(" ", "_", "-", "_", "(", "", ")", "").Replace(h)
	unit = time.Millisecond
	for _, u := range units {
		if strings.HasSuffix(h, u.suffix) {
			h, unit = strings.TrimSuffix(h, u.suffix), u.unit
			break
		}
	}
	for f, names := range columnNames {
		for _, n := range names {
			if h == n {
				return f, unit
			}
		}
	}
	return "", unit
}

// set stores one field of an endpoint from its text.
func set(e *Endpoint, field, value string, unit time.Duration) error {
	value = strings.TrimSpace(value)
	switch field {
	case "endpoint":
		method, path, ok := strings.Cut(value, " ")
		if ok && isMethod(method) {
			if e.Method == "" {
				e.Method = strings.ToUpper(method)
			}
			value = strings.TrimSpace(path)
		}
		e.Path = value
	case "method":
		if value != "" {
			e.Method = strings.ToUpper(value)
		}
	case "count":
		if value == "" {
			return nil
		}
		n, err := strconv.ParseFloat(value, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("%w: count %q", ErrValue, value)
		}
		e.Count = int64(n)
	case "mean", "p95", "p99", "max":
		d, err := duration(value, unit)
		if err != nil {
			return fmt.Errorf("%w: %s %q", ErrValue, field, value)
		}
		switch field {
		case "mean":
			e.Mean = d
		case "p95":
			e.P95 = d
		case "p99":
			e.P99 = d
		default:
			e.Max = d
		}
	}
	return nil
}

// duration reads "12.5" (in unit) or a Go duration such as "12.5ms".
func duration(s string, unit time.Duration) (time.Duration, error) {
	if s == "" || s == "-" {
		return 0, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f < 0 {
			return 0, ErrValue
		}
		return time.Duration(f * float64(unit)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, ErrValue
	}
	return d, nil
}

func isMethod(s string) bool {
	switch strings.ToUpper(s) {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
		return true
	}
	return false
}

// check makes sure an endpoint says which one it is and carries a latency.
func check(e Endpoint, where string) error {
	if e.Path == "" {
		return fmt.Errorf("%s: %w: endpoint is empty", where, ErrValue)
	}
	if e.Mean == 0 && e.P95 == 0 && e.P99 == 0 && e.Max == 0 {
		return fmt.Errorf("%s: %w: %s has no latency", where, ErrValue, e.Name())
	}
	return nil
}
