// Package app reads and validates ferry.yaml, the app definition: name, namespace,
// manifest source, image targets, health timeout, history limit and pre-deploy Job.
// It is pure: it must not import Kubernetes clients or ferry packages other than
// internal/strictyaml.
package app
