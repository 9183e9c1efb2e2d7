// Package kube talks to a Kubernetes cluster for ferry: clients from kubectl-style
// options, server-side apply, waiting until applied objects are healthy (judged by
// package health), the deploy lock on a Lease, and one-line messages for API errors.
// It must not import ferry's capability packages.
package kube
