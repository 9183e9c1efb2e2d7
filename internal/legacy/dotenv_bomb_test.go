package legacy

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// bomb is a small dotenv file in which every variable expands the one above twice:
// its last value would be 8 × 2^(levels-1) bytes.
func bomb(levels int, quote string) string {
	var b strings.Builder
	b.WriteString("V0=xxxxxxxx\n")
	for i := 1; i < levels; i++ {
		fmt.Fprintf(&b, "V%d=%s${V%d}$V%d%s\n", i, quote, i-1, i-1, quote)
	}
	return b.String()
}

func TestParseDotenvRefusesExpansionBombs(t *testing.T) {
	for _, tc := range []struct {
		name, text, want string
	}{
		// V15 is 256 KiB, V16 would be 512 KiB: over the limit for one value, at its line.
		{"forty levels", bomb(40, ""), "f:17: V16: the value expands to more than 256 KiB"},
		{"forty levels, quoted", bomb(40, `"`), "f:17: V16: the value expands to more than 256 KiB"},
		{"twenty-four levels", bomb(24, ""), "f:17: V16: the value expands to more than 256 KiB"},
		{"one long literal", "A=1\nV=" + strings.Repeat("x", 300<<10), "f:2: V: the value is longer than 256 KiB"},
		// V0…V15 add up to 512 KiB, C0 and C1 to another 512 KiB: C2 passes 1 MiB.
		{"all values", bomb(16, "") + manyCopies("V15", 8), "f:19: C2: the values add up to more than 1 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, _, err := ParseDotenv("f", []byte(tc.text))
			runtime.ReadMemStats(&after)
			var pe *PositionError
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) || !errors.As(err, &pe) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v, want one line starting %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "xxxx") {
				t.Fatalf("the error quotes the value: %.200s", err)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
				t.Fatalf("parsing allocated %d MiB", alloc>>20)
			}
		})
	}
}

// manyCopies sets C0, C1, … each to ${name}.
func manyCopies(name string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "C%d=${%s}\n", i, name)
	}
	return b.String()
}

func TestParseDotenvKeepsLargeValuesBelowTheLimits(t *testing.T) {
	vars, _, err := ParseDotenv("f", []byte(bomb(15, "")+manyCopies("V14", 4)))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(vars[len(vars)-1].Value); got != 8<<14 {
		t.Fatalf("last value %d bytes, want %d", got, 8<<14)
	}
}
