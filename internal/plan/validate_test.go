package plan

import (
	"errors"
	"strings"
	"testing"
)

// Gate settings out of range would make a gate pass what it must fail (minAbsolute: 5
// meant as 5 % lets a side with 100 % errors through); each is refused at load with
// its field and line.
func TestParseRefusesSettingsOutOfRange(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"minAbsolute as a percentage", "gates:\n  errorRate:\n    minAbsolute: 5\n", "gates.errorRate.minAbsolute (line 9): 5 is out of range"},
		{"minAbsolute NaN", "gates:\n  errorRate:\n    minAbsolute: .nan\n", "gates.errorRate.minAbsolute (line 9): NaN is not a number"},
		{"minAbsolute infinite", "gates:\n  errorRate:\n    minAbsolute: .inf\n", "gates.errorRate.minAbsolute (line 9): +Inf is not finite"},
		{"minAbsolute negative", "gates:\n  errorRate:\n    minAbsolute: -0.01\n", "gates.errorRate.minAbsolute (line 9): -0.01 is out of range"},
		{"error alpha NaN", "gates:\n  errorRate:\n    alpha: .nan\n", "gates.errorRate.alpha (line 9): NaN is not a number"},
		{"error alpha above one half", "gates:\n  errorRate:\n    alpha: 0.9\n", "gates.errorRate.alpha (line 9): 0.9 is out of range"},
		{"minRelative infinite", "gates:\n  errorRate:\n    minRelative: .inf\n", "gates.errorRate.minRelative (line 9): +Inf is not finite"},
		{"maxRate as a percentage", "gates:\n  errorRate:\n    maxRate: 5\n", "gates.errorRate.maxRate (line 9): 5 is out of range"},
		{"latency alpha negative", "gates:\n  latency:\n    alpha: -1\n", "gates.latency.alpha (line 9): -1 is out of range"},
		{"p50 ratio below one", "gates:\n  latency:\n    maxP50Ratio: 0.5\n", "gates.latency.maxP50Ratio (line 9): 0.5 is out of range"},
		{"p99 ratio NaN", "gates:\n  latency:\n    maxP99Ratio: .nan\n", "gates.latency.maxP99Ratio (line 9): NaN is not a number"},
		{"max ratio infinite", "gates:\n  latency:\n    maxRatio: .inf\n", "gates.latency.maxRatio (line 9): +Inf is not finite"},
		{"latency minRequests negative", "gates:\n  latency:\n    minRequests: -5\n", "gates.latency.minRequests (line 9): -5 is out of range"},
		{"tolerance infinite", "gates:\n  latency:\n    tolerance: .inf\n", "gates.latency.tolerance (line 9): +Inf is not finite"},
		{"tolerance negative", "gates:\n  latency:\n    tolerance: -1\n", "gates.latency.tolerance (line 9): -1 is out of range"},
		{"step weight NaN", "steps:\n- {weight: .nan}\n- {weight: 100}\n", "steps[0].weight (line 8): percentage \".nan\""},
		{"step weight infinite", "steps:\n- {weight: .inf}\n- {weight: 100}\n", "steps[0].weight (line 8): percentage \".inf\""},
		{"step hold infinite", "steps:\n- {weight: 5, hold: .inf}\n- {weight: 100}\n", `steps[0].hold (line 8): ".inf" is not a valid duration`},
		{"step minRequests negative", "steps:\n- {weight: 5, minRequests: -1}\n- {weight: 100}\n", "steps[0].minRequests (line 8): -1 is out of range"},
		{"step hold negative", "steps:\n- {weight: 5, hold: -1m}\n- {weight: 100}\n", "steps[0].hold (line 8): -1m0s is negative"},
		{"deadline NaN", "deadline: .nan\n", `deadline (line 7): ".nan" is not a valid duration`},
		{"interval negative", "interval: -5s\n", "interval (line 7): -5s is negative"},
		{"slack URL without a scheme", "notify:\n- slack: hooks.slack.example/T000/B000/XXXX\n", "notify[0].slack (line 8): not an absolute http:// or https:// URL with a host"},
		{"webhook URL of another scheme", "notify:\n- webhook: ftp://ops.example/ferry\n", "notify[0].webhook (line 8): not an absolute http:// or https:// URL with a host"},
		{"webhook URL without a host", "notify:\n- webhook: 'https:///ferry'\n", "notify[0].webhook (line 8): not an absolute"},
		{"final control not a percentage", "final: {control: lots}\n", "final.control (line 7): percentage \"lots\""},
		{"guard setting not a boolean", "guard: {legacyCapacity: sometimes}\n", `guard.legacyCapacity (line 7): "sometimes" is not true or false`},
		{"guard setting misspelt", "guard: {legacyCapacities: false}\n", "guard.legacyCapacities (line 7): unknown field"},
		{"final control above half", "final: {control: 60%}\n", "final.control (line 7): 60% is more than the 50% a control may keep"},
		{"final control not above the previous step", "steps:\n- {weight: 90}\n- {weight: 100}\nfinal: {control: 10%}\n", "final.control (line 10): 10% would judge the last step at 90%, not above the previous step's 90%"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(fullPlan+tc.yaml), "/x")
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v, want one line of ErrInvalid containing %q", err, tc.want)
			}
		})
	}
}

// fullPlan is a valid plan of six lines whose own settings the cases above add to.
const fullPlan = `name: shop
router:
  proxy:
    admin: http://127.0.0.1:9901
metrics:
  proxy: {}
`

func TestParseRefusesABadProxyAdminURL(t *testing.T) {
	for _, admin := range []string{"127.0.0.1:9901", "ftp://127.0.0.1:9901", "http://", "/admin"} {
		t.Run(admin, func(t *testing.T) {
			yaml := strings.Replace(fullPlan, "http://127.0.0.1:9901", admin, 1)
			_, err := Parse([]byte(yaml), "/x")
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "router.proxy.admin (line 4): not an absolute http:// or https:// URL with a host") {
				t.Fatalf("admin %q: error %v", admin, err)
			}
		})
	}
}

// Every mistake of a plan is reported in one run, each with its line, and a webhook
// URL (its own credential) is never shown.
func TestParseReportsEveryMistake(t *testing.T) {
	const secret = "T000/B000/abcdEFGHijklMNOPqrstUVWX"
	yaml := fullPlan + `steps:
- {weight: 50, minRequests: -1}
- {weight: 10}
gates:
  errorRate: {minAbsolute: 5, alpha: .nan}
  latency: {maxP99Ratio: .inf}
notify:
- slack: "hooks.slack.example/` + secret + `"
`
	_, err := Parse([]byte(yaml), "/x")
	if err == nil {
		t.Fatal("a plan with seven mistakes parsed")
	}
	msg := err.Error()
	for _, want := range []string{
		"steps[0].minRequests (line 8)",
		"steps[1].weight (line 9): 10% is not above",
		"steps (line 7): the last step must send 100%",
		"gates.errorRate.alpha (line 11)",
		"gates.errorRate.minAbsolute (line 11)",
		"gates.latency.maxP99Ratio (line 12)",
		"notify[0].slack (line 14)",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, secret) || strings.Contains(msg, "\n") {
		t.Errorf("error shows the webhook's secret or spans lines: %s", msg)
	}
}

// Zero stands for a setting's default and the documented examples load.
func TestParseAcceptsSettingsInRange(t *testing.T) {
	yaml := fullPlan + `gates:
  errorRate: {minAbsolute: 0.005, minRelative: 1.0, alpha: 0.0005, maxRate: 0.05}
  latency: {maxP50Ratio: 1.2, maxP99Ratio: 1.3, maxRatio: 0, minRequests: 500, tolerance: 1.2, alpha: 0.5}
notify:
- slack: https://hooks.slack.example/T000/B000/XXXX
- webhook: http://127.0.0.1:8080/ferry
`
	if _, err := Parse([]byte(yaml), "/x"); err != nil {
		t.Fatal(err)
	}
}

// The last step is judged beside a 1 % legacy control unless the plan says otherwise;
// the default gives way when the step before is already at 99 % or more.
func TestFinalControl(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		judged     int
	}{
		{"default", "", 9900},
		{"five percent", "final: {control: 5%}\n", 9500},
		{"none", "final: {control: '0'}\n", 10000},
		{"default after a 99.5% step", "steps:\n- {weight: 99.5}\n- {weight: 100}\n", 10000},
		{"one step", "steps:\n- {weight: 100}\n", 9900},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(fullPlan+tc.yaml), "/x")
			if err != nil {
				t.Fatal(err)
			}
			last := len(p.Steps) - 1
			if got := p.Judged(last); got != tc.judged {
				t.Fatalf("last step judged at %d bp, want %d", got, tc.judged)
			}
			if last > 0 && p.Judged(0) != p.Steps[0].BasisPoints {
				t.Fatalf("first step judged at %d bp, want its weight %d", p.Judged(0), p.Steps[0].BasisPoints)
			}
		})
	}
}

// The legacy-capacity guard is on unless the plan turns it off.
func TestLegacyCapacityGuard(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		want bool
	}{{"", true}, {"guard: {}\n", true}, {"guard: {legacyCapacity: true}\n", true}, {"guard: {legacyCapacity: false}\n", false}} {
		p, err := Parse([]byte(fullPlan+tc.yaml), "/x")
		if err != nil {
			t.Fatal(err)
		}
		if got := p.LegacyCapacityGuard(); got != tc.want {
			t.Errorf("%q: LegacyCapacityGuard() = %v, want %v", tc.yaml, got, tc.want)
		}
	}
}
