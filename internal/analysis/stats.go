package analysis

import (
	"math"
	"sort"
)

// normalCDF is Φ(x).
func normalCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// normalQuantile is Φ⁻¹(p) for 0 < p < 1.
func normalQuantile(p float64) float64 { return -math.Sqrt2 * math.Erfcinv(2*p) }

// msprt returns the mixture sequential probability ratio of a normal-approximated
// difference est with variance v, under a N(0, tau2) mixture over the alternative
// (Johari et al., "Always valid inference"). Stopping the first time it reaches 1/α
// keeps the false-alarm rate at most α however often it is looked at.
func msprt(est, v, tau2 float64) float64 {
	if v <= 0 {
		return 0
	}
	return math.Sqrt(v/(v+tau2)) * math.Exp(tau2*est*est/(2*v*(v+tau2)))
}

// binomialTail is P(X ≥ k) for X ~ Binomial(n, p), summed from k upwards until the
// terms no longer count (they fall at least geometrically once k is above the mean).
// For k at or below the mean it returns 1: the tail is then about a half or more, and
// only small tails are asked about.
func binomialTail(k, n int64, p float64) float64 {
	switch {
	case k <= 0:
		return 1
	case k > n || p <= 0:
		return 0
	case p >= 1 || float64(k) <= float64(n)*p:
		return 1
	}
	logPMF := func(i int64) float64 {
		a, _ := math.Lgamma(float64(n + 1))
		b, _ := math.Lgamma(float64(i + 1))
		c, _ := math.Lgamma(float64(n - i + 1))
		return a - b - c + float64(i)*math.Log(p) + float64(n-i)*math.Log1p(-p)
	}
	term := math.Exp(logPMF(k))
	sum := term
	for i := k; i < n && term > sum*1e-12; i++ {
		term *= float64(n-i) / float64(i+1) * p / (1 - p)
		sum += term
	}
	return math.Min(sum, 1)
}

// requiredSamples is how many observations of a proportion are needed to tell p1 from
// a known p0 with a one-sided test of level alpha and the given power.
func requiredSamples(p0, p1, alpha, power float64) int64 {
	if p1 <= p0 {
		return math.MaxInt64
	}
	za, zb := normalQuantile(1-alpha), normalQuantile(power)
	n := math.Pow(za*math.Sqrt(p0*(1-p0))+zb*math.Sqrt(p1*(1-p1)), 2) / math.Pow(p1-p0, 2)
	return int64(math.Ceil(n))
}

// Bin is a latency value (microseconds) and how many requests took it.
type Bin struct {
	Value int64 `json:"value"`
	Count int64 `json:"count"`
}

// Distribution is a latency histogram: bins sorted by value.
type Distribution []Bin

// Count is the number of observations.
func (d Distribution) Count() int64 {
	var n int64
	for _, b := range d {
		n += b.Count
	}
	return n
}

// Quantile returns the value at quantile q (0..1), 0 when empty.
func (d Distribution) Quantile(q float64) int64 {
	n := d.Count()
	if n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(n)))
	rank = max(rank, 1)
	var seen int64
	for _, b := range d {
		seen += b.Count
		if seen >= rank {
			return b.Value
		}
	}
	return d[len(d)-1].Value
}

// Max is the largest value, 0 when empty.
func (d Distribution) Max() int64 {
	for i := len(d) - 1; i >= 0; i-- {
		if d[i].Count > 0 {
			return d[i].Value
		}
	}
	return 0
}

// Above counts the observations strictly greater than v.
func (d Distribution) Above(v int64) int64 {
	var n int64
	for _, b := range d {
		if b.Value > v {
			n += b.Count
		}
	}
	return n
}

// Normalize sorts bins by value and merges equal values.
func (d Distribution) Normalize() Distribution {
	out := append(Distribution(nil), d...)
	sort.Slice(out, func(i, j int) bool { return out[i].Value < out[j].Value })
	merged := out[:0]
	for _, b := range out {
		if b.Count <= 0 {
			continue
		}
		if len(merged) > 0 && merged[len(merged)-1].Value == b.Value {
			merged[len(merged)-1].Count += b.Count
			continue
		}
		merged = append(merged, b)
	}
	return merged
}

// mannWhitney returns the one-sided p-value that x tends to be larger than y, from
// binned samples (equal bins are ties), with the normal approximation and tie
// correction, as Kayenta's judge does. It is valid for one look; the gates use
// rankShift, whose evidence holds under repeated looks.
func mannWhitney(x, y Distribution) float64 {
	u, variance, n1, n2 := rankSum(x, y)
	if n1 == 0 || n2 == 0 || variance <= 0 {
		return 1
	}
	z := (u - n1*n2/2 - 0.5) / math.Sqrt(variance) // continuity correction
	return 1 - normalCDF(z)
}

// rankShift returns how much more often a request of x is slower than one of y than
// chance would have it (the probability, ties as half, minus one half) and the
// variance of that estimate when nothing differs: the normal approximation that
// msprt turns into evidence that holds however often it is looked at.
func rankShift(x, y Distribution) (est, v float64) {
	u, variance, n1, n2 := rankSum(x, y)
	if n1 == 0 || n2 == 0 || variance <= 0 {
		return 0, 0
	}
	pairs := n1 * n2
	return u/pairs - 0.5, variance / (pairs * pairs)
}

// rankSum walks both histograms in value order and returns U (pairs with x > y,
// ties as half), its tie-corrected variance under no difference, and both counts.
func rankSum(x, y Distribution) (u, variance, n1, n2 float64) {
	n1, n2 = float64(x.Count()), float64(y.Count())
	if n1 == 0 || n2 == 0 {
		return 0, 0, n1, n2
	}
	var yBelow, tieTerm float64
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		var v int64
		switch {
		case j >= len(y) || (i < len(x) && x[i].Value < y[j].Value):
			v = x[i].Value
		case i >= len(x) || y[j].Value < x[i].Value:
			v = y[j].Value
		default:
			v = x[i].Value
		}
		var cx, cy float64
		if i < len(x) && x[i].Value == v {
			cx = float64(x[i].Count)
			i++
		}
		if j < len(y) && y[j].Value == v {
			cy = float64(y[j].Count)
			j++
		}
		u += cx * (yBelow + cy/2)
		yBelow += cy
		t := cx + cy
		tieTerm += t*t*t - t
	}
	n := n1 + n2
	variance = n1 * n2 / 12 * ((n + 1) - tieTerm/(n*(n-1)))
	return u, variance, n1, n2
}
