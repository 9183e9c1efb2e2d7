package lint

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the rule section of docs/lint-rules.md")

func sampleReport(t *testing.T, dir string) Report {
	t.Helper()
	file := filepath.Join(dir, "k8s", "cron.yaml")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("# nightly\n"+cronNoDeadline), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Run(decode(t, cronNoDeadline), Config{Locations: Locate(filepath.Dir(file))})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestWriteText(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := WriteText(&out, sampleReport(t, dir), dir); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"k8s/cron.yaml:2: cronjob/a: error FERRY-CRON-001: suspend is set (true) but startingDeadlineSeconds is not",
		"k8s/cron.yaml:2: cronjob/a: info FERRY-CRON-005:",
		"1 error, 3 warnings, 1 info in 1 object\n",
		"How to fix:\n  FERRY-CRON-001 CronJob can be suspended but misses no deadline: Set `startingDeadlineSeconds`",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text output lacks %q:\n%s", want, text)
		}
	}
	out.Reset()
	if err := WriteText(&out, Report{Findings: []Finding{}, Summary: Summary{Objects: 2}}, ""); err != nil || out.String() != "0 errors, 0 warnings, 0 info in 2 objects\n" {
		t.Errorf("clean report %q %v", out.String(), err)
	}
}

// TestWriteSARIF checks the log against what SARIF 2.1.0 requires of the parts ferry
// writes: version, tool.driver with rules, results whose ruleIndex points at their
// rule, levels from the spec's set, locations relative to a declared base.
func TestWriteSARIF(t *testing.T) {
	dir := t.TempDir()
	report := sampleReport(t, dir)
	var out bytes.Buffer
	if err := WriteSARIF(&out, report, ToolInfo{Name: "ferry", Version: "v1.2.3", URI: "https://ferry.dev"}, dir); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID               string `json:"id"`
						ShortDescription struct {
							Text string `json:"text"`
						} `json:"shortDescription"`
						DefaultConfiguration struct {
							Level string `json:"level"`
						} `json:"defaultConfiguration"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			OriginalURIBaseIDs map[string]struct {
				URI string `json:"uri"`
			} `json:"originalUriBaseIds"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Message   struct {
					Text string `json:"text"`
				} `json:"message"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI       string `json:"uri"`
							URIBaseID string `json:"uriBaseId"`
						} `json:"artifactLocation"`
						Region struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
					LogicalLocations []struct {
						FullyQualifiedName string `json:"fullyQualifiedName"`
					} `json:"logicalLocations"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	dec := json.NewDecoder(bytes.NewReader(out.Bytes()))
	if err := dec.Decode(&log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || !strings.Contains(log.Schema, "sarif-2.1.0") || len(log.Runs) != 1 {
		t.Fatalf("version %q schema %q runs %d", log.Version, log.Schema, len(log.Runs))
	}
	run := log.Runs[0]
	if run.Tool.Driver.Name != "ferry" || len(run.Tool.Driver.Rules) != len(Rules()) {
		t.Fatalf("driver %q with %d rules", run.Tool.Driver.Name, len(run.Tool.Driver.Rules))
	}
	base, ok := run.OriginalURIBaseIDs["%SRCROOT%"]
	if !ok || !strings.HasPrefix(base.URI, "file:///") || !strings.HasSuffix(base.URI, "/") {
		t.Fatalf("originalUriBaseIds %+v", run.OriginalURIBaseIDs)
	}
	levels := map[string]bool{"none": true, "note": true, "warning": true, "error": true}
	if len(run.Results) != len(report.Findings) {
		t.Fatalf("%d results for %d findings", len(run.Results), len(report.Findings))
	}
	for i, res := range run.Results {
		rule := run.Tool.Driver.Rules[res.RuleIndex]
		if rule.ID != res.RuleID || !levels[res.Level] || res.Level != rule.DefaultConfiguration.Level || res.Message.Text == "" {
			t.Errorf("result %d: %+v against rule %+v", i, res, rule)
		}
		loc := res.Locations[0]
		if loc.PhysicalLocation.ArtifactLocation.URI != "k8s/cron.yaml" || loc.PhysicalLocation.ArtifactLocation.URIBaseID != "%SRCROOT%" || loc.PhysicalLocation.Region.StartLine != 2 {
			t.Errorf("result %d location %+v", i, loc.PhysicalLocation)
		}
		if loc.LogicalLocations[0].FullyQualifiedName == "" {
			t.Errorf("result %d has no logical location", i)
		}
	}
	if run.Results[3].RuleID != "FERRY-CRON-005" || run.Results[3].Level != "note" {
		t.Errorf("info finding %s has SARIF level %q, want note", run.Results[3].RuleID, run.Results[3].Level)
	}
}

// TestREADMERulesInSync keeps the rule reference in docs/lint-rules.md generated from the rules;
// go test ./internal/lint -run README -update rewrites it.
func TestREADMERulesInSync(t *testing.T) {
	const begin, end = "<!-- lint rules: begin (go test ./internal/lint -run README -update) -->\n", "<!-- lint rules: end -->\n"
	path := filepath.Join("..", "..", "docs", "lint-rules.md")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i, j := strings.Index(text, begin), strings.Index(text, end)
	if i < 0 || j < i {
		t.Fatalf("docs/lint-rules.md has no rule section between %q and %q", begin, end)
	}
	want := text[:i+len(begin)] + RulesMarkdown() + text[j:]
	if want == text {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatal("docs/lint-rules.md's rule section is out of date: run go test ./internal/lint -run README -update")
}
