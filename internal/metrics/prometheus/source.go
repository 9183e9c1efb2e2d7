package prometheus

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"text/template"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"ferry.dev/ferry/internal/analysis"
	"ferry.dev/ferry/internal/redact"
)

// ErrNoSeries means neither side's requests query returned any series: a metric name
// or a side label that matches nothing.
var ErrNoSeries = errors.New("no series for either side")

// Config says where Prometheus is and what to ask it.
type Config struct {
	// Address is Prometheus' base URL, e.g. http://prometheus.monitoring:9090.
	Address string
	// BearerToken, when set, is sent with every query.
	BearerToken string
	// Legacy and Kubernetes are the values of {{.Side}} for each side (default
	// "legacy" and "kubernetes", the proxy's side label).
	Legacy, Kubernetes string
	// Queries default to the proxy's metrics (DefaultRequests, …).
	Queries Queries
	// ByEndpoint adds each endpoint (the route queries) to the samples, for the
	// per-endpoint gates.
	ByEndpoint bool
}

// Source reads both sides from Prometheus.
type Source struct {
	cfg     Config
	api     v1.API
	queries *templates
}

// New checks the configuration and parses the queries; it does not call Prometheus.
func New(cfg Config) (*Source, error) {
	if cfg.Address == "" {
		return nil, errors.New("prometheus: the address is required")
	}
	if cfg.Legacy == "" {
		cfg.Legacy = "legacy"
	}
	if cfg.Kubernetes == "" {
		cfg.Kubernetes = "kubernetes"
	}
	if cfg.Legacy == cfg.Kubernetes {
		return nil, errors.New("prometheus: the two sides need different label values")
	}
	q, err := parseQueries(cfg.Queries)
	if err != nil {
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	var rt http.RoundTripper = api.DefaultRoundTripper
	if cfg.BearerToken != "" {
		rt = bearer{token: cfg.BearerToken, next: rt}
	}
	client, err := api.NewClient(api.Config{Address: cfg.Address, RoundTripper: rt})
	if err != nil {
		return nil, fmt.Errorf("prometheus: address %s: %w", redact.URL(cfg.Address), redact.Error(err))
	}
	return &Source{cfg: cfg, api: v1.NewAPI(client), queries: q}, nil
}

// Sample returns both sides over the window from since until now.
func (s *Source) Sample(ctx context.Context, since time.Time) (analysis.Sample, error) {
	now := time.Now()
	window := max(now.Sub(since), time.Second)
	var out analysis.Sample
	series := 0
	for _, side := range []struct {
		label string
		dst   *analysis.Side
	}{{s.cfg.Legacy, &out.Legacy}, {s.cfg.Kubernetes, &out.New}} {
		requests, n, err := s.count(ctx, s.queries.requests, side.label, window, now)
		if err != nil {
			return analysis.Sample{}, err
		}
		series += n
		errs, _, err := s.count(ctx, s.queries.errors, side.label, window, now)
		if err != nil {
			return analysis.Sample{}, err
		}
		latency, err := s.latency(ctx, side.label, window, now)
		if err != nil {
			return analysis.Sample{}, err
		}
		*side.dst = analysis.Side{Requests: requests, Errors: min(errs, requests), Latency: latency}
	}
	if series == 0 {
		return analysis.Sample{}, fmt.Errorf("prometheus %s: %w: the requests query matches nothing for %s or %s; check the metric name and the side labels",
			redact.URL(s.cfg.Address), ErrNoSeries, s.cfg.Legacy, s.cfg.Kubernetes)
	}
	if s.cfg.ByEndpoint {
		eps, err := s.endpoints(ctx, window, now)
		if err != nil {
			return analysis.Sample{}, err
		}
		out.Endpoints = eps
	}
	return out, nil
}

// endpoints runs the route queries for both sides and pairs their series by route.
func (s *Source) endpoints(ctx context.Context, window time.Duration, now time.Time) ([]analysis.Endpoint, error) {
	var out []analysis.Endpoint
	at := map[string]int{}
	get := func(route string) *analysis.Endpoint {
		i, ok := at[route]
		if !ok {
			i = len(out)
			at[route] = i
			out = append(out, analysis.Endpoint{Name: route})
		}
		return &out[i]
	}
	for i, label := range []string{s.cfg.Legacy, s.cfg.Kubernetes} {
		side := func(e *analysis.Endpoint) *analysis.Side {
			if i == 0 {
				return &e.Legacy
			}
			return &e.New
		}
		requests, err := s.byRoute(ctx, s.queries.routeRequests, label, window, now)
		if err != nil {
			return nil, err
		}
		errs, err := s.byRoute(ctx, s.queries.routeErrors, label, window, now)
		if err != nil {
			return nil, err
		}
		for route, n := range requests {
			sd := side(get(route))
			sd.Requests, sd.Errors = int64(math.Round(n)), min(int64(math.Round(errs[route])), int64(math.Round(n)))
		}
		latency, err := s.routeLatency(ctx, label, window, now)
		if err != nil {
			return nil, err
		}
		for route, d := range latency {
			side(get(route)).Latency = d
		}
	}
	// Series that exist but counted nothing in the window (a route the proxy saw
	// earlier, its "other") are no endpoint of this window.
	return slices.DeleteFunc(out, func(e analysis.Endpoint) bool { return e.Legacy.Requests == 0 && e.New.Requests == 0 }), nil
}

// byRoute runs a route query and returns its values by route.
func (s *Source) byRoute(ctx context.Context, t *template.Template, side string, window time.Duration, now time.Time) (map[string]float64, error) {
	v, err := s.query(ctx, t, side, window, now)
	if err != nil {
		return nil, err
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("prometheus: queries.%s for %s returned a %s, not a vector by %s", t.Name(), side, v.Type(), RouteLabel)
	}
	out := map[string]float64{}
	for _, sample := range vec {
		out[string(sample.Metric[RouteLabel])] += finite(float64(sample.Value))
	}
	return out, nil
}

// routeLatency runs the route latency query and returns a distribution by route.
func (s *Source) routeLatency(ctx context.Context, side string, window time.Duration, now time.Time) (map[string]analysis.Distribution, error) {
	v, err := s.query(ctx, s.queries.routeLatency, side, window, now)
	if err != nil {
		return nil, err
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("prometheus: queries.routeLatency for %s returned a %s, not a vector of buckets", side, v.Type())
	}
	buckets := map[string][]bucket{}
	for _, sample := range vec {
		le, err := strconv.ParseFloat(string(sample.Metric["le"]), 64)
		if err != nil {
			return nil, fmt.Errorf("prometheus: queries.routeLatency for %s must return histogram buckets with le and %s labels (sum by (%s, le)): got %s", side, RouteLabel, RouteLabel, sample.Metric)
		}
		route := string(sample.Metric[RouteLabel])
		buckets[route] = append(buckets[route], bucket{le: le, count: finite(float64(sample.Value))})
	}
	out := make(map[string]analysis.Distribution, len(buckets))
	for route, b := range buckets {
		out[route] = distribution(b)
	}
	return out, nil
}

// count runs a counting query and returns its total, rounded, and how many series
// it returned.
func (s *Source) count(ctx context.Context, t *template.Template, side string, window time.Duration, now time.Time) (int64, int, error) {
	v, err := s.query(ctx, t, side, window, now)
	if err != nil {
		return 0, 0, err
	}
	switch v := v.(type) {
	case model.Vector:
		var sum float64
		for _, sample := range v {
			sum += finite(float64(sample.Value))
		}
		return int64(math.Round(sum)), len(v), nil
	case *model.Scalar:
		return int64(math.Round(finite(float64(v.Value)))), 1, nil
	}
	return 0, 0, fmt.Errorf("prometheus: queries.%s for %s returned a %s, not a vector", t.Name(), side, v.Type())
}

// latency runs the latency query and turns its buckets into a distribution.
func (s *Source) latency(ctx context.Context, side string, window time.Duration, now time.Time) (analysis.Distribution, error) {
	v, err := s.query(ctx, s.queries.latency, side, window, now)
	if err != nil {
		return nil, err
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("prometheus: queries.latency for %s returned a %s, not a vector of buckets", side, v.Type())
	}
	buckets := make([]bucket, 0, len(vec))
	for _, sample := range vec {
		le, err := strconv.ParseFloat(string(sample.Metric["le"]), 64)
		if err != nil {
			return nil, fmt.Errorf("prometheus: queries.latency for %s must return histogram buckets with an le label (sum by (le)): got %s", side, sample.Metric)
		}
		buckets = append(buckets, bucket{le: le, count: finite(float64(sample.Value))})
	}
	return distribution(buckets), nil
}

func (s *Source) query(ctx context.Context, t *template.Template, side string, window time.Duration, now time.Time) (model.Value, error) {
	q, err := render(t, side, window)
	if err != nil {
		return nil, fmt.Errorf("prometheus: queries.%s: %w", t.Name(), err)
	}
	v, _, _, err := s.api.Query(ctx, q, now)
	if err != nil {
		return nil, fmt.Errorf("prometheus %s: queries.%s for %s: %w", redact.URL(s.cfg.Address), t.Name(), side, redact.Error(err))
	}
	return v, nil
}

// finite maps NaN and infinities (a rate over no samples) to 0.
func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// bearer adds a bearer token to every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}
