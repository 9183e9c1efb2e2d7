// Package baseline reads an APM latency export (CSV or JSON: endpoint, mean, p95,
// p99, max) that load tests and migration gates compare a side with.
// It must not import other ferry packages.
package baseline
