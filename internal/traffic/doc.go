// Package traffic declares how ferry splits requests between the legacy backend and
// Kubernetes: the Router interface that migrations drive and the Weights they set.
// Routers live in sub-packages (traffic/proxy, …); this package must not import them.
package traffic
