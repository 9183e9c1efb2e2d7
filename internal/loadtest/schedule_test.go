package loadtest

import (
	"errors"
	"testing"
	"time"
)

func TestScheduleAt(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name   string
		s      schedule
		n      uint64
		want   time.Duration
		wantOK bool
	}{
		{"constant first", schedule{rate: 100, end: time.Second}, 0, 0, true},
		{"constant 10th", schedule{rate: 100, end: time.Second}, 10, 100 * ms, true},
		{"constant at end", schedule{rate: 100, end: time.Second}, 100, 0, false},
		{"constant limit", schedule{rate: 100, limit: 5}, 5, 0, false},
		{"constant beyond one pass loops", schedule{rate: 100, end: 2 * time.Second}, 150, 1500 * ms, true},
		{"replay", schedule{offsets: []time.Duration{0, 5 * ms, 5 * ms, 40 * ms}}, 3, 40 * ms, true},
		{"replay past the log", schedule{offsets: []time.Duration{0, 5 * ms}}, 2, 0, false},
		{"replay cut by duration", schedule{offsets: []time.Duration{0, 5 * ms, 40 * ms}, end: 10 * ms}, 2, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.s.at(tc.n)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("at(%d) = %v, %v; want %v, %v", tc.n, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestPlanScheduleCaps(t *testing.T) {
	log := requestMix{requests: make([]request, 4), offsets: []time.Duration{0, time.Second, 2 * time.Second, 3 * time.Hour}}
	burst := requestMix{requests: make([]request, 3), offsets: []time.Duration{0, 0, 0}}
	for _, tc := range []struct {
		name    string
		cfg     Config
		m       requestMix
		want    error
		planned time.Duration
	}{
		{"default constant", Config{}, pathMix("GET", []string{"/"}), nil, DefaultDuration},
		{"one pass of the log", Config{LogPath: "x", Rate: 2}, log, nil, 2 * time.Second},
		{"one pass beyond the cap", Config{LogPath: "x", Rate: 0.0001}, log, ErrBeyondCap, 0},
		{"replay beyond the cap", Config{LogPath: "x", Speed: 1}, log, ErrBeyondCap, 0},
		{"replay faster fits", Config{LogPath: "x", Speed: 10}, log, nil, 18*time.Minute + time.Millisecond},
		{"replay cut by duration", Config{LogPath: "x", Speed: 1, Duration: time.Minute}, log, nil, time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, err := planSchedule(tc.cfg, tc.m)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if err == nil && s.planned() != tc.planned {
				t.Errorf("planned %v, want %v", s.planned(), tc.planned)
			}
		})
	}
	many := requestMix{requests: make([]request, MaxRate+1), offsets: make([]time.Duration, MaxRate+1)}
	if _, _, err := planSchedule(Config{LogPath: "x", Speed: 1}, many); !errors.Is(err, ErrBeyondCap) {
		t.Errorf("a replay peaking above %d req/s: error %v, want ErrBeyondCap", MaxRate, err)
	}
	if _, _, err := planSchedule(Config{LogPath: "x", Speed: 1}, burst); err != nil {
		t.Errorf("a small burst: %v", err)
	}
}

func TestPeakRate(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		offsets []time.Duration
		want    int
	}{
		{nil, 0},
		{[]time.Duration{0}, 1},
		{[]time.Duration{0, s / 2, s, 3 * s / 2, 2 * s}, 2},
		{[]time.Duration{0, 0, 0, 5 * s}, 3},
	} {
		if got := peakRate(tc.offsets); got != tc.want {
			t.Errorf("peakRate(%v) = %d, want %d", tc.offsets, got, tc.want)
		}
	}
}
