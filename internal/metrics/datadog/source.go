package datadog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"
	"sync"
	"text/template"
	"time"

	"ferry.dev/ferry/internal/analysis"
	"ferry.dev/ferry/internal/redact"
)

// DefaultSite is Datadog's US1 API; other sites have their own (api.datadoghq.eu, …).
const DefaultSite = "https://api.datadoghq.com"

// DefaultMinInterval spaces a step's queries: Datadog rate-limits the query endpoint
// per organisation (X-RateLimit-Limit), and its metrics come in 10–20 second intervals
// anyway. Two to five queries per side once a minute stay well under common limits.
const DefaultMinInterval = time.Minute

// ErrNoSeries means neither side's requests query returned any series.
var ErrNoSeries = errors.New("no series for either side")

// Queries are Datadog metric queries with {{.Side}} for the side's tag value.
type Queries struct {
	// Requests and Errors count requests: every point of every series is added up,
	// so use .as_count(), e.g. sum:trace.rack.request.hits{service:shop,side:{{.Side}}}.as_count().
	Requests string `yaml:"requests"`
	Errors   string `yaml:"errors"`
	// Latency maps percentile names (p50, p90, p99, max) to queries of that
	// percentile, e.g. p99:trace.rack.request{service:shop,side:{{.Side}}}. A
	// percentile's points are averaged over the window; max takes the largest.
	Latency map[string]string `yaml:"latency"`
}

// Config says where Datadog is and what to ask it.
type Config struct {
	// Site is the API's base URL (default DefaultSite).
	Site string
	// APIKey and AppKey authenticate (DD-API-KEY, DD-APPLICATION-KEY).
	APIKey, AppKey string
	// Legacy and Kubernetes are the values of {{.Side}} (default legacy, kubernetes).
	Legacy, Kubernetes string
	Queries            Queries
	// LatencyUnit is the unit of the latency queries' values (default a second, as
	// Datadog's trace metrics).
	LatencyUnit time.Duration
	// HTTPClient defaults to one with a 30-second timeout.
	HTTPClient *http.Client
	// MinInterval is the least time between two queries of the same window (default
	// DefaultMinInterval); Sample returns the last answer in between.
	MinInterval time.Duration
}

// Source reads both sides from Datadog.
type Source struct {
	cfg              Config
	client           *http.Client
	requests, errors *template.Template
	latency          []latencyQuery

	mu   sync.Mutex
	last struct {
		since, at time.Time
		sample    analysis.Sample
	}
}

type latencyQuery struct {
	name string
	q    float64
	t    *template.Template
}

// New checks the configuration and parses the queries; it does not call Datadog.
func New(cfg Config) (*Source, error) {
	if cfg.Site == "" {
		cfg.Site = DefaultSite
	}
	cfg.Site = strings.TrimRight(cfg.Site, "/")
	if cfg.APIKey == "" || cfg.AppKey == "" {
		return nil, errors.New("datadog: an API key and an application key are required")
	}
	if cfg.Legacy == "" {
		cfg.Legacy = "legacy"
	}
	if cfg.Kubernetes == "" {
		cfg.Kubernetes = "kubernetes"
	}
	if cfg.LatencyUnit <= 0 {
		cfg.LatencyUnit = time.Second
	}
	if cfg.MinInterval <= 0 {
		cfg.MinInterval = DefaultMinInterval
	}
	s := &Source{cfg: cfg, client: cfg.HTTPClient}
	if s.client == nil {
		s.client = &http.Client{Timeout: 30 * time.Second}
	}
	var err error
	if s.requests, err = parse("requests", cfg.Queries.Requests); err != nil {
		return nil, err
	}
	if s.errors, err = parse("errors", cfg.Queries.Errors); err != nil {
		return nil, err
	}
	for name, text := range cfg.Queries.Latency {
		q, err := parseQuantile(name)
		if err != nil {
			return nil, fmt.Errorf("datadog: queries.latency.%s: %w", name, err)
		}
		t, err := parse("latency."+name, text)
		if err != nil {
			return nil, err
		}
		s.latency = append(s.latency, latencyQuery{name: name, q: q, t: t})
	}
	sort.Slice(s.latency, func(i, j int) bool { return s.latency[i].q < s.latency[j].q })
	return s, nil
}

// parse parses a query template and checks it depends on the side.
func parse(name, text string) (*template.Template, error) {
	if text == "" {
		return nil, fmt.Errorf("datadog: queries.%s is required", name)
	}
	t, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("datadog: queries.%s: %w", name, err)
	}
	a, errA := render(t, "a")
	b, _ := render(t, "b")
	if errA != nil {
		return nil, fmt.Errorf("datadog: queries.%s: %w", name, errA)
	}
	if a == b {
		return nil, fmt.Errorf("datadog: queries.%s does not use {{.Side}}: both sides would get the same numbers", name)
	}
	return t, nil
}

func render(t *template.Template, side string) (string, error) {
	var b bytes.Buffer
	err := t.Execute(&b, struct{ Side string }{side})
	return b.String(), err
}

// Sample returns both sides over the window from since until now; within MinInterval
// of the last query of the same window, the last answer.
func (s *Source) Sample(ctx context.Context, since time.Time) (analysis.Sample, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last.since.Equal(since) && time.Since(s.last.at) < s.cfg.MinInterval {
		return s.last.sample, nil
	}
	at := time.Now()
	sample, err := s.fetch(ctx, since, at)
	if err != nil {
		return analysis.Sample{}, err
	}
	s.last.since, s.last.at, s.last.sample = since, at, sample
	return sample, nil
}

// fetch queries both sides over [since, to].
func (s *Source) fetch(ctx context.Context, since, to time.Time) (analysis.Sample, error) {
	var out analysis.Sample
	found := 0
	for _, side := range []struct {
		tag string
		dst *analysis.Side
	}{{s.cfg.Legacy, &out.Legacy}, {s.cfg.Kubernetes, &out.New}} {
		requests, n, err := s.count(ctx, s.requests, side.tag, since, to)
		if err != nil {
			return analysis.Sample{}, err
		}
		found += n
		errs, _, err := s.count(ctx, s.errors, side.tag, since, to)
		if err != nil {
			return analysis.Sample{}, err
		}
		var qs []quantile
		for _, l := range s.latency {
			v, ok, err := s.percentile(ctx, l, side.tag, since, to)
			if err != nil {
				return analysis.Sample{}, err
			}
			if ok {
				qs = append(qs, quantile{q: l.q, value: v})
			}
		}
		*side.dst = analysis.Side{Requests: requests, Errors: min(errs, requests), Latency: fromQuantiles(requests, qs)}
	}
	if found == 0 {
		return analysis.Sample{}, fmt.Errorf("datadog %s: %w: the requests query matches nothing for %s or %s; check the metric and the side tags",
			redact.URL(s.cfg.Site), ErrNoSeries, s.cfg.Legacy, s.cfg.Kubernetes)
	}
	return out, nil
}

// run renders and runs one query.
func (s *Source) run(ctx context.Context, t *template.Template, side string, from, to time.Time) ([]series, error) {
	q, err := render(t, side)
	if err != nil {
		return nil, fmt.Errorf("datadog: queries.%s: %w", t.Name(), err)
	}
	out, err := s.query(ctx, q, from, to)
	if err != nil {
		return nil, fmt.Errorf("datadog %s: queries.%s for %s: %w", redact.URL(s.cfg.Site), t.Name(), side, err)
	}
	return out, nil
}

// count adds up every point of every series, and says how many series there were.
func (s *Source) count(ctx context.Context, t *template.Template, side string, from, to time.Time) (int64, int, error) {
	out, err := s.run(ctx, t, side, from, to)
	if err != nil {
		return 0, 0, err
	}
	var sum float64
	for _, ser := range out {
		for _, p := range ser.Pointlist {
			if p[1] != nil && !math.IsNaN(*p[1]) {
				sum += *p[1]
			}
		}
	}
	return int64(math.Round(sum)), len(out), nil
}

// percentile returns a percentile over the window in microseconds: the mean of its
// points, or for max the largest; ok is false when there are none.
func (s *Source) percentile(ctx context.Context, l latencyQuery, side string, from, to time.Time) (int64, bool, error) {
	out, err := s.run(ctx, l.t, side, from, to)
	if err != nil {
		return 0, false, err
	}
	var sum, top float64
	n := 0
	for _, ser := range out {
		for _, p := range ser.Pointlist {
			if p[1] == nil || math.IsNaN(*p[1]) {
				continue
			}
			sum, top, n = sum+*p[1], math.Max(top, *p[1]), n+1
		}
	}
	if n == 0 {
		return 0, false, nil
	}
	v := sum / float64(n)
	if l.name == "max" {
		v = top
	}
	return int64(math.Round(v * float64(s.cfg.LatencyUnit) / float64(time.Microsecond))), true, nil
}
