package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"ferry.dev/ferry/internal/app"
	"ferry.dev/ferry/internal/devcluster/devclustertest"
	"ferry.dev/ferry/internal/kube"
	"ferry.dev/ferry/internal/plan"
	manifests "ferry.dev/ferry/internal/render"
)

// initCases are the example apps' legacy inputs: payroll had Capistrano, a crontab and
// a .env; shop, a Go binary, only a port and a health path.
var initCases = []struct {
	name string
	args []string
	// objects is how many objects the base holds.
	objects int
}{
	{"payroll", []string{"--app", "payroll", "--image", "registry.example.com/payroll/web:2026.11.21-4f3c2a1", "--port", "8080", "--health-path", "/up",
		"--capistrano", "../../examples/payroll/legacy/config/deploy.rb", "--crontab", "../../examples/payroll/legacy/crontab",
		"--env", "../../examples/payroll/legacy/shared/.env", "--time-zone", "Asia/Tokyo"}, 10},
	{"shop", []string{"--app", "shop", "--image", "registry.example.com/shop/web:2026.11.21-4f3c2a1", "--port", "8080", "--health-path", "/healthz"}, 3},
}

// Given the legacy inputs, ferry init writes a base that ferry lint passes with no
// finding (pod-security rules included), the API server accepts in a server-side dry
// run, and a migration plan that loads; a second run refuses to overwrite it.
func TestInitWritesALintCleanBase(t *testing.T) {
	cfg := devclustertest.RESTConfig(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	client, err := kube.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range initCases {
		t.Run(tc.name, func(t *testing.T) {
			ns := devclustertest.Namespace(t, cs, "init-"+tc.name)
			dir := filepath.Join(t.TempDir(), tc.name)
			code, _, stderr := run(t, append([]string{"init", dir, "-n", ns}, tc.args...)...)
			if code != ExitOK {
				t.Fatalf("init: exit %d\n%s", code, stderr)
			}
			code, stdout, stderr := run(t, "lint", "-f", filepath.Join(dir, "ferry.yaml"), "--fail-on", "info")
			if code != ExitOK || !strings.Contains(stdout+stderr, "0 errors, 0 warnings, 0 info") {
				t.Fatalf("lint: exit %d\n%s%s", code, stdout, stderr)
			}
			def, err := app.Load(filepath.Join(dir, "ferry.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			objs, err := manifests.Source(def)
			if err != nil {
				t.Fatal(err)
			}
			if len(objs) != tc.objects {
				t.Fatalf("%d objects, want %d", len(objs), tc.objects)
			}
			kube.SortForApply(objs)
			for _, obj := range objs {
				if _, err := client.Apply(context.Background(), obj, true); err != nil {
					t.Errorf("server-side dry run of %s: %v", kube.RefOf(obj), err)
				}
			}
			if _, err := plan.Load(filepath.Join(dir, "migration.yaml")); err != nil {
				t.Fatalf("migration.yaml: %v", err)
			}
			if info, err := os.Stat(filepath.Join(dir, "k8s", "secret.yaml")); err == nil && info.Mode().Perm() != 0o600 {
				t.Errorf("secret.yaml has mode %v, want 0600", info.Mode().Perm())
			}

			code, _, stderr = run(t, append([]string{"init", dir, "-n", ns}, tc.args...)...)
			if code != ExitUsage || strings.Count(stderr, "\n") != 2 || !strings.Contains(stderr, "exists: pass --force to overwrite it") {
				t.Fatalf("a second init: exit %d\n%s", code, stderr)
			}
			if code, _, stderr = run(t, append([]string{"init", dir, "-n", ns, "--force"}, tc.args...)...); code != ExitOK {
				t.Fatalf("init --force: exit %d\n%s", code, stderr)
			}
		})
	}
}

// ferry deploy ships what ferry init wrote to the local control plane.
func TestDeployShipsWhatInitWrote(t *testing.T) {
	cs := kubernetes.NewForConfigOrDie(devclustertest.RESTConfig(t))
	ns := devclustertest.Namespace(t, cs, "init-deploy")
	dir := filepath.Join(t.TempDir(), "payroll")
	code, _, stderr := run(t, append([]string{"init", dir, "-n", ns}, initCases[0].args...)...)
	if code != ExitOK {
		t.Fatalf("init: exit %d\n%s", code, stderr)
	}
	file := filepath.Join(dir, "ferry.yaml")
	code, _, stderr = run(t, ferryArgs(file, "deploy", "--image", "registry.example.com/payroll/web:2026.11.22-9a8b7c6")...)
	if code != ExitOK {
		t.Fatalf("deploy: exit %d\n%s", code, stderr)
	}
	d, err := cs.AppsV1().Deployments(ns).Get(context.Background(), "payroll", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if img := d.Spec.Template.Spec.Containers[0].Image; img != "registry.example.com/payroll/web:2026.11.22-9a8b7c6" {
		t.Fatalf("deployed image %s", img)
	}
	jobs, err := cs.BatchV1().CronJobs(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil || len(jobs.Items) == 0 {
		t.Fatalf("CronJobs: %v, %d", err, len(jobs.Items))
	}
	for _, j := range jobs.Items {
		if j.Spec.Suspend == nil || !*j.Spec.Suspend {
			t.Errorf("CronJob %s is not suspended", j.Name)
		}
	}
	if h := history(t, file); len(h) != 1 {
		t.Fatalf("%d revisions, want 1", len(h))
	}
}
