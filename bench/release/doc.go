// Command release measures ferry deploy and ferry rollback of a 400-replica
// Deployment until reported healthy, against kubectl apply + kubectl rollout status
// and kubectl rollout undo + kubectl rollout status of the same manifests, on the same
// local control plane, in alternating order, and prints the medians and their ratios.
//
// It then shows where the time goes. A watch on each Deployment stamps when the
// change reached the API server and when the Deployment was rolled out, which splits
// every run into the tool's time before the change, the cluster's own rollout, and
// the tool's time after it (noticing, recording, exiting): the rollout varies from run
// to run with the machine's load, the tool's parts much less. ferry's time before the
// change is split further by its progress lines, stamped as they arrive.
//
// Run it with `make bench-release`; -kubeconfig uses a running cluster instead of
// starting one (in namespaces of its own, deleted at the end).
package main
