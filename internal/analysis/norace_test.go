//go:build !race

package analysis

// aaSteps is the A/A simulation's length (see race_test.go).
const aaSteps = 2000
