// Package devcluster runs a real Kubernetes control plane on loopback for ferry's
// tests and demo: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
// kwok with fake nodes, built from their Go modules and started as child processes
// that never outlive their owner. It must not import ferry's capability packages.
package devcluster
