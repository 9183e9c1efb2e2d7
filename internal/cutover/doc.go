// Package cutover hands an app's scheduled jobs from the legacy crontab to its
// Kubernetes CronJobs when a migration completes: held suspended until then, resumed
// with a starting deadline so missed runs do not fire. It must not import internal/migrate.
package cutover
