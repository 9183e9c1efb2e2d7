package accesslog

import (
	"fmt"
	"strings"
	"time"
)

// ParseALB parses a line of the AWS Application Load Balancer access-log format:
//
//	http 2026-07-02T22:23:00.186641Z app/lb/50dc 203.0.113.9:2817 198.51.100.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://shop.example.com:80/users/42 HTTP/1.1" "curl/8.0" - - arn:… "Root=…" …
//
// The time is the request's end, the elb_status_code its status.
func ParseALB(line string) (Entry, error) {
	fields, err := albFields(line, 13)
	if err != nil {
		return Entry{}, err
	}
	switch fields[0] {
	case "http", "https", "h2", "grpcs", "ws", "wss":
	default:
		return Entry{}, fmt.Errorf("%w: alb type %q", ErrMalformed, fields[0])
	}
	ts, err := time.Parse(time.RFC3339Nano, fields[1])
	if err != nil {
		return Entry{}, fmt.Errorf("%w: time: %w", ErrMalformed, err)
	}
	e, err := requestLine(fields[12])
	if err != nil {
		return Entry{}, err
	}
	if e.Status, err = statusCode(fields[8]); err != nil {
		return Entry{}, err
	}
	e.Time = ts
	return e, nil
}

// albFields splits the first n space-separated fields of an ALB line; quoted fields
// keep their spaces and lose their quotes.
func albFields(line string, n int) ([]string, error) {
	fields := make([]string, 0, n)
	rest := line
	for len(fields) < n {
		rest = strings.TrimLeft(rest, " ")
		if rest == "" {
			return nil, fmt.Errorf("%w: %d of %d alb fields", ErrMalformed, len(fields), n)
		}
		if rest[0] == '"' {
			f, r, ok := quoted(rest)
			if !ok {
				return nil, fmt.Errorf("%w: unterminated quote", ErrMalformed)
			}
			fields, rest = append(fields, f), r
			continue
		}
		f, r, _ := strings.Cut(rest, " ")
		fields, rest = append(fields, f), r
	}
	return fields, nil
}
