package strictyaml

import (
	"errors"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	type config struct {
		Name  string `yaml:"name"`
		Count int    `yaml:"count"`
	}
	for _, tc := range []struct{ name, yaml, want string }{
		{"ok", "name: a\ncount: 2\n", ""},
		{"empty", "", ErrEmpty.Error()},
		{"unknown field", "name: a\nspeed: 3\n", "line 2: field speed not found"},
		{"wrong type", "count: many\n", "line 1: cannot unmarshal"},
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
