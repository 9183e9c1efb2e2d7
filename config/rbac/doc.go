// Package rbac holds the ClusterRole of ferry's controller, generated from the
// kubebuilder RBAC markers of internal/controller by `make generate`: exactly what
// the controller does in the cluster. It imports no ferry package.
package rbac
