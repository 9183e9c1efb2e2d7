package clitest

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"
)

// EnvSeed, when set, fixes the seed of Rand: the value a failed test printed.
const EnvSeed = "FERRY_TEST_SEED"

// Rand returns a random source for choices a test makes at random (which progress
// line to kill a process on), seeded from EnvSeed or the clock. A failing test logs
// the seed, so that its run can be repeated.
func Rand(tb testing.TB) *rand.Rand {
	tb.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(EnvSeed); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			tb.Fatalf("%s=%q: want a number", EnvSeed, s)
		}
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("random choices seeded with %d: run again with %s=%d", seed, EnvSeed, seed)
		}
	})
	return rand.New(rand.NewPCG(seed, seed>>32|seed<<32))
}
