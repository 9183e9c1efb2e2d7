package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"ferry.dev/ferry/internal/devcluster/devclustertest"
)

// TestMigrateValidate runs the plan's preflight against a real proxy and a real
// control plane: every check is printed, a failure does not hide the others, and
// nothing changes (no state file, the weights and the CronJob as they were).
func TestMigrateValidate(t *testing.T) {
	plan, p, _ := migrationFixture(t, 50)
	cs, err := kubernetes.NewForConfig(devclustertest.RESTConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	ns := devclustertest.Namespace(t, cs, "cli-validate")
	cron := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "nightly", Labels: map[string]string{"app": "shop"}},
		Spec: batchv1.CronJobSpec{Schedule: "0 3 * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
			Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "job", Image: "shop/job:v1"}}},
		}}}},
	}
	if _, err := cs.BatchV1().CronJobs(ns).Create(context.Background(), cron, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(plan)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) string {
		path := filepath.Join(filepath.Dir(plan), name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	withCron := write("cron.yaml", string(data)+fmt.Sprintf("cronJobs: {namespace: %s, selector: app=shop}\n", ns))
	noCron := write("nocron.yaml", string(data)+fmt.Sprintf("cronJobs: {namespace: %s, selector: app=nothing}\n", ns))
	unreachable := write("unreachable.yaml", strings.Replace(string(data), "http://"+p.AdminAddr(), "http://127.0.0.1:1", 1))
	kubeconfig := devclustertest.Kubeconfig(t)
	before, _ := p.Weights(context.Background())

	for _, tc := range []struct {
		name string
		plan string
		code int
		// want are lines (check, status, words of the detail) that must be printed.
		want [][3]string
	}{
		{"all pass", withCron, 0, [][3]string{
			{"plan", "ok", "cli: 3 steps, 10% → 50% → 100% (the last judged at 75% first)"},
			{"router", "ok", "weights now legacy 100% / kubernetes 0%"},
			{"metrics", "ok", "answered; last minute"},
			{"gates", "ok", "error-rate, latency"},
			{"cronJobs", "ok", "nightly (to suspend)"},
			{"state", "ok", "nothing recorded: start begins at step 1"},
		}},
		{"no cronjob matches", noCron, ExitError, [][3]string{
			{"router", "ok", ""},
			{"cronJobs", "FAILED", "app=nothing"},
			{"state", "ok", ""},
		}},
		{"router unreachable", unreachable, ExitError, [][3]string{
			{"router", "FAILED", "127.0.0.1:1"},
			{"metrics", "FAILED", ""},
			{"gates", "ok", ""},
			{"state", "ok", ""},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, "migrate", "validate", "--plan", tc.plan, "--kubeconfig", kubeconfig)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tc.code, stdout, stderr)
			}
			lines := strings.Split(stdout, "\n")
			for _, w := range tc.want {
				found := false
				for _, l := range lines {
					f := strings.Fields(l)
					found = found || (len(f) >= 2 && f[0] == w[0] && f[1] == w[1] && strings.Contains(l, w[2]))
				}
				if !found {
					t.Errorf("no line %q %q with %q in:\n%s", w[0], w[1], w[2], stdout)
				}
			}
			if tc.code != 0 && (!strings.Contains(stderr, "checks failed") || strings.Count(stderr, "\n") != 1) {
				t.Errorf("stderr %q; want one line saying how many checks failed", stderr)
			}
			code, stdout, _ = run(t, "migrate", "validate", "--plan", tc.plan, "--kubeconfig", kubeconfig, "-o", "json")
			var checks []validateCheck
			if err := json.Unmarshal([]byte(stdout), &checks); err != nil || code != tc.code {
				t.Fatalf("-o json: exit %d, %v\n%s", code, err, stdout)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(plan), ".ferry")); !os.IsNotExist(err) {
		t.Errorf("validate wrote a state: %v", err)
	}
	if after, _ := p.Weights(context.Background()); after != before {
		t.Errorf("validate moved the weights from %s to %s", before, after)
	}
	got, err := cs.BatchV1().CronJobs(ns).Get(context.Background(), "nightly", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Spec.Suspend != nil && *got.Spec.Suspend {
		t.Errorf("validate suspended the CronJob")
	}
}
