// Package proxystats is a migration metric source over ferry's embedded proxy: the
// proxy's own per-side request counts, 5xx and latency histograms. It must not import
// internal/migrate (it satisfies migrate.MetricSource by shape).
package proxystats
