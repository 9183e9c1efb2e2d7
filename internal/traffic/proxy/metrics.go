package proxy

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"ferry.dev/ferry/internal/traffic"
)

// metrics are the proxy's Prometheus series, resolved once so that the request path
// only touches atomics.
type metrics struct {
	registry *prometheus.Registry
	// requests and duration carry a route label; each route resolves its series once
	// (resolveRoute), so they are as bounded as the route table.
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	forced   [2][6]prometheus.Counter
	retries  [2]prometheus.Counter
	failover [2]prometheus.Counter
	// clientFailures by side and clientFailure (index 0 unused).
	clientFailures [2][len(allClientFailures) + 1]prometheus.Counter
	ejected        *prometheus.CounterVec
	weight         *prometheus.GaugeVec
	tunnels        prometheus.Gauge
}

func newMetrics(openConns func() float64) *metrics {
	reg := prometheus.NewRegistry()
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ferry_proxy_requests_total",
		Help: "Requests by side, status class and route (\"GET /users/{id}\"; \"other\" past the proxy's cap of routes); code_class=error counts requests no backend answered. Forced requests and client failures are counted apart.",
	}, []string{"side", "code_class", "route"})
	forced := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ferry_proxy_forced_requests_total",
		Help: "Requests sent to a side by the force header or cookie, by side and status class; not in ferry_proxy_requests_total.",
	}, []string{"side", "code_class"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ferry_proxy_request_duration_seconds",
		Help:    "Time from a request's arrival to its backend's response headers, by side and route (as ferry_proxy_requests_total).",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"side", "route"})
	retries := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ferry_proxy_retries_total", Help: "Idempotent requests tried again on another server, by side.",
	}, []string{"side"})
	failover := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ferry_proxy_failovers_total", Help: "Requests chosen for a side without an available server and sent to the other side, by the side chosen.",
	}, []string{"side"})
	clientFailures := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ferry_proxy_client_failures_total",
		Help: "Requests the client broke (reason: aborted, timeout, malformed, too_large), by the side chosen; not in ferry_proxy_requests_total.",
	}, []string{"side", "reason"})
	m := &metrics{
		registry: reg,
		requests: requests,
		duration: duration,
		ejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_proxy_ejections_total", Help: "Servers taken out of rotation by passive health checks.",
		}, []string{"side", "server"}),
		weight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ferry_proxy_weight_basis_points", Help: "Current share of new requests per side, in basis points (10000 = 100 %).",
		}, []string{"side"}),
		tunnels: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ferry_proxy_open_tunnels", Help: "Upgraded connections (WebSocket) being relayed.",
		}),
	}
	for _, s := range []traffic.Side{traffic.Legacy, traffic.Kubernetes} {
		// code_class values, indexed by status/100 (0 = no response).
		for c, label := range codeClasses {
			m.forced[s][c] = forced.WithLabelValues(s.String(), label)
		}
		m.retries[s] = retries.WithLabelValues(s.String())
		m.failover[s] = failover.WithLabelValues(s.String())
		for _, f := range allClientFailures {
			m.clientFailures[s][f] = clientFailures.WithLabelValues(s.String(), f.String())
		}
	}
	reg.MustRegister(requests, forced, duration, retries, failover, clientFailures, m.ejected, m.weight, m.tunnels,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ferry_proxy_open_connections", Help: "Client connections open now.",
		}, openConns),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// codeClasses are the code_class values, indexed by statusClass.
var codeClasses = [6]string{"error", "1xx", "2xx", "3xx", "4xx", "5xx"}

// resolveRoute gives a route its series.
func (m *metrics) resolveRoute(r *route) {
	for _, s := range []traffic.Side{traffic.Legacy, traffic.Kubernetes} {
		for c, label := range codeClasses {
			r.requests[s][c] = m.requests.WithLabelValues(s.String(), label, r.name)
		}
		r.duration[s] = m.duration.WithLabelValues(s.String(), r.name)
	}
}

// statusClass maps a status to an index of classLabels; 0 for "no response".
func statusClass(status int, failed bool) int {
	if failed || status < 100 || status > 599 {
		return 0
	}
	return status / 100
}
