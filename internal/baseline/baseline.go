package baseline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Sentinel errors; match them with errors.Is.
var (
	ErrFormat   = errors.New("unknown baseline format")
	ErrColumn   = errors.New("missing baseline column")
	ErrValue    = errors.New("bad baseline value")
	ErrNoRecord = errors.New("baseline has no endpoints")
)

// Endpoint is one endpoint's latency as the APM measured it on the legacy side. A
// zero duration means the export did not have that figure.
type Endpoint struct {
	// Method is the HTTP method, empty when the export names only a path.
	Method string `json:"method,omitempty"`
	// Path is the endpoint's path as exported ("/users/:id", "/users/{id}").
	Path string `json:"path"`
	// Count is the number of requests behind the figures, when exported.
	Count int64 `json:"count,omitempty"`
	// Mean, P95, P99 and Max are the exported latencies.
	Mean time.Duration `json:"mean"`
	P95  time.Duration `json:"p95"`
	P99  time.Duration `json:"p99"`
	Max  time.Duration `json:"max"`
}

// Name returns "METHOD /path", or the path alone when no method was exported.
func (e Endpoint) Name() string {
	if e.Method == "" {
		return e.Path
	}
	return e.Method + " " + e.Path
}

// Baseline is an APM export.
type Baseline struct {
	// Source is the file the baseline came from.
	Source string `json:"source"`
	// Endpoints are the exported endpoints, in file order.
	Endpoints []Endpoint `json:"endpoints"`
}

// Load reads a baseline file; the format comes from its extension (.csv or .json),
// else from its first byte.
func Load(path string) (*Baseline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read baseline: %w", err)
	}
	var b *Baseline
	switch ext := strings.ToLower(filepath.Ext(path)); {
	case ext == ".json" || ext != ".csv" && strings.HasPrefix(strings.TrimSpace(string(data)), "{"),
		ext != ".csv" && strings.HasPrefix(strings.TrimSpace(string(data)), "["):
		b, err = ParseJSON(data)
	default:
		b, err = ParseCSV(data)
	}
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", path, err)
	}
	b.Source = path
	return b, nil
}

// Find returns the endpoint whose normalized path equals template, preferring one of
// the same method over one exported without a method. normalize maps an exported path
// to a template (for example collapsing ":id" and "42" to "{id}").
func (b *Baseline) Find(method, template string, normalize func(string) string) (Endpoint, bool) {
	var loose *Endpoint
	for i, e := range b.Endpoints {
		if normalize(e.Path) != template {
			continue
		}
		if strings.EqualFold(e.Method, method) {
			return e, true
		}
		if e.Method == "" && loose == nil {
			loose = &b.Endpoints[i]
		}
	}
	if loose != nil {
		return *loose, true
	}
	return Endpoint{}, false
}

// Overall returns the baseline for all traffic: the row whose path is "*", "(all)",
// "all", "overall" or "total", else an aggregate of the endpoints — the count-weighted
// mean, and the largest p95, p99 and max, so that no endpoint's own figure is judged
// too slow. It reports false when there are no endpoints.
func (b *Baseline) Overall() (Endpoint, bool) {
	if len(b.Endpoints) == 0 {
		return Endpoint{}, false
	}
	for _, e := range b.Endpoints {
		switch strings.ToLower(strings.TrimSpace(e.Path)) {
		case "*", "(all)", "all", "overall", "total":
			return e, true
		}
	}
	out := Endpoint{Path: "(all)"}
	var weighted, weights float64
	for _, e := range b.Endpoints {
		w := float64(max(e.Count, 1))
		weighted += w * float64(e.Mean)
		weights += w
		out.Count += e.Count
		out.P95, out.P99, out.Max = max(out.P95, e.P95), max(out.P99, e.P99), max(out.Max, e.Max)
	}
	out.Mean = time.Duration(weighted / weights)
	return out, true
}
