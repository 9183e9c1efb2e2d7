// Package datadog is a migration metric source over Datadog's metrics query API
// (GET /api/v1/query): count queries per side and latency percentiles, with the side as
// a template variable. It must not import internal/migrate.
package datadog
