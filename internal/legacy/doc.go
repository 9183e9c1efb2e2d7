// Package legacy reads what the legacy servers had — crontabs, dotenv files, Capistrano's
// linked files — and turns it into Kubernetes objects: CronJobs, a ConfigMap and a Secret.
// It talks to no cluster: it must not import Kubernetes clients or internal/cli.
package legacy
