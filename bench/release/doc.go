// Command release measures ferry deploy and ferry rollback of a 400-replica
// Deployment until reported healthy, against kubectl apply + kubectl rollout status
// and kubectl rollout undo + kubectl rollout status of the same manifests, on the same
// local control plane, in alternating order, and prints the medians and their ratios.
//
// Run it with `make bench-release`.
package main
