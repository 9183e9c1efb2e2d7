package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"ferry.dev/ferry/internal/devcluster/devclustertest"
	"ferry.dev/ferry/internal/kube"
	"ferry.dev/ferry/internal/legacy"
	"ferry.dev/ferry/internal/lint"
	rendering "ferry.dev/ferry/internal/render"
)

var legacyTestdata = filepath.Join("..", "legacy", "testdata")

// testNamespace makes a namespace on the test cluster and a client for it.
func testNamespace(t *testing.T) (*kube.Client, string) {
	t.Helper()
	client, err := kube.NewForConfig(devclustertest.RESTConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	return client, devclustertest.Namespace(t, client.Clientset, "cli-import")
}

// TestImportedCronJobsAreAcceptedByTheAPIServer imports the realistic crontab and the
// cron.d file and server-side dry-runs every CronJob against the local control plane.
func TestImportedCronJobsAreAcceptedByTheAPIServer(t *testing.T) {
	client, ns := testNamespace(t)
	for _, tc := range []struct {
		file    string
		args    []string
		jobs    int
		skipped int
	}{
		{"deploy.crontab", []string{"--time-zone", "Asia/Tokyo", "--container", "web", "--env-from-configmap", "web-env", "--env-from-secret", "web-secrets", "--cpu", "250m", "--memory", "512Mi"}, 16, 3},
		{"shop.cron.d", []string{"--system", "--time-zone", "Etc/UTC", "--name-prefix", "host"}, 3, 1},
		{"backup.crontab", []string{"--time-zone", "Etc/UTC"}, 3, 0},
	} {
		t.Run(tc.file, func(t *testing.T) {
			args := append([]string{"import", "crontab", filepath.Join(legacyTestdata, "crontab", tc.file), "--image", "registry.example.com/shop/web:2026.11.21-4f3c2a1", "-n", ns, "-o", "json"}, tc.args...)
			code, stdout, stderr := run(t, args...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d stderr %q", code, stderr)
			}
			var out struct {
				Objects []map[string]any `json:"objects"`
				Notes   []legacy.Note    `json:"notes"`
			}
			if err := json.Unmarshal([]byte(stdout), &out); err != nil {
				t.Fatal(err)
			}
			skipped := 0
			for _, n := range out.Notes {
				if n.Kind == legacy.Skipped {
					skipped++
				}
			}
			if len(out.Objects) != tc.jobs || skipped != tc.skipped {
				t.Fatalf("%d CronJobs and %d skipped, want %d and %d", len(out.Objects), skipped, tc.jobs, tc.skipped)
			}
			var objs []*unstructured.Unstructured
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for _, m := range out.Objects {
				obj := &unstructured.Unstructured{Object: m}
				objs = append(objs, obj)
				live, err := client.Apply(ctx, obj, true)
				if err != nil {
					t.Fatalf("the API server refuses %s: %v", obj.GetName(), err)
				}
				if s, _, _ := unstructured.NestedBool(live.Object, "spec", "suspend"); !s || live.GetNamespace() != ns {
					t.Fatalf("dry-run result of %s: suspend %v namespace %s", obj.GetName(), s, live.GetNamespace())
				}
			}
			// Dry run leaves nothing behind.
			list, err := client.Clientset.BatchV1().CronJobs(ns).List(ctx, metav1.ListOptions{})
			if err != nil || len(list.Items) != 0 {
				t.Fatalf("dry run created %d CronJobs (%v)", len(list.Items), err)
			}
			// What import makes passes ferry's own rules without an error.
			report, err := lint.Run(objs, lint.Config{Namespace: ns, Disabled: []string{"FERRY-ENV-002", "FERRY-ENV-003"}})
			if err != nil || report.Summary.Errors != 0 {
				t.Fatalf("lint of the imported CronJobs: %v %+v", err, report.Findings)
			}
		})
	}
}

func TestImportCrontabPrintsYAMLAndNotes(t *testing.T) {
	code, stdout, stderr := run(t, "import", "crontab", filepath.Join(legacyTestdata, "crontab", "deploy.crontab"), "--image", "shop/web:v1", "--time-zone", "Asia/Tokyo")
	if code != 0 {
		t.Fatalf("exit %d %s", code, stderr)
	}
	objs, err := rendering.Decode([]byte(stdout))
	if err != nil || len(objs) != 16 || objs[0].GetKind() != "CronJob" {
		t.Fatalf("stdout is not 16 CronJobs: %v", err)
	}
	for _, want := range []string{
		"deploy.crontab:38: skipped: @reboot has no CronJob equivalent",
		"deploy.crontab:5: review: MAILTO:",
		"16 CronJobs from 19 entries of " + filepath.Join(legacyTestdata, "crontab", "deploy.crontab") + ", 3 skipped; all suspended until cutover\n",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// secretValues are the values of production.env that its naming rule makes secret.
var secretValues = []string{
	"3f1d9c0b7e5a4d2c8b6a9e7f1c3d5b7a9e1f3c5d7b9a1e3f5c7d9b1a3e5f7c9d", "a1b2c3d4e5f60718293a4b5c6d7e8f90",
	"Sup3r-S3cret-DB", "sk_live_51Hdeadbeefdeadbeefdeadbeef", "pk_live_51Hfeedfacefeedfacefeedface",
	"AKIAEXAMPLEKEYID0001", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "mail-pa55-word", "0123456789abcdef", "nr-0000-license-value",
}

func TestImportEnvNeverPrintsSecretValues(t *testing.T) {
	client, ns := testNamespace(t)
	envFile := filepath.Join(legacyTestdata, "env", "production.env")
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"table", nil},
		{"yaml", []string{"-o", "yaml"}},
		{"json", []string{"-o", "json"}},
		{"table with file", []string{"--secret-out", filepath.Join(dir, "table.yaml")}},
		{"json with file", []string{"-o", "json", "--secret-out", filepath.Join(dir, "json.yaml")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, append([]string{"import", "env", envFile, "--name", "web", "-n", ns}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d %s", code, stderr)
			}
			for _, v := range secretValues {
				if strings.Contains(stdout+stderr, v) {
					t.Fatalf("a secret value is printed: %q\nstdout:\n%s\nstderr:\n%s", v, stdout, stderr)
				}
			}
			if !strings.Contains(stdout, "shop-production-uploads") || !strings.Contains(stdout+stderr, "SECRET_KEY_BASE") {
				t.Fatalf("the ConfigMap's values or the Secret's key names are missing:\n%s\n%s", stdout, stderr)
			}
		})
	}
	// The Secret is only in the file, with every value, readable by its owner only.
	file := filepath.Join(dir, "table.yaml")
	info, err := os.Stat(file)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v %v", info, err)
	}
	data, _ := os.ReadFile(file)
	secrets, err := rendering.Decode(data)
	if err != nil || len(secrets) != 1 || secrets[0].GetKind() != "Secret" || secrets[0].GetName() != "web-secrets" {
		t.Fatalf("secret file: %v %v", secrets, err)
	}
	for _, v := range secretValues {
		if !strings.Contains(string(data), v) {
			t.Errorf("the secret file lacks a value (%d characters)", len(v))
		}
	}
	// Both objects are accepted by the API server.
	_, stdout, _ := run(t, "import", "env", envFile, "--name", "web", "-n", ns)
	configMaps, err := rendering.Decode([]byte(stdout))
	if err != nil || len(configMaps) != 1 {
		t.Fatalf("ConfigMap output: %v", err)
	}
	for _, obj := range []*unstructured.Unstructured{configMaps[0], secrets[0]} {
		if _, err := client.Apply(context.Background(), obj, true); err != nil {
			t.Fatalf("the API server refuses %s: %v", obj.GetKind(), err)
		}
	}
}

// Names and values that the naming rule alone missed go to the Secret; settings stay.
func TestImportEnvKeepsSecretLookingVariablesOutOfTheConfigMap(t *testing.T) {
	secrets := map[string]string{
		"HTTP_BASIC_AUTH":   "admin:Adm1n-Pa55",
		"JWT_SIGNING":       "jwt-signing-value-1",
		"SESSION_COOKIE":    "session-cookie-value-2",
		"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/abcdEFGHijklMNOPqrstUVWX",
		"STRIPE_SK":         "stripe-sk-value-3",
		"NOTIFY_ENDPOINT":   "https://api.example.com/notify?access_token=notify-token-4",
		"LEGACY_BLOB":       "q8ZrT2vLx9NpB4sKwE7mYc",
	}
	var text strings.Builder
	text.WriteString("PORT=8080\nRAILS_ENV=production\nAPP_NAME=shop\nLOG_LEVEL=info\n")
	for name, v := range secrets {
		text.WriteString(name + "=" + v + "\n")
	}
	file := filepath.Join(t.TempDir(), "app.env")
	if err := os.WriteFile(file, []byte(text.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, "import", "env", file, "--name", "web")
	if code != 0 {
		t.Fatalf("exit %d %s", code, stderr)
	}
	for name, v := range secrets {
		if strings.Contains(stdout+stderr, v) || !strings.Contains(stderr, name) {
			t.Errorf("%s: its value is printed, or it is not listed in the Secret:\n%s\n%s", name, stdout, stderr)
		}
	}
	if !strings.Contains(stderr, "ConfigMap web-env: 4 variables") || !strings.Contains(stdout, "LOG_LEVEL: info") {
		t.Errorf("the settings are not in the ConfigMap:\n%s\n%s", stdout, stderr)
	}
}

// backupSecrets are the values of backup.crontab's variable lines that look secret.
var backupSecrets = []string{"Sup3r-S3cret-Backup", "0ther-S3cret-Reports", "abcdEFGHijklMNOPqrstUVWX"}

func TestImportCrontabNeverPrintsSecretValues(t *testing.T) {
	tab := filepath.Join(legacyTestdata, "crontab", "backup.crontab")
	dir := t.TempDir()
	base := []string{"import", "crontab", tab, "--image", "shop/web:v1", "--time-zone", "Etc/UTC", "--secret-name", "backup-secrets"}
	for _, tc := range []struct {
		name, file string
		args       []string
		want       string
	}{
		{"table", "", nil, "Secret backup-secrets: 3 variables (PGPASSWORD, PGPASSWORD.11, SLACK_WEBHOOK_URL), values not shown: pass --secret-out FILE to write it"},
		{"json", "", []string{"-o", "json"}, `"name": "PGPASSWORD.11",`},
		{"table with file", "table.yaml", nil, "Secret backup-secrets: 3 variables (PGPASSWORD, PGPASSWORD.11, SLACK_WEBHOOK_URL), values not shown: written to "},
		{"json with file", "json.yaml", []string{"-o", "json"}, `"file": "`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{}, base...), tc.args...)
			if tc.file != "" {
				args = append(args, "--secret-out", filepath.Join(dir, tc.file))
			}
			code, stdout, stderr := run(t, args...)
			if code != 0 {
				t.Fatalf("exit %d %s", code, stderr)
			}
			for _, v := range backupSecrets {
				if strings.Contains(stdout+stderr, v) {
					t.Fatalf("a secret value is printed: %q\nstdout:\n%s\nstderr:\n%s", v, stdout, stderr)
				}
			}
			if !strings.Contains(stdout+stderr, tc.want) || !strings.Contains(stdout, "secretKeyRef") {
				t.Fatalf("output lacks %q or the jobs' secretKeyRef:\nstdout:\n%s\nstderr:\n%s", tc.want, stdout, stderr)
			}
			if tc.file == "" {
				return
			}
			path := filepath.Join(dir, tc.file)
			info, err := os.Stat(path)
			if err != nil || info.Mode().Perm() != 0o600 {
				t.Fatalf("secret file: %v %v", info, err)
			}
			data, _ := os.ReadFile(path)
			secrets, err := rendering.Decode(data)
			if err != nil || len(secrets) != 1 || secrets[0].GetKind() != "Secret" || secrets[0].GetName() != "backup-secrets" {
				t.Fatalf("secret file: %v %v", secrets, err)
			}
			for _, v := range backupSecrets {
				if !strings.Contains(string(data), v) {
					t.Errorf("the secret file lacks a value (%d characters)", len(v))
				}
			}
		})
	}
	// A crontab without secret variables writes no file and says so.
	out := filepath.Join(dir, "none.yaml")
	code, _, stderr := run(t, "import", "crontab", filepath.Join(legacyTestdata, "crontab", "deploy.crontab"), "--image", "shop/web:v1", "--time-zone", "Etc/UTC", "--secret-out", out)
	if _, err := os.Stat(out); code != 0 || !os.IsNotExist(err) || strings.Contains(stderr, "Secret cron-secrets") {
		t.Fatalf("exit %d, file %v, stderr %s", code, err, stderr)
	}
}

// TestImportCrontabFindsTheUserColumn: a copy of /etc/cron.d/payroll kept under
// another name is read with its user column, and the output says so.
func TestImportCrontabFindsTheUserColumn(t *testing.T) {
	file := filepath.Join(legacyTestdata, "crontab", "app.cron.d")
	code, stdout, stderr := run(t, "import", "crontab", file, "--image", "payroll/web:v1", "--time-zone", "Asia/Tokyo")
	if code != 0 {
		t.Fatalf("exit %d %s", code, stderr)
	}
	objs, err := rendering.Decode([]byte(stdout))
	if err != nil || len(objs) != 4 {
		t.Fatalf("want 4 CronJobs: %d %v", len(objs), err)
	}
	for _, obj := range objs {
		containers, _, _ := unstructured.NestedSlice(obj.Object, "spec", "jobTemplate", "spec", "template", "spec", "containers")
		command, _, _ := unstructured.NestedStringSlice(containers[0].(map[string]any), "command")
		user := obj.GetAnnotations()[legacy.AnnotationLegacyUser]
		if user == "" || len(command) != 3 || strings.Contains(command[2], "www-data") || strings.HasPrefix(command[2], "root") {
			t.Errorf("%s: user %q command %q", obj.GetName(), user, command)
		}
	}
	if !strings.Contains(stderr, "app.cron.d:4: review: read as a system crontab") {
		t.Errorf("stderr does not say how the file was read:\n%s", stderr)
	}
	// --no-system reads it as the user's, as the caller says.
	code, stdout, _ = run(t, "import", "crontab", file, "--no-system", "--image", "payroll/web:v1", "--time-zone", "Asia/Tokyo")
	if code != 0 || !strings.Contains(stdout, "www-data cd /var/www") {
		t.Fatalf("--no-system: exit %d", code)
	}
}

func TestImportBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	userTab := write("user.crontab", "MAILTO=x\n0 3 * * * /usr/bin/backup\n")
	badTab := write("bad.crontab", "# ok\n0 3 * * * /bin/true\n0 25 * * * /bin/false\n")
	badZone := write("zone.crontab", "CRON_TZ=Mars/Base\n@daily /bin/true\n")
	badEnv := write("bad.env", "A=1\nexport hunter2-is-secret\n")
	unclearTab := write("unclear.crontab", "0 3 * * * mytool run\n")
	out := filepath.Join(dir, "secret.yaml")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no file", []string{"import", "crontab"}, ExitUsage, "which file? give it as the argument or with -f"},
		{"no image", []string{"import", "crontab", userTab, "--time-zone", "UTC"}, ExitUsage, "--image is required"},
		{"no time zone", []string{"import", "crontab", userTab, "--image", "a:1"}, ExitUsage, "user.crontab:2: no time zone: pass --time-zone"},
		{"unknown time zone", []string{"import", "crontab", userTab, "--image", "a:1", "--time-zone", "Tokyo"}, ExitUsage, `unknown time zone "Tokyo"`},
		{"bad memory", []string{"import", "crontab", userTab, "--image", "a:1", "--time-zone", "UTC", "--memory", "lots"}, ExitUsage, `resource quantity "lots"`},
		{"short deadline", []string{"import", "crontab", userTab, "--image", "a:1", "--time-zone", "UTC", "--starting-deadline", "1s"}, ExitUsage, "--starting-deadline must be at least 10s"},
		{"missing crontab", []string{"import", "crontab", filepath.Join(dir, "nope"), "--image", "a:1"}, ExitError, "read crontab"},
		{"bad crontab line", []string{"import", "crontab", badTab, "--image", "a:1", "--time-zone", "UTC"}, ExitError, "bad.crontab:3: schedule \"0 25 * * *\""},
		{"user crontab read as system", []string{"import", "crontab", userTab, "--system", "--image", "a:1", "--time-zone", "UTC"}, ExitError, "user.crontab:2: no user column"},
		{"both column flags", []string{"import", "crontab", userTab, "--system", "--no-system", "--image", "a:1", "--time-zone", "UTC"}, ExitUsage, "give --system or --no-system, not both"},
		{"unclear user column", []string{"import", "crontab", unclearTab, "--image", "a:1", "--time-zone", "UTC"}, ExitUsage, `unclear.crontab: cannot tell whether the word after each schedule is the user it ran as (a system crontab, as in /etc/cron.d) or the start of the command (crontab -l): line 1 has "mytool" there: pass --system or --no-system`},
		{"bad CRON_TZ", []string{"import", "crontab", badZone, "--image", "a:1"}, ExitError, `zone.crontab:2: CRON_TZ: unknown time zone "Mars/Base"`},
		{"bad env line", []string{"import", "env", badEnv, "--secret-out", out}, ExitError, "bad.env:2: want NAME=VALUE"},
		{"bad env name flag", []string{"import", "env", badEnv, "--name", "Web_App"}, ExitUsage, `--name "Web_App" must be a lower-case DNS name`},
		{"bad secret name", []string{"import", "crontab", userTab, "--image", "a:1", "--time-zone", "UTC", "--secret-name", "Cron_Secrets"}, ExitUsage, `--secret-name "Cron_Secrets" must be a lower-case DNS name`},
		{"secret-out in a missing directory", []string{"import", "env", filepath.Join(legacyTestdata, "env", "production.env"), "--secret-out", filepath.Join(dir, "no", "s.yaml")}, ExitError, "write secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d stderr %q, want exit %d and %q", code, stderr, tc.code, tc.want)
			}
			if stdout != "" || strings.Contains(stderr, "hunter2") || strings.Count(strings.TrimSpace(stderr), "\n") > 1 {
				t.Fatalf("stdout %q stderr %q: want one error line only", stdout, stderr)
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("a failed import wrote the secret file: %v", err)
	}
}

// TestImportReadsItsFileFromTheArgumentOrDashF: -f names the file a command reads,
// as everywhere else; the argument still works; both, or neither, is a usage error.
func TestImportReadsItsFileFromTheArgumentOrDashF(t *testing.T) {
	env := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(env, []byte("APP_NAME=payroll\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"import", "env", env}, {"import", "env", "-f", env}, {"import", "env", "--file", env}} {
		code, stdout, stderr := run(t, args...)
		if code != ExitOK || !strings.Contains(stdout, "APP_NAME: payroll") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	for _, args := range [][]string{{"import", "env", env, "-f", env}, {"import", "env"}, {"import", "crontab", "--image", "r/x:1"}} {
		if code, _, stderr := run(t, args...); code != ExitUsage || strings.Count(stderr, "ferry:") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want a usage error", args, code, stderr)
		}
	}
}
