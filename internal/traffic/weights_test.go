package traffic

import (
	"errors"
	"testing"
)

func TestParsePercent(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    int
		wantErr bool
	}{
		{"0", 0, false},
		{"10", 1000, false},
		{"10%", 1000, false},
		{" 0.01 %", 1, false},
		{"12.5", 1250, false},
		{"99.99", 9999, false},
		{"100", 10000, false},
		{"100.00%", 10000, false},
		{"100.01", 0, true},
		{"0.001", 0, true},
		{"-1", 0, true},
		{"1e2", 0, true},
		{"", 0, true},
		{".5", 0, true},
		{"5.", 0, true},
		{"ten", 0, true},
		{"1000", 0, true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParsePercent(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParsePercent(%q) error %v, want error %v", tc.in, err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("ParsePercent(%q) = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

func TestFormatPercentRoundTrips(t *testing.T) {
	for _, bp := range []int{0, 1, 10, 99, 100, 1250, 5000, 9999, 10000} {
		s := FormatPercent(bp)
		got, err := ParsePercent(s)
		if err != nil || got != bp {
			t.Errorf("FormatPercent(%d) = %q, parses back as %d (%v)", bp, s, got, err)
		}
	}
	if s := FormatPercent(1000); s != "10%" {
		t.Errorf("FormatPercent(1000) = %q, want 10%%", s)
	}
}

func TestWeightsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		w    Weights
		ok   bool
	}{
		{"all legacy", Weights{Legacy: 10000}, true},
		{"ten percent", KubernetesShare(1000), true},
		{"all kubernetes", KubernetesShare(10000), true},
		{"short", Weights{Legacy: 9000, Kubernetes: 900}, false},
		{"negative", Weights{Legacy: 10001, Kubernetes: -1}, false},
		{"zero", Weights{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.w.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate(%+v) = %v, want ok=%v", tc.w, err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidWeights) {
				t.Errorf("error %v does not wrap ErrInvalidWeights", err)
			}
		})
	}
}

func TestParseSide(t *testing.T) {
	for in, want := range map[string]Side{"legacy": Legacy, "Kubernetes": Kubernetes, "k8s": Kubernetes} {
		got, err := ParseSide(in)
		if err != nil || got != want {
			t.Errorf("ParseSide(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseSide("cloud"); err == nil {
		t.Error("ParseSide(cloud) succeeded")
	}
}
