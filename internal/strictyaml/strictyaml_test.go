package strictyaml

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDecode(t *testing.T) {
	type config struct {
		Name  string `yaml:"name"`
		Count int    `yaml:"count"`
	}
	for _, tc := range []struct{ name, yaml, want string }{
		{"ok", "name: a\ncount: 2\n", ""},
		{"empty", "", ErrEmpty.Error()},
		{"unknown field", "name: a\nspeed: 3\n", "speed (line 2): unknown field (valid here: name, count)"},
		{"wrong type", "count: many\n", `count (line 1): "many" is not a whole number`},
		{"broken", "name: [\n", "did not find expected"},
		{"second document", "name: a\ncount: 2\n---\nname: b\n", "line 3: a second YAML document starts here"},
		{"second document after an empty one", "name: a\ncount: 2\n---\n# nothing\n---\ncount: 3\n", "line 5: a second YAML document starts here"},
		{"broken second document", "name: a\ncount: 2\n---\nname: [\n", "did not find expected"},
		{"trailing separator", "name: a\ncount: 2\n---\n", ""},
		{"leading separator and end marker", "---\nname: a\ncount: 2\n...\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c config
			err := Decode([]byte(tc.yaml), &c)
			if tc.want == "" {
				if err != nil || c.Name != "a" || c.Count != 2 {
					t.Fatalf("%+v %v", c, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") || strings.HasPrefix(err.Error(), "yaml:") {
				t.Fatalf("error %v, want one line with %q", err, tc.want)
			}
			if tc.name == "empty" && !errors.Is(err, ErrEmpty) {
				t.Fatal("not ErrEmpty")
			}
		})
	}
}

// TestDecodeReportsEveryMistake: one run names every mistake, each with its line and
// what would be valid, in ferry's words (no Go type names, no library prefixes).
func TestDecodeReportsEveryMistake(t *testing.T) {
	type health struct {
		Timeout time.Duration `yaml:"timeout,omitempty"`
	}
	type config struct {
		App      string            `yaml:"app"`
		Replicas int               `yaml:"replicas"`
		Health   health            `yaml:"health"`
		Names    []string          `yaml:"names"`
		Labels   map[string]string `yaml:"labels"`
		On       *bool             `yaml:"on"`
		Share    float64           `yaml:"share"`
		Skipped  string            `yaml:"-"`
	}
	doc := `app: shop
replicas: many
health:
  timeout: 1d
  healthcheck: /up
names: web
labels: [a]
on: maybe
share: lots
apps: x
app: again
`
	var c config
	err := Decode([]byte(doc), &c)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v, want an *Error", err)
	}
	want := []string{
		`replicas (line 2): "many" is not a whole number`,
		`health.timeout (line 4): "1d" is not a valid duration (e.g. 5s, 1m30s)`,
		`health.healthcheck (line 5): unknown field (valid here: timeout)`,
		`names (line 6): want a list, not "web"`,
		`labels (line 7): want a mapping, not a list`,
		`on (line 8): "maybe" is not true or false`,
		`share (line 9): "lots" is not a number`,
		`apps (line 10): unknown field (did you mean app? valid here: app, replicas, health, names, labels, on, share)`,
		`app (line 11): set twice (first at line 1)`,
	}
	if got := strings.Join(want, "; "); err.Error() != got {
		t.Errorf("error\n  %s\nwant\n  %s", err, got)
	}
	if c.App != "shop" {
		t.Errorf("what could be decoded was not: %+v", c)
	}
}

func TestLinesOf(t *testing.T) {
	doc := "name: a\nsteps:\n- {weight: 5}\n-\n  weight: 100\n  hold: 1m\ngates:\n  errorRate:\n    alpha: 2\n"
	lines := NewLines([]byte(doc))
	for _, tc := range []struct {
		path string
		want int
	}{
		{"name", 1},
		{"steps", 2},
		{"steps[0].weight", 3},
		{"steps[1]", 5},
		{"steps[1].hold", 6},
		{"steps[1].minRequests", 5}, // not set: its step
		{"steps[7].weight", 2},      // no such step: the list
		{"gates.errorRate", 8},
		{"gates.errorRate.alpha", 9},
		{"notify[0].slack", 0},
	} {
		if got := lines.Of(tc.path); got != tc.want {
			t.Errorf("line of %s: %d, want %d", tc.path, got, tc.want)
		}
	}
	if got := NewLines([]byte("name: [\n")).Of("name"); got != 0 {
		t.Errorf("line in a broken document: %d, want 0", got)
	}
}
