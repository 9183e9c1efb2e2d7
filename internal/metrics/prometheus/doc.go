// Package prometheus is a migration metric source over Prometheus: PromQL queries with
// the side as a template variable give each side's requests, errors and latency
// histogram. It must not import internal/migrate (it satisfies MetricSource by shape).
package prometheus
