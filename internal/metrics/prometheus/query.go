package prometheus

import (
	"bytes"
	"fmt"
	"strconv"
	"text/template"
	"time"
)

// Queries are PromQL templates. {{.Side}} is the side's label value (Config.Legacy or
// Config.Kubernetes) and {{.Window}} the step's window as a PromQL duration ("95s").
type Queries struct {
	// Requests and Errors return a count over the window: a vector whose samples are
	// added up (sum it), or a scalar.
	Requests string `yaml:"requests,omitempty"`
	Errors   string `yaml:"errors,omitempty"`
	// Latency returns a histogram's cumulative bucket counts over the window, one
	// sample per bucket with its "le" label, in seconds.
	Latency string `yaml:"latency,omitempty"`
	// RouteRequests, RouteErrors and RouteLatency are the same by endpoint, one series
	// per value of a "route" label ("GET /users/{id}", as the proxy names them); they
	// are asked only when the per-endpoint gates are on.
	RouteRequests string `yaml:"routeRequests,omitempty"`
	RouteErrors   string `yaml:"routeErrors,omitempty"`
	RouteLatency  string `yaml:"routeLatency,omitempty"`
}

// The default queries read ferry's embedded proxy: ferry_proxy_requests_total by side
// and status class ("error" when no backend answered), and the
// ferry_proxy_request_duration_seconds histogram.
const (
	DefaultRequests = `sum(increase(ferry_proxy_requests_total{side="{{.Side}}"}[{{.Window}}]))`
	DefaultErrors   = `sum(increase(ferry_proxy_requests_total{side="{{.Side}}",code_class=~"5xx|error"}[{{.Window}}]))`
	DefaultLatency  = `sum by (le) (increase(ferry_proxy_request_duration_seconds_bucket{side="{{.Side}}"}[{{.Window}}]))`

	DefaultRouteRequests = `sum by (route) (increase(ferry_proxy_requests_total{side="{{.Side}}"}[{{.Window}}]))`
	DefaultRouteErrors   = `sum by (route) (increase(ferry_proxy_requests_total{side="{{.Side}}",code_class=~"5xx|error"}[{{.Window}}]))`
	DefaultRouteLatency  = `sum by (route, le) (increase(ferry_proxy_request_duration_seconds_bucket{side="{{.Side}}"}[{{.Window}}]))`
)

// RouteLabel is the label the route queries' series are told apart by.
const RouteLabel = "route"

// vars are what a query template sees.
type vars struct {
	Side   string
	Window string
}

// templates are the parsed queries; a query left empty takes its default.
type templates struct {
	requests, errors, latency                *template.Template
	routeRequests, routeErrors, routeLatency *template.Template
}

// parseQueries parses each query and checks it depends on the side: a query that
// gives both sides the same numbers would make every comparison meaningless.
func parseQueries(q Queries) (*templates, error) {
	out := &templates{}
	for _, t := range []struct {
		name, text, def string
		dst             **template.Template
	}{
		{"requests", q.Requests, DefaultRequests, &out.requests},
		{"errors", q.Errors, DefaultErrors, &out.errors},
		{"latency", q.Latency, DefaultLatency, &out.latency},
		{"routeRequests", q.RouteRequests, DefaultRouteRequests, &out.routeRequests},
		{"routeErrors", q.RouteErrors, DefaultRouteErrors, &out.routeErrors},
		{"routeLatency", q.RouteLatency, DefaultRouteLatency, &out.routeLatency},
	} {
		text := t.text
		if text == "" {
			text = t.def
		}
		tmpl, err := template.New(t.name).Option("missingkey=error").Parse(text)
		if err != nil {
			return nil, fmt.Errorf("queries.%s: %w", t.name, err)
		}
		a, errA := render(tmpl, "a", time.Minute)
		b, errB := render(tmpl, "b", time.Minute)
		if errA != nil || errB != nil {
			return nil, fmt.Errorf("queries.%s: %w", t.name, errA)
		}
		if a == b {
			return nil, fmt.Errorf("queries.%s does not use {{.Side}}: both sides would get the same numbers", t.name)
		}
		*t.dst = tmpl
	}
	return out, nil
}

// render fills in a query for one side and window; the window is rounded up to whole
// seconds.
func render(t *template.Template, side string, window time.Duration) (string, error) {
	secs := int64((window + time.Second - 1) / time.Second)
	var b bytes.Buffer
	if err := t.Execute(&b, vars{Side: side, Window: strconv.FormatInt(max(secs, 1), 10) + "s"}); err != nil {
		return "", err
	}
	return b.String(), nil
}
