// Package dashboard serves ferry's web dashboard: apps with their revisions and live
// health, migrations with their ladder, gates and charts, and the actions on them,
// each read and action authorized for the viewer against Kubernetes RBAC. Pages are
// rendered on the server; a watch of the cluster pushes changes to open pages over
// server-sent events. It must not import internal/cli or internal/controller.
package dashboard
