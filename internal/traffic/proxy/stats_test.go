package proxy

import (
	"testing"
	"time"

	"ferry.dev/ferry/internal/traffic"
)

func TestStatsWindows(t *testing.T) {
	s := newStatsRecorder(10*time.Second, time.Minute)
	t0 := time.Unix(1_000_000, 0)
	// One request per second for two minutes on legacy, with latency = its second in ms;
	// every tenth on kubernetes fails with 503.
	for i := 0; i < 120; i++ {
		now := t0.Add(time.Duration(i) * time.Second)
		s.record(traffic.Legacy, 0, 200, false, time.Duration(i+1)*time.Millisecond, now)
		if i%10 == 0 {
			s.record(traffic.Kubernetes, 0, 503, false, time.Millisecond, now)
		}
	}
	now := t0.Add(119 * time.Second)
	for _, tc := range []struct {
		name         string
		window       time.Duration
		wantLegacy   int64
		wantK8s      int64
		wantMaxMilli int64
	}{
		{"current bucket only", time.Second, 10, 1, 120},
		{"last 30s", 30 * time.Second, 30, 3, 120},
		{"window past retention is capped", time.Hour, 70, 7, 120},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap := s.snapshot(tc.window, now, nil)
			if snap.Legacy.Requests != tc.wantLegacy || snap.Kubernetes.Requests != tc.wantK8s {
				t.Fatalf("requests legacy %d kubernetes %d, want %d and %d",
					snap.Legacy.Requests, snap.Kubernetes.Requests, tc.wantLegacy, tc.wantK8s)
			}
			if got := snap.Legacy.Latency.Max / 1000; got != tc.wantMaxMilli {
				t.Errorf("legacy max latency %d ms, want %d", got, tc.wantMaxMilli)
			}
			if snap.Legacy.Status.Success != tc.wantLegacy || snap.Legacy.ErrorRate != 0 {
				t.Errorf("legacy status %+v rate %v", snap.Legacy.Status, snap.Legacy.ErrorRate)
			}
			if snap.Kubernetes.Status.ServerError != tc.wantK8s || snap.Kubernetes.ErrorRate != 1 {
				t.Errorf("kubernetes status %+v rate %v", snap.Kubernetes.Status, snap.Kubernetes.ErrorRate)
			}
		})
	}
}

func TestStatsPercentilesAreMicrosecondExact(t *testing.T) {
	s := newStatsRecorder(time.Second, 10*time.Second)
	now := time.Unix(2_000_000, 0)
	for i := 1; i <= 100; i++ {
		s.record(traffic.Kubernetes, 0, 200, false, time.Duration(i)*time.Microsecond, now)
	}
	s.record(traffic.Kubernetes, 0, 502, true, 0, now)
	got := s.snapshot(time.Second, now, nil).Kubernetes
	if got.Latency.P50 != 50 || got.Latency.P99 != 99 || got.Latency.Max != 100 {
		t.Errorf("latency %+v, want p50 50 µs, p99 99 µs, max 100 µs", got.Latency)
	}
	if got.Errors != 1 || got.Status.ServerError != 1 || got.Requests != 101 {
		t.Errorf("errors %d, 5xx %d, requests %d; want 1, 1, 101", got.Errors, got.Status.ServerError, got.Requests)
	}
	if got.Histogram == nil || got.Histogram.TotalCount() != 101 {
		t.Error("histogram missing or incomplete")
	}
}

func TestStatsEmpty(t *testing.T) {
	s := newStatsRecorder(time.Second, 10*time.Second)
	snap := s.snapshot(time.Minute, time.Now(), nil)
	if snap.Legacy.Requests != 0 || snap.Legacy.Histogram != nil || snap.Legacy.ErrorRate != 0 {
		t.Errorf("empty stats %+v", snap.Legacy)
	}
}
