package cutover_test

import (
	"context"
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
	"k8s.io/client-go/kubernetes"

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
// creates no Job. Both CronJobs below run every minute, last ran three minutes ago and
// have been suspended since; "control" resumes without a deadline and gets a Job for
// the latest missed schedule at once, "guarded" is released by Cutover and gets none
// before its next schedule.
func TestNoJobForSchedulesMissedWhileSuspended(t *testing.T) {
	kc := kubernetes.NewForConfigOrDie(devclustertest.RESTConfig(t))
	ns := devclustertest.Namespace(t, kc, "cutover")
	const deadline = 10
	// Resume between 13 and 40 seconds past a minute: the latest schedule is missed
	// by more than the deadline, and the next is far enough to watch until.
	now := time.Now()
	resume := now.Truncate(time.Minute).Add(13 * time.Second)
	if past := now.Sub(now.Truncate(time.Minute)); past > 40*time.Second {
		resume = resume.Add(time.Minute)
	} else if past > 13*time.Second {
		resume = now
	}
	time.Sleep(time.Until(resume))
	missed, next := resume.Truncate(time.Minute), resume.Truncate(time.Minute).Add(time.Minute)
	ctx := context.Background()
	for _, name := range []string{"guarded", "control"} {
		create(t, kc, ns, cronJob(name, name, "* * * * *", true, nil))
		cj := get(t, kc, ns, name)
		cj.Status.LastScheduleTime = &metav1.Time{Time: missed.Add(-3 * time.Minute)}
		if _, err := kc.BatchV1().CronJobs(ns).UpdateStatus(ctx, cj, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	c, err := cutover.New(cutover.Config{Kube: kc, Namespace: ns, Selector: "app=guarded", StartingDeadlineSeconds: deadline})
	if err != nil {
		t.Fatal(err)
	}
	var log logLines
	if err := c.Release(ctx, log.logf); err != nil {
		t.Fatal(err)
	}
	if _, err := kc.BatchV1().CronJobs(ns).Patch(ctx, "control", "application/merge-patch+json", []byte(`{"spec":{"suspend":false}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	jobs := func(cronJob string) []batchv1.Job {
		list, err := kc.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{LabelSelector: "cronjob=" + cronJob})
		if err != nil {
			t.Fatal(err)
		}
		return list.Items
	}
	// The controller acts on control's missed schedule within seconds; guarded, seen
	// in the same pass, is watched a while longer, short of its next schedule.
	for len(jobs("control")) == 0 {
		if time.Until(next) < 8*time.Second {
			t.Fatalf("control got no Job for its missed schedule within %s: the controller did not act", time.Since(resume).Round(time.Second))
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(min(5*time.Second, time.Until(next)-2*time.Second))
	if got := jobs("guarded"); len(got) != 0 {
		t.Fatalf("guarded got Job %s for a schedule missed while it was suspended", got[0].Name)
	}
	if time.Now().After(next) {
		t.Fatal("watched past guarded's next schedule: the test's timing is off")
	}
	if cj := get(t, kc, ns, "guarded"); *cj.Spec.Suspend || *cj.Spec.StartingDeadlineSeconds != deadline {
		t.Fatalf("guarded not resumed with its deadline: %+v", cj.Spec)
	}
	if want := fmt.Sprintf("control-%d", missed.Unix()/60); jobs("control")[0].Name != want {
		t.Fatalf("control's Job %s, want %s: the one for the latest missed schedule", jobs("control")[0].Name, want)
	}
}
