// Package cli turns ferry's command line into calls of its capability packages and
// renders their results as tables, JSON or YAML. It holds no business logic.
package cli
