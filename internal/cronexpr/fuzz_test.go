package cronexpr

import "testing"

// FuzzFromClassic: any schedule translates to one Kubernetes parses, or fails.
func FuzzFromClassic(f *testing.F) {
	for _, s := range []string{"* * * * *", "0 0 * * 7", "5-7/2 * 1,15 jan-mar sun", "@daily", "0 0 */2 * 1-5", "1-7/9 0 * * 6/3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		out, err := FromClassic(expr)
		if err != nil {
			return
		}
		if _, err := Parse(out); err != nil {
			t.Fatalf("%q translates to %q, which does not parse: %v", expr, out, err)
		}
		if _, err := MinInterval(out); err != nil && out[0] != '@' {
			t.Logf("%q: %v", out, err) // February 30 and the like never fire; that is not a translation error
		}
	})
}
