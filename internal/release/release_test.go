package release_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"ferry.dev/ferry/internal/health"
	"ferry.dev/ferry/internal/release"
)

func TestDeployRollbackAndHistoryRestoreEveryObject(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.mustDeploy("shop/web:v1")
	f.assertLandedOn(1)

	// v2 changes the image, the ConfigMap and the CronJob, and adds a ConfigMap.
	f.edit("configmap.yaml", `FEATURE_CHECKOUT_V2: "off"`, `FEATURE_CHECKOUT_V2: "on"`)
	f.edit("cronjob.yaml", `schedule: "0 0 * * *"`, `schedule: "30 1 * * *"`)
	f.edit("configmap.yaml", "", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: v2-only}\ndata: {a: b}\n---\n")
	res := f.mustDeploy("shop/web:v2")
	if res.Release.Revision != 2 || res.Release.Status != release.StatusDeployed {
		t.Fatalf("second deploy %+v", res.Release)
	}
	f.assertLandedOn(2)

	res, err := release.Rollback(ctx, f.config(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Release.Revision != 3 || res.Release.RollbackOf != 1 || res.Release.Image != "shop/web:v1" {
		t.Fatalf("rollback made %+v, want revision 3 = revision 1's manifests", res.Release)
	}
	f.assertLandedOn(1) // ConfigMap data, CronJob schedule, and v2-only pruned
	cm, err := f.client.Clientset.CoreV1().ConfigMaps(f.ns).Get(ctx, "web-env", metav1.GetOptions{})
	if err != nil || cm.Data["FEATURE_CHECKOUT_V2"] != "off" {
		t.Fatalf("ConfigMap after rollback %v (%v), want FEATURE_CHECKOUT_V2=off", cm.Data, err)
	}
	cj, err := f.client.Clientset.BatchV1().CronJobs(f.ns).Get(ctx, "nightly", metav1.GetOptions{})
	if err != nil || cj.Spec.Schedule != "0 0 * * *" {
		t.Fatalf("CronJob schedule after rollback %q (%v)", cj.Spec.Schedule, err)
	}
	if _, err := f.client.Clientset.CoreV1().ConfigMaps(f.ns).Get(ctx, "v2-only", metav1.GetOptions{}); err == nil {
		t.Fatal("v2-only ConfigMap survived the rollback")
	}
	if got := statuses(f.history()); got != "1:superseded 2:superseded 3:deployed" {
		t.Fatalf("history %s", got)
	}

	// Rolling back again goes to revision 2, not to 1 again.
	res, err = release.Rollback(ctx, f.config(), 0)
	if err != nil || res.Release.RollbackOf != 2 {
		t.Fatalf("second rollback %+v (%v), want revision 2's manifests", res, err)
	}
	f.assertLandedOn(2)
}

func TestBrokenReleaseRollsBackToThePreviousStateObjectForObject(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mustDeploy("shop/web:v1")
	f.edit("configmap.yaml", `FEATURE_CHECKOUT_V2: "off"`, `FEATURE_CHECKOUT_V2: "broken"`)
	f.edit("deployment.yaml", "labels: {app: web}\n    spec:", "labels: {app: web}\n      annotations: {ferry.dev/simulate: crashloop}\n    spec:")
	res, err := f.deploy("shop/web:v2-broken")
	if !errors.Is(err, release.ErrRolloutFailed) {
		t.Fatalf("deploy of a crash-looping release: %v, want ErrRolloutFailed", err)
	}
	if !strings.Contains(err.Error(), "CrashLoopBackOff") || !strings.Contains(err.Error(), "rolled back to revision 1") {
		t.Errorf("error %q should say why and where it rolled back to", err)
	}
	if res.Release.Status != release.StatusFailed || res.RolledBack == nil || res.RolledBack.Status != release.StatusDeployed || res.RolledBack.RollbackOf != 1 {
		t.Fatalf("result %+v / %+v", res.Release, res.RolledBack)
	}
	f.assertLandedOn(1)
	if got := statuses(f.history()); got != "1:superseded 2:failed 3:deployed" {
		t.Fatalf("history %s", got)
	}
}

func TestNoRollbackLeavesTheFailedRevision(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mustDeploy("shop/web:v1")
	f.edit("deployment.yaml", "labels: {app: web}\n    spec:", "labels: {app: web}\n      annotations: {ferry.dev/simulate: crashloop}\n    spec:")
	res, err := f.deploy("shop/web:v2", func(o *release.DeployOptions) { o.NoRollback = true })
	if !errors.Is(err, release.ErrRolloutFailed) || res.RolledBack != nil {
		t.Fatalf("deploy: %v %+v", err, res)
	}
	d, err := f.client.Clientset.AppsV1().Deployments(f.ns).Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil || d.Spec.Template.Spec.Containers[0].Image != "shop/web:v2" {
		t.Fatalf("the failed revision should stay applied: %v", err)
	}
}

func TestRollbackRestoresDriftedObjects(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.mustDeploy("shop/web:v1")
	f.mustDeploy("shop/web:v2")
	// Drift: someone deletes the Service and scales the Deployment by hand.
	if err := f.client.Clientset.CoreV1().Services(f.ns).Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	scale, err := f.client.Clientset.AppsV1().Deployments(f.ns).GetScale(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	scale.Spec.Replicas = 7
	if _, err := f.client.Clientset.AppsV1().Deployments(f.ns).UpdateScale(ctx, "web", scale, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := release.Rollback(ctx, f.config(), 1); err != nil {
		t.Fatal(err)
	}
	f.assertLandedOn(1)
	d, err := f.client.Clientset.AppsV1().Deployments(f.ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil || ptr.Deref(d.Spec.Replicas, 0) != 20 {
		t.Fatalf("replicas after rollback: %v", err)
	}
}

func TestRejectedManifestChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.mustDeploy("shop/web:v1")
	f.edit("configmap.yaml", `FEATURE_CHECKOUT_V2: "off"`, `FEATURE_CHECKOUT_V2: "on"`)
	f.edit("service.yaml", "targetPort: 3000", "targetPort: 300000")
	_, err := f.deploy("shop/web:v2")
	if !errors.Is(err, release.ErrRejected) || !strings.Contains(err.Error(), "service/web") {
		t.Fatalf("deploy with an invalid Service: %v, want ErrRejected naming service/web", err)
	}
	cm, _ := f.client.Clientset.CoreV1().ConfigMaps(f.ns).Get(ctx, "web-env", metav1.GetOptions{})
	if cm.Data["FEATURE_CHECKOUT_V2"] != "off" {
		t.Error("the valid ConfigMap was applied although the Service was rejected")
	}
	if got := statuses(f.history()); got != "1:deployed" {
		t.Errorf("history %s: a rejected deploy must record nothing", got)
	}
	f.assertLandedOn(1)
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{"mutable tag", func() error { _, err := f.deploy("shop/web:latest"); return err }, "mutable image tag"},
		{"no tag", func() error { _, err := f.deploy("shop/web"); return err }, "has no tag"},
		{"unknown revision", func() error { _, err := release.Rollback(ctx, f.config(), 42); return err }, "revision 42 is not in the history"},
		{"nothing to roll back to", func() error { _, err := release.Rollback(ctx, f.config(), 0); return err }, "no revisions yet"},
		{"missing namespace", func() error {
			cfg := f.config()
			cfg.Def.Namespace = "does-not-exist"
			_, err := release.Deploy(ctx, cfg, release.DeployOptions{Image: "shop/web:v1"})
			return err
		}, `namespace "does-not-exist" does not exist`},
		{"unknown container", func() error {
			cfg := f.config()
			cfg.Def.Image.Containers = []string{"wbe"}
			_, err := release.Deploy(ctx, cfg, release.DeployOptions{Image: "shop/web:v1"})
			return err
		}, "no workload container is named wbe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
	if h := f.history(); len(h) != 0 {
		t.Fatalf("bad input recorded revisions: %s", statuses(h))
	}
}

func TestPreDeployJobGatesTheRollout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	cfg := f.config()
	cfg.Def.PreDeploy = &appPreDeploy
	if _, err := release.Deploy(ctx, cfg, release.DeployOptions{Image: "shop/web:v1"}); err != nil {
		t.Fatal(err)
	}
	job, err := f.client.Clientset.BatchV1().Jobs(f.ns).Get(ctx, "shop-pre-deploy-r1", metav1.GetOptions{})
	if err != nil || job.Spec.Template.Spec.Containers[0].Image != "shop/web:v1" || job.Spec.Template.Spec.Containers[0].Command[1] != "db:migrate" {
		t.Fatalf("pre-deploy job %v", err)
	}
	if job.Spec.Template.Labels["app"] == "web" {
		t.Error("the job's pods carry the Service's selector labels")
	}

	// A failing migration: the workload must not change.
	f.edit("deployment.yaml", "labels: {app: web}\n    spec:", "labels: {app: web}\n      annotations: {ferry.dev/simulate: fail}\n    spec:")
	cfg = f.config()
	cfg.Def.PreDeploy = &appPreDeploy
	_, err = release.Deploy(ctx, cfg, release.DeployOptions{Image: "shop/web:v2"})
	if !errors.Is(err, release.ErrRolloutFailed) || !strings.Contains(err.Error(), "no workload was changed") {
		t.Fatalf("deploy with a failing pre-deploy job: %v", err)
	}
	d, _ := f.client.Clientset.AppsV1().Deployments(f.ns).Get(ctx, "web", metav1.GetOptions{})
	if d.Spec.Template.Spec.Containers[0].Image != "shop/web:v1" {
		t.Fatal("the Deployment changed although the pre-deploy job failed")
	}
	if got := statuses(f.history()); got != "1:deployed 2:failed" {
		t.Fatalf("history %s", got)
	}
}

func TestStatusReportsTheCurrentRevision(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mustDeploy("shop/web:v1")
	rep, err := release.Inspect(context.Background(), f.config())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Current == nil || rep.Current.Revision != 1 || !rep.Healthy || len(rep.Objects) != 4 || rep.DeployingNow != "" {
		t.Fatalf("status %+v", rep)
	}
	for _, o := range rep.Objects {
		if o.Health.State != health.Healthy {
			t.Errorf("%s %s", o.Ref, o.Health.State)
		}
	}
}
