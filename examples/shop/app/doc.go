// Command shop-app stands in for the example app on this machine: one process is one
// legacy VM, or the Kubernetes ingress in front of the app's pods. It answers pages with
// the side and instance that served them and keeps a session cookie like the Rails app.
// It must not import ferry's packages.
package main
