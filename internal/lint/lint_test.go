package lint

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"ferry.dev/ferry/internal/app"
	"ferry.dev/ferry/internal/legacy"
	"ferry.dev/ferry/internal/render"
)

func decode(t *testing.T, text string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := render.Decode([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

const cronNoDeadline = `apiVersion: batch/v1
kind: CronJob
metadata: {name: a, annotations: {ferry.dev/lint-ignore: "FERRY-RES-001 FERRY-RES-002"}}
spec:
  schedule: "0 0 * * *"
  suspend: true
  jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: job, image: app:1, securityContext: {` + hardened + `}}],
    securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}}}}}
`

// hardened is a container securityContext that the pod-security rules accept.
const hardened = "allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}"

func TestRunCountsIgnoresAndDisables(t *testing.T) {
	objs := decode(t, cronNoDeadline)
	r, err := Run(objs, Config{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range r.Findings {
		ids = append(ids, f.Rule)
	}
	want := []string{"FERRY-CRON-001", "FERRY-CRON-002", "FERRY-CRON-003", "FERRY-CRON-005", "FERRY-CRON-006"}
	if !reflect.DeepEqual(ids, want) {
		t.Fatalf("findings %v, want %v (RES rules ignored by annotation)", ids, want)
	}
	if r.Summary != (Summary{Objects: 1, Errors: 1, Warnings: 3, Info: 1}) {
		t.Fatalf("summary %+v", r.Summary)
	}
	if worst, ok := r.Worst(); !ok || worst != Error {
		t.Fatalf("worst %v %v", worst, ok)
	}
	if r.Findings[0].Object != (ObjectRef{APIVersion: "batch/v1", Kind: "CronJob", Name: "a"}) {
		t.Fatalf("object %+v", r.Findings[0].Object)
	}
	r, err = Run(objs, Config{Disabled: []string{"FERRY-CRON-001", "FERRY-CRON-002", "FERRY-CRON-003", "FERRY-CRON-006"}})
	if err != nil || r.Summary != (Summary{Objects: 1, Info: 1}) {
		t.Fatalf("disabled: %+v %v", r.Summary, err)
	}
	if worst, ok := r.Worst(); !ok || worst != Info {
		t.Fatalf("worst %v %v", worst, ok)
	}
	if _, err := Run(objs, Config{Disabled: []string{"FERRY-NOPE-1"}}); !errors.Is(err, ErrUnknownRule) {
		t.Fatalf("unknown rule: %v", err)
	}
	r, _ = Run(nil, Config{})
	if _, ok := r.Worst(); ok || r.Findings == nil {
		t.Fatalf("an empty run found something, or has a nil list: %+v", r)
	}
}

func TestRollingBounds(t *testing.T) {
	pct := func(s string) *intstr.IntOrString { v := intstr.FromString(s); return &v }
	num := func(n int) *intstr.IntOrString { v := intstr.FromInt32(int32(n)); return &v }
	for _, tc := range []struct {
		ru                 *appsv1.RollingUpdateDeployment
		replicas           int32
		unavailable, surge int32
	}{
		{nil, 1, 0, 1},
		{nil, 4, 1, 1},
		{nil, 10, 2, 3},
		{&appsv1.RollingUpdateDeployment{MaxUnavailable: num(0), MaxSurge: num(0)}, 5, 1, 0},
		{&appsv1.RollingUpdateDeployment{MaxUnavailable: pct("100%")}, 3, 3, 1},
		{&appsv1.RollingUpdateDeployment{MaxUnavailable: pct("50%"), MaxSurge: num(0)}, 3, 1, 0},
	} {
		u, s := rollingBounds(tc.ru, tc.replicas)
		if u != tc.unavailable || s != tc.surge {
			t.Errorf("%+v x%d: unavailable %d surge %d, want %d %d", tc.ru, tc.replicas, u, s, tc.unavailable, tc.surge)
		}
	}
}

func TestPreStopSeconds(t *testing.T) {
	for _, tc := range []struct {
		hook *corev1.LifecycleHandler
		want int64
	}{
		{nil, 0},
		{&corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 12}}, 12},
		{&corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"sleep", "7"}}}, 7},
		{&corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"/bin/sh", "-c", "sleep 15 && kill -QUIT 1"}}}, 15},
		{&corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"/bin/sh", "-c", "nosleep 15"}}}, 0},
		{&corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/drain"}}, 0},
	} {
		c := &corev1.Container{}
		if tc.hook != nil {
			c.Lifecycle = &corev1.Lifecycle{PreStop: tc.hook}
		}
		if got := preStopSeconds(c); got != tc.want {
			t.Errorf("%+v: %d, want %d", tc.hook, got, tc.want)
		}
	}
}

// TestExampleAppsAreClean keeps the example apps, which make demo deploys, free of
// findings: the Rails shop, and the Laravel payroll compared with what its legacy
// servers had (its .env and Capistrano config, the framework told by its files).
func TestExampleAppsAreClean(t *testing.T) {
	for _, example := range []string{"shop", "payroll"} {
		t.Run(example, func(t *testing.T) {
			dir := filepath.Join("..", "..", "examples", example)
			def, err := app.Load(filepath.Join(dir, "ferry.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			objs, err := render.Source(def)
			if err != nil {
				t.Fatal(err)
			}
			cfg := Config{Namespace: def.Namespace, AppContainers: def.Image.Containers}
			if example == "payroll" {
				cfg.Legacy = payrollLegacy(t, filepath.Join(dir, "legacy"))
				if cfg.Legacy.Framework != "laravel" || len(cfg.Legacy.Linked) != 4 || len(cfg.Legacy.Vars) < 20 {
					t.Fatalf("legacy inputs of examples/payroll: %+v", cfg.Legacy)
				}
			}
			r, err := Run(objs, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Findings) != 0 {
				t.Fatalf("examples/%s: %+v", example, r.Findings)
			}
		})
	}
}

// payrollLegacy reads the example's legacy inputs as ferry lint --env-file
// --capistrano does.
func payrollLegacy(t *testing.T, root string) Legacy {
	t.Helper()
	var out Legacy
	env, err := os.ReadFile(filepath.Join(root, "shared", ".env"))
	if err != nil {
		t.Fatal(err)
	}
	vars, _, err := legacy.ParseDotenv(".env", env)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vars {
		out.Vars = append(out.Vars, LegacyVar{Name: v.Name, Source: ".env"})
	}
	deployRB := filepath.Join(root, "config", "deploy.rb")
	data, err := os.ReadFile(deployRB)
	if err != nil {
		t.Fatal(err)
	}
	linked, err := legacy.ParseCapistrano(deployRB, data)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range linked {
		out.Linked = append(out.Linked, LegacyPath{Path: l.Path, Dir: l.Dir, Source: "deploy.rb"})
	}
	f, _ := legacy.DetectFramework(legacy.FrameworkEvidence{Root: legacy.AppRoot(deployRB), Capistrano: data})
	out.Framework = string(f)
	return out
}

func TestLocate(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", "# header\n---\n\n# the config\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: one}\n--- # next\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: two}}\n")
	write("b.json", `{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "three", "namespace": "x"}}`)
	write("c.txt", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ignored}\n")
	write("d.yaml", "not: [valid\n")
	got := Locate(dir)
	want := map[ObjectRef]Location{
		{APIVersion: "v1", Kind: "ConfigMap", Name: "one"}:                 {File: filepath.Join(dir, "a.yaml"), Line: 5},
		{APIVersion: "v1", Kind: "Secret", Name: "two"}:                    {File: filepath.Join(dir, "a.yaml"), Line: 9},
		{APIVersion: "v1", Kind: "Service", Namespace: "x", Name: "three"}: {File: filepath.Join(dir, "b.json"), Line: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Locate\n%v\nwant\n%v", got, want)
	}
}
