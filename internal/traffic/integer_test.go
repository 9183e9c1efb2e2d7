package traffic

import "testing"

func TestIntegerSplit(t *testing.T) {
	for _, tc := range []struct {
		name              string
		bp, limit         int
		legacy, kube, eff int
	}{
		{"all legacy reads as a percentage", 0, 255, 100, 0, 0},
		{"all kubernetes", 10000, 255, 0, 100, 10000},
		{"1% is 1:99", 100, 255, 99, 1, 100},
		{"5%", 500, 255, 95, 5, 500},
		{"10%", 1000, 255, 90, 10, 1000},
		{"50%", 5000, 255, 50, 50, 5000},
		{"99%", 9900, 255, 1, 99, 9900},
		{"0.5% is exact at 1:199", 50, 255, 199, 1, 50},
		{"12.5% is exact at 1:7", 1250, 255, 7, 1, 1250},
		{"one third is nearest at 1:2", 3333, 255, 2, 1, 3333},
		{"0.01% cannot be 0: the smallest share is 1:255", 1, 255, 255, 1, 39},
		{"99.99% cannot be 100: the largest is 255:1 the other way", 9999, 255, 1, 255, 9961},
		{"0.3% rounds to the smallest share", 30, 255, 255, 1, 39},
		{"0.01% with target-group weights 0-999", 1, 999, 999, 1, 10},
		{"0.25% with target-group weights is exact", 25, 999, 399, 1, 25},
		{"33.37% is nearest at 1:2", 3337, 255, 2, 1, 3333},
		{"out of range clamps", 12000, 255, 0, 100, 10000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, k, eff := IntegerSplit(tc.bp, tc.limit)
			if l != tc.legacy || k != tc.kube || eff != tc.eff {
				t.Fatalf("IntegerSplit(%d, %d) = %d:%d (%d bp), want %d:%d (%d bp)", tc.bp, tc.limit, l, k, eff, tc.legacy, tc.kube, tc.eff)
			}
		})
	}
}

// TestIntegerSplitProperties checks every basis point value: weights within range, the
// reported share matches the weights, both sides keep traffic when both should, and
// no pair within range is nearer.
func TestIntegerSplitProperties(t *testing.T) {
	for _, limit := range []int{255, 999} {
		for bp := 0; bp <= Total; bp += 7 {
			l, k, eff := IntegerSplit(bp, limit)
			if l < 0 || k < 0 || l > limit || k > limit || l+k == 0 {
				t.Fatalf("IntegerSplit(%d, %d) = %d:%d out of range", bp, limit, l, k)
			}
			if eff != Share(l, k) {
				t.Fatalf("IntegerSplit(%d, %d) reports %d bp for %d:%d, which gives %d", bp, limit, eff, l, k, Share(l, k))
			}
			if bp > 0 && bp < Total && (k == 0 || l == 0) {
				t.Fatalf("IntegerSplit(%d, %d) = %d:%d starves a side", bp, limit, l, k)
			}
			if limit == 255 && bp%100 == 0 && (l+k != 100 || k != bp/100) {
				t.Fatalf("IntegerSplit(%d, 255) = %d:%d, want a whole percentage as k:100-k", bp, l, k)
			}
		}
	}
	// Brute force over every pair for a few values: nothing nearer exists.
	for _, bp := range []int{1, 33, 250, 3337, 6667, 9999} {
		l, k, _ := IntegerSplit(bp, 255)
		got := abs(k*Total-bp*(l+k)) * 1000 / (l + k)
		for a := 0; a <= 255; a++ {
			for b := 1; b <= 255; b++ {
				if a == 0 {
					continue // would starve legacy
				}
				if e := abs(b*Total-bp*(a+b)) * 1000 / (a + b); e < got {
					t.Fatalf("IntegerSplit(%d, 255) = %d:%d, but %d:%d is nearer", bp, l, k, a, b)
				}
			}
		}
	}
}

func TestShare(t *testing.T) {
	for _, tc := range []struct{ l, k, want int }{
		{99, 1, 100}, {0, 5, 10000}, {7, 0, 0}, {0, 0, 5000}, {255, 1, 39}, {2, 1, 3333},
	} {
		if got := Share(tc.l, tc.k); got != tc.want {
			t.Errorf("Share(%d, %d) = %d, want %d", tc.l, tc.k, got, tc.want)
		}
	}
}
