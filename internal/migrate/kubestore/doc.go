// Package kubestore keeps a migration's state in its Migration resource's status and
// its queue of manual requests in the resource's annotations: the migrate.Store of
// the controller. It imports migrate and the API types, never internal/cli.
package kubestore
