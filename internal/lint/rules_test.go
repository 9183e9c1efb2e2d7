package lint

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ferry.dev/ferry/internal/render"
)

// fixtureConfig is the sidecar NAME.legacy.json of a fixture NAME.yaml.
type fixtureConfig struct {
	Vars          []LegacyVar  `json:"vars"`
	Linked        []LegacyPath `json:"linked"`
	AppContainers []string     `json:"appContainers"`
	Framework     string       `json:"framework"`
}

func runFixture(t *testing.T, file string) Report {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := render.Decode(data)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	cfg := Config{Namespace: "shop"}
	if side, err := os.ReadFile(strings.TrimSuffix(file, ".yaml") + ".legacy.json"); err == nil {
		var fc fixtureConfig
		if err := json.Unmarshal(side, &fc); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		cfg.Legacy = Legacy{Vars: fc.Vars, Linked: fc.Linked, Framework: fc.Framework}
		cfg.AppContainers = fc.AppContainers
	}
	report, err := Run(objs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return report
}

func findingsOf(r Report, rule string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

// TestRuleFixtures runs every rule over its fixtures: each file under bad/ must break
// the rule, none under good/ may.
func TestRuleFixtures(t *testing.T) {
	for _, rule := range Rules() {
		t.Run(rule.ID, func(t *testing.T) {
			for _, kind := range []string{"bad", "good"} {
				files, _ := filepath.Glob(filepath.Join("testdata/rules", rule.ID, kind, "*.yaml"))
				if len(files) == 0 {
					t.Fatalf("no %s fixtures in testdata/rules/%s/%s", kind, rule.ID, kind)
				}
				for _, file := range files {
					t.Run(kind+"/"+strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
						got := findingsOf(runFixture(t, file), rule.ID)
						if kind == "bad" && len(got) == 0 {
							t.Fatalf("%s does not break %s", file, rule.ID)
						}
						if kind == "good" && len(got) > 0 {
							t.Fatalf("%s breaks %s: %+v", file, rule.ID, got)
						}
						for _, f := range got {
							if f.Severity != rule.Severity || f.Message == "" || f.Object.Name == "" {
								t.Errorf("finding %+v", f)
							}
						}
					})
				}
			}
		})
	}
}

func TestEveryFixtureDirectoryIsARule(t *testing.T) {
	dirs, err := os.ReadDir("testdata/rules")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if _, ok := RuleByID(d.Name()); !ok {
			t.Errorf("testdata/rules/%s names no rule", d.Name())
		}
	}
}

func TestRulesAreDocumented(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules() {
		if seen[r.ID] {
			t.Errorf("%s twice", r.ID)
		}
		seen[r.ID] = true
		if !strings.HasPrefix(r.ID, "FERRY-") || r.Title == "" || r.What == "" || r.Why == "" || r.Fix == "" || r.check == nil {
			t.Errorf("%s is incomplete", r.ID)
		}
		for _, text := range []string{r.What, r.Why, r.Fix} {
			if !strings.HasSuffix(text, ".") {
				t.Errorf("%s: %q does not end a sentence", r.ID, text)
			}
		}
	}
}

// TestLinkedPathsFollowTheFramework: what counts as build output and what replaces a
// linked path depend on the framework, told or detected from the jobs' commands.
func TestLinkedPathsFollowTheFramework(t *testing.T) {
	objs, err := render.Decode([]byte(`apiVersion: batch/v1
kind: CronJob
metadata: {name: close-day}
spec:
  schedule: "0 1 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - {name: web, image: payroll/web:v1, command: [/bin/sh, -c, "php artisan payroll:close-day"]}
`))
	if err != nil {
		t.Fatal(err)
	}
	linked := []LegacyPath{{Path: "vendor", Dir: true, Source: "deploy.rb:3"}, {Path: "storage/framework/sessions", Dir: true, Source: "deploy.rb:3"}}
	for _, tc := range []struct {
		framework string
		want      []string
		not       string
	}{
		{"", []string{"1 of the legacy Laravel release's", "storage/framework/sessions (deploy.rb:3: file sessions are per pod", "SESSION_DRIVER"}, "vendor"},
		{"rails", []string{"2 of the legacy Rails release's", "vendor (deploy.rb:3)"}, ""},
	} {
		t.Run(tc.framework, func(t *testing.T) {
			r, err := Run(objs, Config{Namespace: "payroll", Legacy: Legacy{Linked: linked, Framework: tc.framework}})
			if err != nil {
				t.Fatal(err)
			}
			got := findingsOf(r, "FERRY-ENV-004")
			if len(got) != 1 {
				t.Fatalf("findings %+v", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got[0].Message, w) {
					t.Errorf("%q lacks %q", got[0].Message, w)
				}
			}
			if tc.not != "" && strings.Contains(got[0].Message, tc.not) {
				t.Errorf("%q names %s", got[0].Message, tc.not)
			}
		})
	}
}
