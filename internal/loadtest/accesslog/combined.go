package accesslog

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

const combinedTime = "02/Jan/2006:15:04:05 -0700"

// ParseCombined parses a line of the nginx/Apache combined (or common) format:
//
//	203.0.113.9 - - [10/Oct/2026:13:55:36 +0000] "GET /users/42 HTTP/1.1" 200 2326 "-" "curl/8.0"
func ParseCombined(line string) (Entry, error) {
	open := strings.IndexByte(line, '[')
	if open < 0 {
		return Entry{}, fmt.Errorf("%w: no [time]", ErrMalformed)
	}
	end := strings.IndexByte(line[open:], ']')
	if end < 0 {
		return Entry{}, fmt.Errorf("%w: no [time]", ErrMalformed)
	}
	ts, err := time.Parse(combinedTime, line[open+1:open+end])
	if err != nil {
		return Entry{}, fmt.Errorf("%w: time: %w", ErrMalformed, err)
	}
	rest := strings.TrimLeft(line[open+end+1:], " ")
	request, rest, ok := quoted(rest)
	if !ok {
		return Entry{}, fmt.Errorf("%w: no quoted request", ErrMalformed)
	}
	e, err := requestLine(request)
	if err != nil {
		return Entry{}, err
	}
	status, _, _ := strings.Cut(strings.TrimLeft(rest, " "), " ")
	if e.Status, err = statusCode(status); err != nil {
		return Entry{}, err
	}
	e.Time = ts
	return e, nil
}

// quoted splits a leading double-quoted field (with \" escapes) from the rest.
func quoted(s string) (field, rest string, ok bool) {
	if !strings.HasPrefix(s, `"`) {
		return "", s, false
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return s[1:i], s[i+1:], true
		}
	}
	return "", s, false
}

// requestLine parses "GET /path?q HTTP/1.1"; the target may be an absolute URL.
func requestLine(s string) (Entry, error) {
	parts := strings.Fields(s)
	if len(parts) < 2 || len(parts) > 3 {
		return Entry{}, fmt.Errorf("%w: request %q", ErrMalformed, s)
	}
	method := parts[0]
	for _, r := range method {
		if r < 'A' || r > 'Z' {
			return Entry{}, fmt.Errorf("%w: method %q", ErrMalformed, method)
		}
	}
	uri, err := requestURI(parts[1])
	if err != nil {
		return Entry{}, err
	}
	return Entry{Method: method, URI: uri}, nil
}

// requestURI returns the path and query of an origin-form or absolute-form target.
func requestURI(target string) (string, error) {
	if i := strings.Index(target, "://"); i > 0 && !strings.HasPrefix(target, "/") {
		rest := target[i+3:]
		slash := strings.IndexByte(rest, '/')
		if slash < 0 {
			return "/", nil
		}
		target = rest[slash:]
	}
	if !strings.HasPrefix(target, "/") {
		return "", fmt.Errorf("%w: target %q", ErrMalformed, target)
	}
	for i := 0; i < len(target); i++ {
		if target[i] <= ' ' || target[i] == 0x7f {
			return "", fmt.Errorf("%w: control byte in target", ErrMalformed)
		}
	}
	return target, nil
}

func statusCode(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 100 || n > 599 {
		return 0, fmt.Errorf("%w: status %q", ErrMalformed, s)
	}
	return n, nil
}
