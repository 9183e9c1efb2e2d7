// Package proxy is ferry's embedded traffic router: an HTTP reverse proxy that sends
// each request to the legacy pool or the Kubernetes entry point by weight, with sticky
// sessions, health checks, per-side statistics and an admin API. It must not import
// internal/cli or any capability package other than internal/traffic.
package proxy
