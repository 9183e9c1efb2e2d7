// Package lint checks rendered Kubernetes objects for the traps of moving a legacy app:
// CronJobs that fire when unsuspended, pods that do not shut down gracefully, mutable
// images, missing environment, missing budgets. Rules are data; checks are pure
// functions. It must not import Kubernetes clients, internal/cli or internal/release.
package lint
