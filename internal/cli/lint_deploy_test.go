package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestDeployRunsLintFirst: an error-severity finding refuses the deploy with nothing
// changed and nothing recorded; warnings are printed and do not block; --skip-lint
// deploys anyway.
func TestDeployRunsLintFirst(t *testing.T) {
	file, ns, cs := appDir(t, 1)
	cron := strings.Replace(lintCron, "containers:\n          - name: web\n            image: shop/web:v1", "containers:\n          - name: web\n            image: shop/web:placeholder", 1)
	if err := os.WriteFile(filepath.Join(filepath.Dir(file), "k8s", "cron.yaml"), []byte(cron), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, ferryArgs(file, "deploy", "--image", "shop/web:v1")...)
	if code != ExitError || stdout != "" {
		t.Fatalf("exit %d stdout %q, want exit 1 and nothing", code, stdout)
	}
	for _, want := range []string{
		"lint error FERRY-CRON-001 cronjob/nightly: suspend is set (true) but startingDeadlineSeconds is not",
		"lint warning FERRY-RES-001 deployment/web:",
		"ferry: preflight checks failed: 1 error (FERRY-CRON-001 cronjob/nightly): fix them, or annotate the object ferry.dev/lint-ignore: ID, or pass --skip-lint\n",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if h := history(t, file); len(h) != 0 {
		t.Fatalf("a refused deploy recorded %d revisions", len(h))
	}
	if _, err := cs.BatchV1().CronJobs(ns).Get(context.Background(), "nightly", metav1.GetOptions{}); err == nil {
		t.Fatal("a refused deploy created the CronJob")
	}
	code, _, stderr = run(t, ferryArgs(file, "deploy", "--image", "shop/web:v1", "--skip-lint")...)
	if code != 0 || strings.Contains(stderr, "lint ") {
		t.Fatalf("--skip-lint: exit %d, stderr:\n%s", code, stderr)
	}
	// Annotating the object switches the rule off for it; the mutable tag allowed by
	// --allow-mutable-tag is the deployed image's, which the image rule leaves alone.
	annotated := strings.Replace(cron, "metadata: {name: nightly}", "metadata: {name: nightly, annotations: {ferry.dev/lint-ignore: FERRY-CRON-001}}", 1)
	if err := os.WriteFile(filepath.Join(filepath.Dir(file), "k8s", "cron.yaml"), []byte(annotated), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = run(t, ferryArgs(file, "deploy", "--image", "shop/web:latest", "--allow-mutable-tag")...)
	if code != 0 || strings.Contains(stderr, "lint error") {
		t.Fatalf("annotated: exit %d, stderr:\n%s", code, stderr)
	}
	if h := history(t, file); len(h) != 2 {
		t.Fatalf("%d revisions, want 2", len(h))
	}
}
