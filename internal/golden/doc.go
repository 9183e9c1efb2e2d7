// Package golden compares what a test produced with a checked-in file (a
// testdata/*.golden file, or a generated one such as docs/schemas/*.json), and
// rewrites the file instead when the test runs with -update. It is for
// tests only and imports no ferry package.
package golden
