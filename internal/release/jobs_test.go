package release_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"ferry.dev/ferry/internal/devcluster/devclustertest"
	"ferry.dev/ferry/internal/release"
)

// addManifest copies testdata/jobs/name into the app's manifests.
func (f *fixture) addManifest(name string) {
	f.t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "jobs", name))
	if err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.dir, "k8s", name), data, 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) job(name string) *batchv1.Job {
	f.t.Helper()
	j, err := f.client.Clientset.BatchV1().Jobs(f.ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatalf("job %s: %v", name, err)
	}
	return j
}

func complete(j *batchv1.Job) bool {
	for _, c := range j.Status.Conditions {
		if c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// assertJobRan checks that the Job is a new one (not any of before), ran command and
// completed, and that the pods of the Jobs it replaced are gone.
func (f *fixture) assertJobRan(name string, command string, before ...types.UID) *batchv1.Job {
	f.t.Helper()
	j := f.job(name)
	for _, uid := range before {
		if j.UID == uid {
			f.t.Fatalf("job %s still has UID %s: it was not re-created", name, uid)
		}
	}
	if got := strings.Join(j.Spec.Template.Spec.Containers[0].Command, " "); got != command {
		f.t.Errorf("job %s runs %q, want %q", name, got, command)
	}
	if !complete(j) {
		f.t.Errorf("job %s not complete after the deploy: %+v", name, j.Status)
	}
	for _, uid := range before {
		devclustertest.WaitFor(f.t, 30*time.Second, "the pods of the replaced job "+string(uid)+" to go", func(ctx context.Context) (bool, error) {
			pods, err := f.client.Clientset.CoreV1().Pods(f.ns).List(ctx, metav1.ListOptions{
				LabelSelector: batchv1.ControllerUidLabel + "=" + string(uid),
			})
			return err == nil && len(pods.Items) == 0, nil
		})
	}
	return j
}

func TestJobWithAChangedTemplateIsRecreated(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.addManifest("db-migrate.yaml")
	f.mustDeploy("shop/web:v1")
	v1 := f.assertJobRan("db-migrate", "bin/rails db:migrate")

	f.edit("db-migrate.yaml", "command: [bin/rails, db:migrate]", "command: [bin/rails, db:migrate, data:backfill]")
	f.progress.Reset()
	res := f.mustDeploy("shop/web:v2")
	if res.Release.Status != release.StatusDeployed || res.RolledBack != nil {
		t.Fatalf("deploy with a changed job: %+v", res)
	}
	if !strings.Contains(f.progress.String(), "job db-migrate: template changed, re-created") {
		t.Errorf("the progress does not say the job was re-created:\n%s", f.progress.String())
	}
	v2 := f.assertJobRan("db-migrate", "bin/rails db:migrate data:backfill", v1.UID)
	if img := v2.Spec.Template.Spec.Containers[0].Image; img != "shop/web:v2" {
		t.Errorf("re-created job runs %s, want shop/web:v2", img)
	}

	// A rollback to revision 1 re-creates revision 1's Job the same way.
	f.progress.Reset()
	if _, err := release.Rollback(ctx, f.config(), 1); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(f.progress.String(), "job db-migrate: template changed, re-created") {
		t.Errorf("the rollback's progress does not say the job was re-created:\n%s", f.progress.String())
	}
	f.assertJobRan("db-migrate", "bin/rails db:migrate", v1.UID, v2.UID)
	if got := statuses(f.history()); got != "1:superseded 2:superseded 3:deployed" {
		t.Fatalf("history %s", got)
	}

	// Unchanged (revision 1's manifests and image again), the Job is left as it is.
	v3 := f.job("db-migrate")
	f.edit("db-migrate.yaml", "command: [bin/rails, db:migrate, data:backfill]", "command: [bin/rails, db:migrate]")
	f.mustDeploy("shop/web:v1")
	if f.job("db-migrate").UID != v3.UID {
		t.Error("an unchanged job was re-created")
	}
}

func TestJobNotFerrysIsNeverRecreated(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	data, err := os.ReadFile(filepath.Join("testdata", "jobs", "legacy-report.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var manual batchv1.Job
	if err := yaml.Unmarshal(data, &manual); err != nil {
		t.Fatal(err)
	}
	created, err := f.client.Clientset.BatchV1().Jobs(f.ns).Create(ctx, &manual, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.mustDeploy("shop/web:v1")

	f.addManifest("legacy-report.yaml")
	f.edit("legacy-report.yaml", "--daily", "--weekly")
	_, err = f.deploy("shop/web:v2")
	if !errors.Is(err, release.ErrRejected) {
		t.Fatalf("deploy over a job ferry does not own: %v, want ErrRejected", err)
	}
	for _, want := range []string{"job/legacy-report", "not ferry's", "delete it"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q should contain %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "\n") || len(err.Error()) > 400 {
		t.Errorf("error should be one short line: %q", err)
	}
	if j := f.job("legacy-report"); j.UID != created.UID || j.DeletionTimestamp != nil {
		t.Fatal("a job ferry does not own was deleted")
	}
	if got := statuses(f.history()); got != "1:deployed" {
		t.Errorf("history %s: a refused deploy must record nothing", got)
	}
}
