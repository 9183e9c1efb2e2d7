// Package atomicfile writes a file so that a reader sees either the old content or the
// new, never a part: a temporary file beside it, fsynced, then renamed over it. It is
// the one place ferry writes files that matter; it imports only the standard library.
package atomicfile
