// Package health decides from an object's own status how far it is from healthy: a
// Deployment, StatefulSet or DaemonSet rolled out, a Job complete, a pod stuck for
// good. Pure decisions: it imports only k8s.io/api and apimachinery types, never a client.
package health
