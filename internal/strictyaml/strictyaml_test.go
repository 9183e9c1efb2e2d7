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
