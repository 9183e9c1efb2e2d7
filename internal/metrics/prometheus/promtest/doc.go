// Package promtest runs a real Prometheus (Debian's prometheus package) for tests: on a
// free loopback port, with a temporary config that scrapes the given targets every
// second. For tests only; it must not import internal/migrate.
package promtest
