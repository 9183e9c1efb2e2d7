// Package release deploys an app's rendered manifests as numbered, recorded revisions:
// applied, pruned and watched until healthy, rolled back automatically when not, one
// deploy of an app at a time. It must not import internal/cli.
package release
