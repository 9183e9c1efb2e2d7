package loadtest

import (
	"fmt"
	"net/http"
	"os"
	"sort"
	"time"

	"ferry.dev/ferry/internal/loadtest/accesslog"
	"ferry.dev/ferry/internal/routes"
)

// request is one request of the mix.
type request struct {
	method, uri string
	// endpoint is "METHOD /template" and names the request in the report.
	endpoint string
}

// requestMix is the requests to send, in order, with the log's timing when replaying.
type requestMix struct {
	requests []request
	// offsets are each request's time after the first in the log (replay only).
	offsets []time.Duration
	summary Mix
}

func newRequest(method, uri string) request {
	return request{method: method, uri: uri, endpoint: routes.Endpoint(method, uri)}
}

// isReadOnly reports whether a method is safe to send to a production-like side.
func isReadOnly(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return false
}

func pathMix(method string, paths []string) requestMix {
	m := requestMix{summary: Mix{Source: "paths"}}
	for _, p := range paths {
		m.requests = append(m.requests, newRequest(method, p))
	}
	m.summary.Requests, m.summary.Endpoints = len(m.requests), countEndpoints(m.requests)
	return m
}

// logMix reads an access log into a mix, in the order the requests were logged.
func logMix(path string, format accesslog.Format, allowWrites bool) (requestMix, error) {
	f, err := os.Open(path)
	if err != nil {
		return requestMix{}, fmt.Errorf("read access log: %w", err)
	}
	defer f.Close()
	log, err := accesslog.Read(f, format)
	if err != nil {
		return requestMix{}, fmt.Errorf("access log %s: %w", path, err)
	}
	return mixFromEntries(log, path, allowWrites)
}

// mixFromEntries keeps the log's requests (read-only ones unless allowWrites) in time
// order; the sort is stable because servers log at the end of a request and lines can
// be out of order by a few seconds.
func mixFromEntries(log *accesslog.Log, source string, allowWrites bool) (requestMix, error) {
	entries := append([]accesslog.Entry(nil), log.Entries...)
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].Time.Before(entries[j].Time) })
	m := requestMix{summary: Mix{Source: source, Format: string(log.Format), SkippedLines: log.Skipped}}
	for _, e := range entries {
		if !allowWrites && !isReadOnly(e.Method) {
			m.summary.SkippedWrites++
			continue
		}
		m.requests = append(m.requests, newRequest(e.Method, e.URI))
		m.offsets = append(m.offsets, e.Time.Sub(entries[0].Time))
	}
	if len(m.requests) == 0 {
		return requestMix{}, fmt.Errorf("%w: all %d requests of %s are writes; add --allow-writes to send them",
			ErrNoRequests, m.summary.SkippedWrites, source)
	}
	base := m.offsets[0]
	for i := range m.offsets {
		m.offsets[i] -= base
	}
	m.summary.Requests, m.summary.Endpoints = len(m.requests), countEndpoints(m.requests)
	return m, nil
}

func countEndpoints(rs []request) int {
	seen := map[string]bool{}
	for _, r := range rs {
		seen[r.endpoint] = true
	}
	return len(seen)
}
