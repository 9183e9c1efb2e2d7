package proxy

import (
	"math/bits"
	"slices"
)

// routeHist is a sparse latency histogram for one route in one bucket: values in
// microseconds in log-linear bins of 1/32 of an octave (at most 3 % wide; exact below
// 32 µs), kept only when hit, 8 bytes each. A route's latencies fill a few dozen to a
// few hundred bins (at most about 900 from 1 µs to an hour), so a hundred routes cost
// kilobytes where an HdrHistogram each would cost megabytes.
type routeHist struct {
	bins []routeBin // sorted by index
}

type routeBin struct {
	index uint16
	count uint32
}

const subBins = 32

// routeBinOf returns the bin of a value in microseconds (at least 1).
func routeBinOf(us int64) uint16 {
	if us < subBins {
		return uint16(max(us, 0))
	}
	shift := bits.Len64(uint64(us)) - 6 // keep 6 significant bits: 32..63
	m := us >> shift
	return uint16(subBins*(shift+1) + int(m-subBins))
}

// routeBinTop returns the largest value of a bin, as HdrHistogram reports a bar.
func routeBinTop(index uint16) int64 {
	if index < subBins {
		return int64(index)
	}
	shift := int(index)/subBins - 1
	m := int64(index)%subBins + subBins
	return (m+1)<<shift - 1
}

func (h *routeHist) record(us int64) {
	idx := routeBinOf(us)
	i, found := slices.BinarySearchFunc(h.bins, idx, func(b routeBin, t uint16) int { return int(b.index) - int(t) })
	if found {
		h.bins[i].count++
		return
	}
	h.bins = slices.Insert(h.bins, i, routeBin{index: idx, count: 1})
}

// routeBins is the number of bins up to an hour.
var routeBins = int(routeBinOf(histMaxMicros)) + 1

// addTo adds h's counts into counts, indexed by bin.
func (h *routeHist) addTo(counts []int64) {
	for _, b := range h.bins {
		counts[b.index] += int64(b.count)
	}
}
