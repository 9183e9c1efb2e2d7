package plan

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ferry.dev/ferry/internal/golden"
)

const minimalPlan = "name: shop\nrouter:\n  proxy:\n    admin: http://127.0.0.1:9901\nmetrics:\n  proxy: {}\n"

func TestParseDefaults(t *testing.T) {
	p, err := Parse([]byte(minimalPlan), "/srv")
	if err != nil {
		t.Fatal(err)
	}
	var weights []int
	for _, s := range p.Steps {
		weights = append(weights, s.BasisPoints)
		if s.Hold != DefaultHold {
			t.Errorf("step hold %s, want the default", s.Hold)
		}
	}
	if len(weights) != 5 || weights[0] != 100 || weights[4] != 10000 {
		t.Fatalf("default steps %v, want 1,5,10,50,100%%", weights)
	}
	if p.State != "/srv/.ferry/migration-shop.json" || p.Deadline != DefaultDeadline || p.Interval != DefaultInterval {
		t.Fatalf("defaults: %+v", p)
	}
	gates := p.BuildGates(nil)
	var names []string
	for _, g := range gates {
		names = append(names, g.Name())
	}
	if strings.Join(names, ",") != "error-rate,latency,endpoints" {
		t.Fatalf("gates %v, want error-rate, latency and the per-endpoint gates", names)
	}
}

func TestParseRefusesBadPlans(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"empty", "", "the file is empty"},
		{"unknown field", minimalPlan + "speed: fast\n", "speed (line 7): unknown field (valid here: name, steps,"},
		{"no name", strings.Replace(minimalPlan, "name: shop\n", "", 1), "name: required"},
		{"weights out of order", minimalPlan + "steps: [{weight: 10}, {weight: 5}, {weight: 100}]\n", "steps[1].weight (line 7): 5% is not above the previous step's 10%"},
		{"weight above 100", minimalPlan + "steps: [{weight: 50}, {weight: 150}]\n", "must not exceed 100"},
		{"does not end at 100", minimalPlan + "steps: [{weight: 1}, {weight: 50}]\n", "last step must send 100%"},
		{"too many decimals", minimalPlan + "steps: [{weight: 0.001}, {weight: 100}]\n", "at most two decimals"},
		{"unknown router", "name: x\nrouter:\n  nginx: {}\nmetrics:\n  proxy: {}\n", "router.nginx (line 3): unknown field (valid here: proxy, proxyFleet, route53, gateway, alb)"},
		{"no router", "name: x\nmetrics:\n  proxy: {}\n", "router: name a router"},
		{"gates without a metric source", "name: x\nrouter:\n  proxy:\n    admin: http://a\n", "metrics: name a metric source"},
		{"every gate disabled", minimalPlan + "gates:\n  disable: [error-rate, latency]\n", "gates.disable (line 8): errorRate or latency must stay on"},
		{"endpoints named wrongly", minimalPlan + "gates:\n  endpoints:\n    critical: [payroll]\n    ignore: [\"GET /x?y=1\"]\n    maxEndpoints: 5000\n",
			`gates.endpoints.critical[0] (line 9): "payroll" is not an endpoint`},
		{"endpoints cap", minimalPlan + "gates:\n  endpoints:\n    maxEndpoints: 5000\n", "gates.endpoints.maxEndpoints (line 9): 5000 is out of range: want 1 to 2000"},
		{"endpoints ignored and critical", minimalPlan + "gates:\n  endpoints:\n    critical: [/a]\n    ignore: [/a]\n", `"/a" is both critical and ignored`},
		{"unknown gate", minimalPlan + "gates:\n  disable: [speed]\n", `unknown gate "speed"`},
		{"notify without target", minimalPlan + "notify: [{}]\n", "notify[0] (line 7): name exactly one"},
		{"bad duration", minimalPlan + "deadline: soon\n", `deadline (line 7): "soon" is not a valid duration (e.g. 5s, 1m30s)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "/x")
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrInvalid containing %q", err, tc.want)
			}
		})
	}
}

// TestParseErrorsGolden reads every file of testdata/invalid and compares its error
// with the .golden file beside it (go test -update rewrites them): one line, every
// mistake with its field, line and what would be valid, in ferry's words.
func TestParseErrorsGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/invalid/*.yaml: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(data, "/x")
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v, want ErrInvalid", err)
			}
			msg := err.Error()
			for _, w := range []string{"\n", "!!", "unmarshal", "plan.", "time.Duration", "in type", "yaml:"} {
				if strings.Contains(msg, w) {
					t.Errorf("error %q shows %q", msg, w)
				}
			}
			golden.Check(t, strings.TrimSuffix(file, ".yaml")+".golden", msg+"\n")
		})
	}
}

// TestGateNamesAreTheSections: gates.disable names a gate as its section does
// (errorRate), and still takes the older error-rate.
func TestGateNamesAreTheSections(t *testing.T) {
	for _, name := range []string{"errorRate", "error-rate"} {
		p, err := Parse([]byte(minimalPlan+"gates:\n  disable: ["+name+"]\n"), "/x")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := p.BuildGates(nil); len(got) != 2 || got[0].Name() != "latency" {
			t.Errorf("disable [%s]: gates %v, want latency and the per-endpoint gates", name, got)
		}
	}
}
