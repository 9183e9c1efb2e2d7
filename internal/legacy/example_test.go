package legacy_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"ferry.dev/ferry/internal/legacy"
	"ferry.dev/ferry/internal/render"
)

var payroll = filepath.Join("..", "..", "examples", "payroll")

func readManifests(t *testing.T, name string) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(payroll, "k8s", name))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := render.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// TestPayrollExampleIsWhatImportMakes: the Laravel example's CronJobs, ConfigMap and
// Secret are what ferry import makes of its legacy crontab and .env, so the example
// shows the import as it is.
func TestPayrollExampleIsWhatImportMakes(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(payroll, "legacy", "crontab"))
	if err != nil {
		t.Fatal(err)
	}
	tab, err := legacy.ReadCrontab("legacy/crontab", data, legacy.DetectUserColumn)
	if err != nil {
		t.Fatal(err)
	}
	cronJobs, notes, err := legacy.CronJobs(tab, legacy.CronJobConfig{
		Image: "registry.example.com/payroll/web:2026.11.21-4f3c2a1", TimeZone: "Asia/Tokyo", Container: "web", Namespace: "payroll",
		ConfigMaps: []string{"payroll-env"}, Secrets: []string{"payroll-secrets"}, CPU: "250m", Memory: "512Mi",
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, cj := range cronJobs {
		names = append(names, cj.GetName())
	}
	if want := []string{"schedule-run", "queue-work", "payroll-close-day", "payroll-close-month", "reports-daily-headcount"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("CronJobs %v, want %v", names, want)
	}
	skipped := 0
	for _, n := range notes {
		if n.Kind == legacy.Skipped {
			skipped++
		}
	}
	if skipped != 1 {
		t.Fatalf("%d entries skipped, want the @reboot one: %v", skipped, notes)
	}
	if got := readManifests(t, "cronjobs.yaml"); !reflect.DeepEqual(objects(got), objects(cronJobs)) {
		t.Fatalf("examples/payroll/k8s/cronjobs.yaml is not what import makes: run the command at its top again")
	}

	env, err := os.ReadFile(filepath.Join(payroll, "legacy", "shared", ".env"))
	if err != nil {
		t.Fatal(err)
	}
	vars, _, err := legacy.ParseDotenv(".env", env)
	if err != nil {
		t.Fatal(err)
	}
	cfg := legacy.EnvConfig{ConfigMap: "payroll-env", Secret: "payroll-secrets", Namespace: "payroll"}
	cm, secret, err := legacy.EnvObjects(vars, legacy.Split(vars, cfg), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]*unstructured.Unstructured{"configmap.yaml": cm, "secret.yaml": secret} {
		if got := readManifests(t, file); !reflect.DeepEqual(objects(got), objects([]*unstructured.Unstructured{want})) {
			t.Errorf("examples/payroll/k8s/%s is not what ferry import env makes of legacy/shared/.env", file)
		}
	}
}

// objects are the objects as YAML reads them back, so that numbers compare alike.
func objects(objs []*unstructured.Unstructured) []map[string]any {
	var out []map[string]any
	for _, o := range objs {
		data, err := o.MarshalJSON()
		if err != nil {
			panic(err)
		}
		back, err := render.Decode(data)
		if err != nil {
			panic(err)
		}
		out = append(out, back[0].Object)
	}
	return out
}
