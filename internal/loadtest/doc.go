// Package loadtest drives the legacy side and the Kubernetes side of an app at the same
// open-model rate with the same request mix, and reports their latencies side by side,
// against an APM baseline, with a verdict. It must not import internal/cli or Kubernetes.
package loadtest
