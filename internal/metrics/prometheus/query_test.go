package prometheus

import (
	"strings"
	"testing"
	"text/template"
	"time"
)

func TestRender(t *testing.T) {
	tmpl := template.Must(template.New("q").Option("missingkey=error").Parse(`sum(increase(http_requests_total{service="{{.Side}}"}[{{.Window}}]))`))
	for _, tc := range []struct {
		side   string
		window time.Duration
		want   string
	}{
		{"shop-legacy", 95 * time.Second, `sum(increase(http_requests_total{service="shop-legacy"}[95s]))`},
		{"shop", 1500 * time.Millisecond, `sum(increase(http_requests_total{service="shop"}[2s]))`},
		{"shop", 0, `sum(increase(http_requests_total{service="shop"}[1s]))`},
		{"shop", 30 * time.Minute, `sum(increase(http_requests_total{service="shop"}[1800s]))`},
	} {
		got, err := render(tmpl, tc.side, tc.window)
		if err != nil || got != tc.want {
			t.Errorf("render(%s, %s) = %q, %v; want %q", tc.side, tc.window, got, err, tc.want)
		}
	}
}

func TestParseQueries(t *testing.T) {
	for _, tc := range []struct {
		name    string
		q       Queries
		wantErr string
	}{
		{"defaults", Queries{}, ""},
		{"custom requests", Queries{Requests: `sum(rate(nginx_ingress_controller_requests{service="{{.Side}}"}[{{.Window}}]))`}, ""},
		{"a query without the side", Queries{Errors: `sum(increase(http_errors_total[{{.Window}}]))`}, "queries.errors does not use {{.Side}}"},
		{"an unknown variable", Queries{Latency: `{{.Service}}`}, `queries.latency: template: latency:1:2: executing "latency" at <.Service>`},
		{"a broken template", Queries{Requests: `{{.Side`}, "queries.requests: template: requests:1: unclosed action"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseQueries(tc.q)
			if (err != nil) != (tc.wantErr != "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}
