// Package version holds ferry's build identity, set at link time by the Makefile.
// It imports nothing of ferry's.
package version
