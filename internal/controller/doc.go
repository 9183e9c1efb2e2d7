// Package controller runs Migrations in the cluster: a controller-runtime manager
// whose reconciler takes one step of the migrate engine per reconcile, with the state
// in the Migration's status (kubestore). It imports the engine and the providers,
// never internal/cli.
package controller
