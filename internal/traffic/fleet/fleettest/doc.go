// Package fleettest runs a fleet of embedded proxy replicas for tests: each with its
// admin API on this machine's non-loopback address (the API server refuses loopback
// addresses in EndpointSlices) behind a front that records every weight set, and the
// EndpointSlices that point a Service at them. It must not import internal/migrate.
package fleettest
