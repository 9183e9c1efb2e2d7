// Package kube builds Kubernetes clients from kubectl-style options and turns client
// errors into one-line messages a user can act on. It must not import ferry's
// capability packages.
package kube
