//go:build race

package analysis

// aaSteps is the A/A simulation's length: the race detector makes this pure
// arithmetic about five times slower, so make test (which runs with it) simulates 400
// steps; go test without -race simulates the full 2 000.
const aaSteps = 400
