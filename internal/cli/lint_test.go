package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ferry.dev/ferry/internal/lint"
)

// writeManifests writes files into a fresh directory and returns it.
func writeManifests(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const lintWorker = `apiVersion: apps/v1
kind: Deployment
metadata: {name: worker}
spec:
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers: [{name: worker, image: "shop/web:v1", securityContext: {` + lintHardened + `}}]
`

// lintHardened is a container securityContext the pod-security rules accept, so the
// fixtures show the findings their tests are about.
const lintHardened = "allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}"

const lintCron = `apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 0 * * *"
  timeZone: Asia/Tokyo
  suspend: true
  concurrencyPolicy: Forbid
  successfulJobsHistoryLimit: 3
  failedJobsHistoryLimit: 3
  jobTemplate:
    spec:
      activeDeadlineSeconds: 3600
      template:
        spec:
          restartPolicy: Never
          securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
          containers:
          - name: web
            image: shop/web:v1
            resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 128Mi}}
            securityContext: {` + lintHardened + `}
`

func lintJSON(t *testing.T, stdout string) lint.Report {
	t.Helper()
	var r lint.Report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("not a JSON report: %v\n%s", err, stdout)
	}
	return r
}

func TestLintExampleAppIsClean(t *testing.T) {
	code, stdout, stderr := run(t, "lint", "-f", filepath.Join("..", "..", "examples", "shop", "ferry.yaml"))
	if code != 0 || stdout != "0 errors, 0 warnings, 0 info in 5 objects\n" || stderr != "" {
		t.Fatalf("exit %d stdout %q stderr %q", code, stdout, stderr)
	}
}

func TestLintExitCodesFollowSeverity(t *testing.T) {
	warnings := writeManifests(t, map[string]string{"worker.yaml": lintWorker})
	errs := writeManifests(t, map[string]string{"cron.yaml": strings.Replace(lintCron, "  suspend: true\n", "  suspend: true\n  startingDeadlineSeconds: 86400\n", 1)})
	clean := writeManifests(t, map[string]string{"cron.yaml": strings.Replace(lintCron, "  suspend: true\n", "  suspend: true\n  startingDeadlineSeconds: 300\n", 1)})
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"clean", []string{"--dir", clean}, 0},
		{"warnings", []string{"--dir", warnings}, ExitLintWarnings},
		{"errors", []string{"--dir", errs}, ExitLintErrors},
		{"warnings below --fail-on error", []string{"--dir", warnings, "--fail-on", "error"}, 0},
		{"errors with --fail-on none", []string{"--dir", errs, "--fail-on", "none"}, 0},
		{"errors disabled", []string{"--dir", errs, "--disable", "FERRY-CRON-001"}, 0},
		{"info fails with --fail-on info", []string{"--dir", writeManifests(t, map[string]string{"c.yaml": strings.Replace(lintCron, "  failedJobsHistoryLimit: 3\n", "", 1)}), "--fail-on", "info", "--disable", "FERRY-CRON-001"}, ExitLintWarnings},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, append([]string{"lint"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, stdout, stderr)
			}
			if code != 0 && (!strings.HasPrefix(stderr, "ferry: lint found ") || strings.Count(stderr, "\n") != 1) {
				t.Fatalf("stderr %q, want one line saying what lint found", stderr)
			}
		})
	}
	code, stdout, _ := run(t, "lint", "--dir", errs, "-o", "json")
	r := lintJSON(t, stdout)
	if code != ExitLintErrors || r.Summary.Errors != 1 || r.Findings[0].Rule != "FERRY-CRON-001" || r.Findings[0].Location.Line != 1 {
		t.Fatalf("exit %d report %+v", code, r)
	}
	code, stdout, _ = run(t, "lint", "--dir", warnings)
	if code != ExitLintWarnings || !strings.Contains(stdout, "worker.yaml:1: deployment/worker: warning FERRY-RES-001: container worker has no cpu or memory request") {
		t.Fatalf("text report:\n%s", stdout)
	}
	code, stdout, _ = run(t, "lint", "--dir", warnings, "-o", "sarif")
	var sarif struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID string `json:"ruleId"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(stdout), &sarif); err != nil || code != ExitLintWarnings || sarif.Version != "2.1.0" || len(sarif.Runs[0].Results) != 2 {
		t.Fatalf("SARIF exit %d: %+v %v", code, sarif, err)
	}
}

func TestLintListRules(t *testing.T) {
	code, stdout, _ := run(t, "lint", "--list-rules", "-o", "json")
	var rules []lint.Rule
	if err := json.Unmarshal([]byte(stdout), &rules); err != nil || code != 0 || len(rules) != len(lint.Rules()) || rules[0].Fix == "" {
		t.Fatalf("exit %d rules %d %v", code, len(rules), err)
	}
	if code, stdout, _ := run(t, "lint", "--list-rules"); code != 0 || !strings.Contains(strings.Join(strings.Fields(stdout), " "), "FERRY-CRON-001 error CronJob can be suspended") {
		t.Fatalf("exit %d:\n%s", code, stdout)
	}
}

// TestLintLegacyEnvironment compares the manifests with a real .env and deploy.rb.
func TestLintLegacyEnvironment(t *testing.T) {
	dir := writeManifests(t, map[string]string{"cron.yaml": strings.Replace(lintCron, "  suspend: true\n", "  suspend: true\n  startingDeadlineSeconds: 300\n", 1) + `            env: [{name: RAILS_ENV, value: production}]
            envFrom: [{secretRef: {name: web-secrets}}]
`})
	envFile := filepath.Join("..", "legacy", "testdata", "env", "production.env")
	deployRB := filepath.Join("..", "legacy", "testdata", "capistrano", "deploy.rb")
	list := filepath.Join(t.TempDir(), "vars")
	if err := os.WriteFile(list, []byte("RAILS_ENV\nNEWRELIC_APP_NAME=shop\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ := run(t, "lint", "--dir", dir, "--env-file", envFile, "--env-list", list, "--capistrano", deployRB, "--container", "web", "-o", "json")
	r := lintJSON(t, stdout)
	if code != ExitLintErrors || r.Summary.Errors != 1 || r.Summary.Warnings != 2 {
		t.Fatalf("exit %d summary %+v: %+v", code, r.Summary, r.Findings)
	}
	byRule := map[string]string{}
	for _, f := range r.Findings {
		byRule[f.Rule] = f.Message
	}
	for rule, want := range map[string]string{
		"FERRY-ENV-001": "lacks 25 variables the legacy app had: RACK_ENV (" + envFile + ":3)",
		"FERRY-ENV-003": "refers to Secret web-secrets, which is not in the manifests",
		"FERRY-ENV-004": "4 of the legacy Rails release's linked files and directories neither mounted nor replaced: config/database.yml (" + deployRB + ":9), config/master.key (" + deployRB + ":9), config/storage.yml (" + deployRB + ":10), public/uploads (" + deployRB + ":13: uploads: mount a volume or move them to object storage)",
	} {
		if !strings.Contains(byRule[rule], want) {
			t.Errorf("%s: %q, want %q in it", rule, byRule[rule], want)
		}
	}
	if !strings.Contains(byRule["FERRY-ENV-001"], "the keys of Secret web-secrets are unknown") {
		t.Errorf("ENV-001 does not say the Secret's keys are unknown: %q", byRule["FERRY-ENV-001"])
	}
}

func TestLintRendersKustomizeAndHelm(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		objects int
	}{
		{"kustomize", []string{"--kustomize", filepath.Join("..", "render", "testdata", "kustomize", "overlay")}, 2},
		{"helm", []string{"--helm-chart", filepath.Join("..", "render", "testdata", "chart"), "--values", filepath.Join("..", "render", "testdata", "chart", "values-prod.yaml"), "--set", "replicaCount=5"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stdout, stderr := run(t, append([]string{"lint", "-o", "json", "--fail-on", "none"}, tc.args...)...)
			r := lintJSON(t, stdout)
			if r.Summary.Objects == 0 || (tc.objects > 0 && r.Summary.Objects != tc.objects) {
				t.Fatalf("%d objects, stderr %q", r.Summary.Objects, stderr)
			}
		})
	}
}

func TestLintBadInput(t *testing.T) {
	dir := writeManifests(t, map[string]string{"w.yaml": lintWorker})
	badEnv := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(badEnv, []byte("A=1\nB=\"unclosed hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	broken := writeManifests(t, map[string]string{"w.yaml": "kind: Deployment\n"})
	empty := t.TempDir()
	// A ferry.yaml whose app container is named as no workload's container: the rules
	// about the app's containers would pass for want of one.
	misnamed := writeManifests(t, map[string]string{"ferry.yaml": "app: worker\nnamespace: shop\nmanifests: {directory: k8s}\nimage: {containers: [app]}\n"})
	if err := os.Mkdir(filepath.Join(misnamed, "k8s"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(misnamed, "k8s", "w.yaml"), []byte(lintWorker), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"two sources", []string{"--dir", dir, "--kustomize", dir}, ExitUsage, "at most one of --dir, --kustomize and --helm-chart"},
		{"ferry.yaml and a source", []string{"-f", "ferry.yaml", "--dir", dir}, ExitUsage, "leave it out with --dir"},
		{"values without chart", []string{"--dir", dir, "--values", "v.yaml"}, ExitUsage, "go with --helm-chart"},
		{"bad --set", []string{"--helm-chart", dir, "--set", "novalue"}, ExitUsage, `--set "novalue": want KEY=VALUE`},
		{"bad --fail-on", []string{"--dir", dir, "--fail-on", "fatal"}, ExitUsage, `unknown severity "fatal"`},
		{"unknown rule", []string{"--dir", dir, "--disable", "FERRY-X-1"}, ExitUsage, `unknown rule "FERRY-X-1"`},
		{"bad output", []string{"--dir", dir, "-o", "xml"}, ExitUsage, `unknown output format "xml"`},
		{"missing directory", []string{"--dir", filepath.Join(dir, "nope")}, ExitError, "no such file or directory"},
		{"missing ferry.yaml", []string{"-f", filepath.Join(dir, "ferry.yaml")}, ExitError, "no such file or directory"},
		{"broken manifest", []string{"--dir", broken}, ExitError, "apiVersion is missing"},
		{"broken env file", []string{"--dir", dir, "--env-file", badEnv}, ExitError, badEnv + ":2: B: the quoted value is never closed"},
		{"missing capistrano file", []string{"--dir", dir, "--capistrano", filepath.Join(dir, "deploy.rb")}, ExitError, "read Capistrano config"},
		{"empty directory", []string{"--dir", empty}, ExitError, "nothing to check: no manifests (*.yaml, *.yml, *.json) in " + empty},
		{"image.containers naming no container", []string{"-f", filepath.Join(misnamed, "ferry.yaml")}, ExitError,
			"image.containers of " + filepath.Join(misnamed, "ferry.yaml") + " names app, but no workload has such a container: the containers are worker"},
		{"--container naming no container", []string{"--dir", dir, "--container", "web,app"}, ExitError, "--container names web, app, but no workload has such a container: the containers are worker"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, append([]string{"lint"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d stderr %q, want exit %d and %q", code, stderr, tc.code, tc.want)
			}
			if stdout != "" || strings.Contains(stderr, "hunter2") || strings.Count(strings.TrimSpace(stderr), "\n") > 1 {
				t.Fatalf("stdout %q stderr %q: want one error line only", stdout, stderr)
			}
		})
	}
}
