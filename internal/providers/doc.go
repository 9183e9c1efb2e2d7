// Package providers turns a migration plan into a run: it builds the router, the
// metric source, the hooks, the gates (with an APM baseline's limits) and the store
// the plan names, from the provider sub-packages. It is the one place that knows them
// all; the migrate package only sees its own interfaces.
package providers
