package cutover_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"ferry.dev/ferry/internal/cutover"
	"ferry.dev/ferry/internal/devcluster/devclustertest"
)

func TestMain(m *testing.M) { devclustertest.Main(m) }

func cronJob(name, app, schedule string, suspend bool, deadline *int64) *batchv1.CronJob {
	return &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": app}},
		Spec: batchv1.CronJobSpec{
			Schedule: schedule, Suspend: &suspend, StartingDeadlineSeconds: deadline,
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"cronjob": name}},
				Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					Containers:    []corev1.Container{{Name: "job", Image: "registry.example/shop:1", Command: []string{"bin/rails", "runner", "Payroll.close_day"}}},
				}}},
			},
		},
	}
}

func create(t *testing.T, kc kubernetes.Interface, ns string, cjs ...*batchv1.CronJob) {
	t.Helper()
	for _, cj := range cjs {
		if _, err := kc.BatchV1().CronJobs(ns).Create(context.Background(), cj, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

func get(t *testing.T, kc kubernetes.Interface, ns, name string) *batchv1.CronJob {
	t.Helper()
	cj, err := kc.BatchV1().CronJobs(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cj
}

type logLines []string

func (l *logLines) logf(format string, args ...any) { *l = append(*l, fmt.Sprintf(format, args...)) }

func TestHoldThenReleaseWithAStartingDeadline(t *testing.T) {
	kc := kubernetes.NewForConfigOrDie(devclustertest.RESTConfig(t))
	ns := devclustertest.Namespace(t, kc, "cutover")
	thirty := int64(30)
	create(t, kc, ns,
		cronJob("payroll-close", "shop", "0 0 * * *", false, nil),
		cronJob("cleanup", "shop", "0 * * * *", true, &thirty),
		cronJob("other-app", "blog", "0 0 * * *", false, nil))
	crontab := filepath.Join(t.TempDir(), "crontab")
	if err := os.WriteFile(crontab, []byte("MAILTO=ops@example.com\n0 0 * * * cd /srv/shop/current && bin/rails runner 'Payroll.close_day'\n@hourly /srv/shop/current/bin/cleanup\n30 2 * * * /srv/shop/current/bin/backup\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := cutover.New(cutover.Config{Kube: kc, Namespace: ns, Selector: "app=shop", LegacyCrontab: crontab})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var log logLines
	if err := c.Hold(ctx, log.logf); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"payroll-close": true, "cleanup": true, "other-app": false} {
		if got := *get(t, kc, ns, name).Spec.Suspend; got != want {
			t.Errorf("after Hold, %s suspended %v, want %v", name, got, want)
		}
	}
	if len(log) != 1 || !strings.Contains(log[0], "cleanup, payroll-close (suspended now)") {
		t.Errorf("Hold logged %q", log)
	}
	log = nil
	for range 2 { // twice: the runner may call it again after a failure
		if err := c.Release(ctx, log.logf); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string]int64{"payroll-close": cutover.DefaultStartingDeadlineSeconds, "cleanup": 30} {
		cj := get(t, kc, ns, name)
		if *cj.Spec.Suspend || cj.Spec.StartingDeadlineSeconds == nil || *cj.Spec.StartingDeadlineSeconds != want {
			t.Errorf("after Release, %s suspend %v deadline %v, want resumed with %d", name, *cj.Spec.Suspend, cj.Spec.StartingDeadlineSeconds, want)
		}
	}
	if cj := get(t, kc, ns, "other-app"); cj.Spec.StartingDeadlineSeconds != nil {
		t.Error("Release changed a CronJob the selector does not pick")
	}
	text := strings.Join(log, "\n")
	for _, want := range []string{
		"stop these entries of the legacy crontab " + crontab + " now",
		"0 0 * * * cd /srv/shop/current && bin/rails runner 'Payroll.close_day'    (now CronJob payroll-close)",
		"@hourly /srv/shop/current/bin/cleanup    (now CronJob cleanup)",
		"  30 2 * * * /srv/shop/current/bin/backup\n",
	} {
		if !strings.Contains(text+"\n", want) {
			t.Errorf("Release's log lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "MAILTO") {
		t.Errorf("a variable assignment is listed as a job:\n%s", text)
	}

	none, err := cutover.New(cutover.Config{Kube: kc, Namespace: ns, Selector: "app=shopp"})
	if err != nil {
		t.Fatal(err)
	}
	if err := none.Hold(ctx, log.logf); !errors.Is(err, cutover.ErrNoCronJobs) || !strings.Contains(err.Error(), "app=shopp in namespace "+ns) {
		t.Fatalf("a selector matching nothing: %v", err)
	}
}

// The cronjob controller of the local control plane runs a missed schedule when a
// CronJob resumes; with startingDeadlineSeconds, a schedule missed by more than that
// creates no Job. Both CronJobs below run daily at a time 90 minutes ago (so the
// test does not depend on the clock), last ran two days ago and have been suspended
// since; "control" resumes without a deadline and gets a Job for the latest missed
// schedule, "guarded" is released by Cutover and gets none.
//
// That guarded got none is known once the controller has synced it after the
// release: its status then lists a reference to a Job that does not exist, which
// the controller drops in the same pass that would have created the Job, and the
// test watches for it to go.
func TestNoJobForSchedulesMissedWhileSuspended(t *testing.T) {
	kc := kubernetes.NewForConfigOrDie(devclustertest.RESTConfig(t))
	ns := devclustertest.Namespace(t, kc, "cutover")
	ctx := context.Background()
	const deadline = 10
	missed := time.Now().UTC().Add(-90 * time.Minute).Truncate(time.Minute)
	schedule := fmt.Sprintf("%d %d * * *", missed.Minute(), missed.Hour())
	for _, name := range []string{"guarded", "control"} {
		cj := cronJob(name, name, schedule, true, nil)
		cj.Spec.TimeZone = ptr.To("Etc/UTC")
		create(t, kc, ns, cj)
		patchStatus(t, kc, ns, name, map[string]any{"lastScheduleTime": metav1.NewTime(missed.Add(-48 * time.Hour))})
	}

	c, err := cutover.New(cutover.Config{Kube: kc, Namespace: ns, Selector: "app=guarded", StartingDeadlineSeconds: deadline})
	if err != nil {
		t.Fatal(err)
	}
	var log logLines
	if err := c.Release(ctx, log.logf); err != nil {
		t.Fatal(err)
	}
	patchStatus(t, kc, ns, "guarded", map[string]any{"active": []corev1.ObjectReference{{
		APIVersion: "batch/v1", Kind: "Job", Namespace: ns, Name: "guarded-sentinel", UID: "00000000-0000-0000-0000-000000000000",
	}}})
	if _, err := kc.BatchV1().CronJobs(ns).Patch(ctx, "control", types.MergePatchType, []byte(`{"spec":{"suspend":false}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}

	guarded := devclustertest.Named(kc.BatchV1().RESTClient(), "cronjobs", ns, "guarded")
	devclustertest.WatchFor(t, time.Minute, "the cronjob controller to sync guarded after its release", guarded, func(cj *batchv1.CronJob) bool {
		for _, ref := range cj.Status.Active {
			if ref.Name == "guarded-sentinel" {
				return false
			}
		}
		return true
	})
	jobs := func(cronJob string) []batchv1.Job {
		list, err := kc.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{LabelSelector: "cronjob=" + cronJob})
		if err != nil {
			t.Fatal(err)
		}
		return list.Items
	}
	if got := jobs("guarded"); len(got) != 0 {
		t.Fatalf("guarded got Job %s for a schedule missed while it was suspended", got[0].Name)
	}
	if cj := get(t, kc, ns, "guarded"); *cj.Spec.Suspend || *cj.Spec.StartingDeadlineSeconds != deadline {
		t.Fatalf("guarded not resumed with its deadline: %+v", cj.Spec)
	}

	controlJobs := cache.NewListWatchFromClient(kc.BatchV1().RESTClient(), "jobs", ns, fields.Everything())
	job := devclustertest.WatchFor(t, time.Minute, "control's Job for its missed schedule", controlJobs, func(j *batchv1.Job) bool {
		return j.Labels["cronjob"] == "control"
	})
	if want := fmt.Sprintf("control-%d", missed.Unix()/60); job.Name != want {
		t.Fatalf("control's Job %s, want %s: the one for the latest missed schedule", job.Name, want)
	}
}

// patchStatus merges status into CronJob name's status.
func patchStatus(t *testing.T, kc kubernetes.Interface, ns, name string, status map[string]any) {
	t.Helper()
	patch, err := json.Marshal(map[string]any{"status": status})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kc.BatchV1().CronJobs(ns).Patch(context.Background(), name, types.MergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		t.Fatalf("patch status of %s: %v", name, err)
	}
}
