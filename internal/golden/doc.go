// Package golden compares what a test produced with a file under testdata/ ending in
// .golden, and rewrites the file instead when the test runs with -update. It is for
// tests only and imports no ferry package.
package golden
