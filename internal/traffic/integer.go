package traffic

// IntegerSplit maps a Kubernetes share of bp basis points onto a pair of integer
// weights of at most limit each, as weighted DNS records (0–255) and load-balancer target
// groups (0–999) take them; the share a pair gives is kubernetes / (legacy + kubernetes).
// It picks the pair whose share is nearest to bp, exact where one exists (1 % is 1:99),
// preferring a pair that adds up to 100 so weights read as percentages, then the
// smallest. A share strictly between 0 and 100 % never maps to 0 or 100 %: a step meant
// to send some traffic to each side does, even where the nearest pair would not.
// It returns the pair and the share it gives, in basis points (rounded).
func IntegerSplit(bp, limit int) (legacy, kubernetes, effective int) {
	bp = max(0, min(Total, bp))
	bestS, bestK, bestErr := 0, 0, 0
	for s := 1; s <= 2*limit; s++ {
		lo, hi := max(0, s-limit), min(s, limit)
		if bp > 0 && bp < Total {
			lo, hi = max(lo, 1), min(hi, s-1)
		}
		if lo > hi {
			continue
		}
		k := min(hi, max(lo, (bp*s+Total/2)/Total))
		err := abs(k*Total - bp*s) // the share's error is err/s basis points
		if bestS == 0 || better(err, s, bestErr, bestS) {
			bestS, bestK, bestErr = s, k, err
		}
	}
	return bestS - bestK, bestK, Share(bestS-bestK, bestK)
}

// better reports whether an error of errA/sA beats errB/sB: smaller, or as small with a
// sum of 100 where the other has none (both sums rise in the caller's loop, so a later
// sum never wins a tie otherwise).
func better(errA, sA, errB, sB int) bool {
	a, b := errA*sB, errB*sA
	if a != b {
		return a < b
	}
	return sA == 100 && sB != 100
}

// Share returns the Kubernetes share, in basis points rounded to the nearest, that
// integer weights give. Both zero is an even split, as Route 53 routes it.
func Share(legacy, kubernetes int) int {
	s := legacy + kubernetes
	if s <= 0 {
		return Total / 2
	}
	return (kubernetes*Total + s/2) / s
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
