package loadtest

import (
	"fmt"
	"time"
)

// schedule says when each request is due, as an offset from the start.
type schedule struct {
	// rate is requests per second, for a constant schedule.
	rate float64
	// offsets replays a log's timing, already divided by the speed.
	offsets []time.Duration
	// limit is the number of requests (0: no limit).
	limit uint64
	// end is when the schedule ends: no request is due at or after it.
	end time.Duration
}

// at returns when the n-th request (from 0) is due, and false when there is none.
func (s schedule) at(n uint64) (time.Duration, bool) {
	if s.limit > 0 && n >= s.limit {
		return 0, false
	}
	var d time.Duration
	if s.offsets != nil {
		if n >= uint64(len(s.offsets)) {
			return 0, false
		}
		d = s.offsets[n]
	} else {
		d = time.Duration(float64(n) * float64(time.Second) / s.rate)
	}
	if s.end > 0 && d >= s.end {
		return 0, false
	}
	return d, true
}

// planned is how long the schedule runs.
func (s schedule) planned() time.Duration {
	if s.end > 0 {
		return s.end
	}
	if len(s.offsets) > 0 {
		return s.offsets[len(s.offsets)-1] + time.Millisecond
	}
	return time.Duration(float64(s.limit) * float64(time.Second) / s.rate)
}

// averageRate is requests per second over the whole schedule.
func (s schedule) averageRate() float64 {
	if s.offsets == nil {
		return s.rate
	}
	n := 0
	for ; n < len(s.offsets) && (s.end == 0 || s.offsets[n] < s.end); n++ {
	}
	return float64(n) / s.planned().Seconds()
}

// planSchedule turns the run's settings into a schedule, enforcing the caps.
func planSchedule(cfg Config, m requestMix) (schedule, string, error) {
	if cfg.Speed > 0 {
		return replaySchedule(cfg, m)
	}
	s := schedule{rate: cfg.Rate}
	if s.rate == 0 {
		s.rate = DefaultRate
	}
	switch {
	case cfg.Duration > 0:
		s.end = cfg.Duration
	case cfg.LogPath != "":
		s.limit = uint64(len(m.requests))
	default:
		s.end = DefaultDuration
	}
	if p := s.planned(); p > MaxDuration {
		return s, "", fmt.Errorf("%w: one pass of %d requests at %g req/s takes %s, beyond the cap of %s; raise the rate or set a duration",
			ErrBeyondCap, len(m.requests), s.rate, p.Round(time.Second), MaxDuration)
	}
	return s, "constant", nil
}

// replaySchedule follows the log's timing divided by the speed.
func replaySchedule(cfg Config, m requestMix) (schedule, string, error) {
	s := schedule{offsets: make([]time.Duration, len(m.offsets)), end: cfg.Duration}
	for i, o := range m.offsets {
		s.offsets[i] = time.Duration(float64(o) / cfg.Speed)
	}
	if p := s.planned(); p > MaxDuration {
		return s, "", fmt.Errorf("%w: the log replayed at speed %g takes %s, beyond the cap of %s; raise the speed or set a duration",
			ErrBeyondCap, cfg.Speed, p.Round(time.Second), MaxDuration)
	}
	if peak := peakRate(s.offsets); peak > MaxRate {
		return s, "", fmt.Errorf("%w: the log replayed at speed %g peaks at %d req/s, beyond the cap of %d; lower the speed",
			ErrBeyondCap, cfg.Speed, peak, MaxRate)
	}
	return s, "replay", nil
}

// peakRate is the most requests due within any one second of sorted offsets.
func peakRate(offsets []time.Duration) int {
	peak, lo := 0, 0
	for hi := range offsets {
		for offsets[hi]-offsets[lo] >= time.Second {
			lo++
		}
		peak = max(peak, hi-lo+1)
	}
	return peak
}
