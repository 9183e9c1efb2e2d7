// Package plan is a migration plan's schema and its validation (Load, Parse): steps,
// router, metric source, gates, notifications. Its types carry json tags equal to
// their yaml tags, for a custom resource that reuses them. It may import the standard
// library, internal/traffic, internal/strictyaml and internal/analysis — nothing that
// talks to a system.
package plan
