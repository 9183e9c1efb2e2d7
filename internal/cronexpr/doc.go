// Package cronexpr reads five-field cron schedules the way Kubernetes CronJobs do (the
// standard parser of robfig/cron), translates the forms of classic cron that Kubernetes
// refuses, and measures how often a schedule fires. It must not import other ferry packages.
package cronexpr
