package proxy

import (
	"testing"
	"time"

	"ferry.dev/ferry/internal/traffic"
)

func TestChooseSide(t *testing.T) {
	for _, tc := range []struct {
		name string
		k8s  int
		roll int
		want traffic.Side
	}{
		{"all legacy, lowest roll", 0, 0, traffic.Legacy},
		{"all kubernetes, highest roll", 10000, 9999, traffic.Kubernetes},
		{"0.01 % takes roll 0", 1, 0, traffic.Kubernetes},
		{"0.01 % leaves roll 1", 1, 1, traffic.Legacy},
		{"10 % below", 1000, 999, traffic.Kubernetes},
		{"10 % at boundary", 1000, 1000, traffic.Legacy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := chooseSide(traffic.KubernetesShare(tc.k8s), tc.roll); got != tc.want {
				t.Errorf("chooseSide(%d bp, roll %d) = %v, want %v", tc.k8s, tc.roll, got, tc.want)
			}
		})
	}
}

// TestChooseSideIsExact checks that every roll in the range maps to exactly the share.
func TestChooseSideIsExact(t *testing.T) {
	for _, bp := range []int{0, 1, 100, 500, 1000, 5000, 9999, 10000} {
		n := 0
		for roll := 0; roll < traffic.Total; roll++ {
			if chooseSide(traffic.KubernetesShare(bp), roll) == traffic.Kubernetes {
				n++
			}
		}
		if n != bp {
			t.Errorf("%d bp: %d of %d rolls go to kubernetes", bp, n, traffic.Total)
		}
	}
}

func TestDecide(t *testing.T) {
	k, l := hint{side: traffic.Kubernetes, ok: true}, hint{side: traffic.Legacy, ok: true}
	none := hint{}
	sticky, keep, off := policy{sticky: true}, policy{sticky: true, keepOnZero: true}, policy{}
	ten := traffic.KubernetesShare(1000)
	for _, tc := range []struct {
		name          string
		w             traffic.Weights
		forced, stuck hint
		p             policy
		roll          int
		want          choice
	}{
		{"new client by weight, gets cookie", ten, none, none, sticky, 5, choice{traffic.Kubernetes, true}},
		{"new client to legacy, gets cookie", ten, none, none, sticky, 5000, choice{traffic.Legacy, true}},
		{"stuck to kubernetes stays despite roll", ten, none, k, sticky, 9000, choice{traffic.Kubernetes, false}},
		{"stuck to legacy stays despite roll", ten, none, l, sticky, 0, choice{traffic.Legacy, false}},
		{"kubernetes weight 0 moves its clients", traffic.KubernetesShare(0), none, k, sticky, 0, choice{traffic.Legacy, true}},
		{"legacy weight 0 moves its clients", traffic.KubernetesShare(10000), none, l, sticky, 9999, choice{traffic.Kubernetes, true}},
		{"keep policy holds clients on weight 0", traffic.KubernetesShare(0), none, k, keep, 0, choice{traffic.Kubernetes, false}},
		{"forced wins over sticky", ten, l, k, sticky, 0, choice{traffic.Legacy, false}},
		{"forced wins over weight 0", traffic.KubernetesShare(0), k, none, sticky, 9999, choice{traffic.Kubernetes, false}},
		{"stickiness off ignores cookie", ten, none, k, off, 9000, choice{traffic.Legacy, false}},
		{"stickiness off sets no cookie", ten, none, none, off, 0, choice{traffic.Kubernetes, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := decide(tc.w, tc.forced, tc.stuck, tc.p, tc.roll); got != tc.want {
				t.Errorf("decide = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseHint(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want hint
	}{
		{"kubernetes", hint{traffic.Kubernetes, true}},
		{"k8s", hint{traffic.Kubernetes, true}},
		{"legacy", hint{traffic.Legacy, true}},
		{"", hint{}},
		{"KUBERNETES!", hint{}},
		{"cloud", hint{}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := parseHint([]byte(tc.in)); got != tc.want {
				t.Errorf("parseHint(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestPassiveNext(t *testing.T) {
	for _, tc := range []struct {
		name         string
		failures     int
		failed       bool
		threshold    int
		wantFailures int
		wantEject    bool
	}{
		{"success resets", 4, false, 5, 0, false},
		{"first failure counts", 0, true, 5, 1, false},
		{"failure below threshold", 3, true, 5, 4, false},
		{"failure reaching threshold ejects", 4, true, 5, 0, true},
		{"threshold one ejects at once", 0, true, 1, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, e := passiveNext(tc.failures, tc.failed, tc.threshold)
			if f != tc.wantFailures || e != tc.wantEject {
				t.Errorf("passiveNext = %d, %v; want %d, %v", f, e, tc.wantFailures, tc.wantEject)
			}
		})
	}
}

func TestIsFailure(t *testing.T) {
	for _, tc := range []struct {
		status int
		err    bool
		want   bool
	}{{200, false, false}, {404, false, false}, {500, false, false}, {502, false, true}, {503, false, true}, {504, false, true}, {0, true, true}} {
		if got := isFailure(tc.status, tc.err); got != tc.want {
			t.Errorf("isFailure(%d, %v) = %v, want %v", tc.status, tc.err, got, tc.want)
		}
	}
}

func TestActiveNext(t *testing.T) {
	up, down := activeState{healthy: true}, activeState{healthy: false}
	for _, tc := range []struct {
		name string
		s    activeState
		ok   bool
		want activeState
	}{
		{"healthy stays healthy", up, true, up},
		{"one failure is not enough", up, false, activeState{true, 1}},
		{"third failure marks down", activeState{true, 2}, false, down},
		{"success in between resets the streak", activeState{true, 2}, true, up},
		{"first success after down", down, true, activeState{false, 1}},
		{"second success marks up", activeState{false, 1}, true, up},
		{"failure while down resets the streak", activeState{false, 1}, false, down},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := activeNext(tc.s, tc.ok, 2, 3); got != tc.want {
				t.Errorf("activeNext(%+v, %v) = %+v, want %+v", tc.s, tc.ok, got, tc.want)
			}
		})
	}
}

func TestAvailable(t *testing.T) {
	now := time.Unix(1000, 0)
	for _, tc := range []struct {
		name    string
		healthy bool
		until   time.Time
		want    bool
	}{
		{"healthy, never ejected", true, time.Time{}, true},
		{"unhealthy", false, time.Time{}, false},
		{"ejected", true, now.Add(time.Second), false},
		{"ejection over", true, now, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := available(tc.healthy, tc.until, now); got != tc.want {
				t.Errorf("available = %v, want %v", got, tc.want)
			}
		})
	}
}
