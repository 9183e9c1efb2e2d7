package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"ferry.dev/ferry/internal/cli/clitest"
	"ferry.dev/ferry/internal/devcluster/devclustertest"
	"ferry.dev/ferry/internal/kube"
	"ferry.dev/ferry/internal/release"
)

// appDir writes a ferry.yaml for a 100-replica web app in a fresh namespace and
// returns its path and the namespace.
func appDir(t *testing.T, replicas int) (string, string, kubernetes.Interface) {
	t.Helper()
	cs, err := kubernetes.NewForConfig(devclustertest.RESTConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	ns := devclustertest.Namespace(t, cs, "cli-release")
	dir := t.TempDir()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Mkdir(filepath.Join(dir, "k8s"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "ferry.yaml"), []byte(fmt.Sprintf(
		"app: web\nnamespace: %s\nmanifests:\n  directory: k8s\nimage:\n  containers: [web]\nhealth:\n  timeout: 90s\n", ns)), 0o644))
	must(os.WriteFile(filepath.Join(dir, "k8s", "web.yaml"), []byte(fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: %d
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "shop/web:placeholder"}]
`, replicas)), 0o644))
	return filepath.Join(dir, "ferry.yaml"), ns, cs
}

func ferryArgs(file string, args ...string) []string {
	return append([]string{"--kubeconfig", os.Getenv(devclustertest.EnvKubeconfig), "-f", file}, args...)
}

func history(t *testing.T, file string) []release.Summary {
	t.Helper()
	stdout, stderr, err := clitest.Run(t, ferryArgs(file, "history", "-o", "json")...)
	if err != nil {
		t.Fatalf("history: %v %s", err, stderr)
	}
	var h []release.Summary
	if err := json.Unmarshal([]byte(stdout), &h); err != nil {
		t.Fatalf("history is not JSON: %v\n%s", err, stdout)
	}
	return h
}

func liveImage(t *testing.T, cs kubernetes.Interface, ns string) (string, int32) {
	t.Helper()
	d, err := cs.AppsV1().Deployments(ns).Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d.Spec.Template.Spec.Containers[0].Image, d.Status.UpdatedReplicas
}

// deployKillPoints are progress lines of a deploy, in the order it prints them, all
// after the new revision is recorded as pending; the kill test stops it after one.
var deployKillPoints = []*regexp.Regexp{
	regexp.MustCompile(`^  applying \d+ objects`),
	regexp.MustCompile(`^  waiting for \d+ objects to be healthy`),
	regexp.MustCompile(`^\s+deployment/web\s+updated \d+/100`), // the rollout's first progress, not its ✓
}

// expireDeployLock makes the deploy lock of a killed process look older than its
// lease: what the next deploy would otherwise wait out (15 s).
func expireDeployLock(t *testing.T, cs kubernetes.Interface, ns string) {
	t.Helper()
	patch, _ := json.Marshal(map[string]any{"spec": map[string]any{"renewTime": metav1.NewMicroTime(time.Now().Add(-time.Hour))}})
	if _, err := cs.CoordinationV1().Leases(ns).Patch(context.Background(), "ferry-deploy-web", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatalf("expire the deploy lock: %v", err)
	}
}

func TestDeployKilledMidRolloutIsFinishedByTheNextDeploy(t *testing.T) {
	t.Parallel()
	file, ns, cs := appDir(t, 100)
	if _, stderr, err := clitest.Run(t, ferryArgs(file, "deploy", "--image", "shop/web:v1")...); err != nil {
		t.Fatalf("first deploy: %v\n%s", err, stderr)
	}
	at := clitest.Rand(t).IntN(len(deployKillPoints))
	deploy := clitest.Start(t, ferryArgs(file, "deploy", "--image", "shop/web:v2")...)
	var seen []string
	for _, point := range deployKillPoints[:at+1] {
		seen = deploy.WaitForMatch(point)
	}
	deploy.Kill()
	t.Logf("killed after %q", strings.TrimSpace(seen[0]))
	expireDeployLock(t, cs, ns)

	stdout, stderrText, err := clitest.Run(t, ferryArgs(file, "deploy", "--image", "shop/web:v3", "-o", "json")...)
	if err != nil {
		t.Fatalf("deploy after the kill: %v\n%s", err, stderrText)
	}
	if !strings.Contains(stderrText, "revision 2 was left pending") {
		t.Errorf("the next deploy did not say it found the interrupted revision:\n%s", stderrText)
	}
	var res release.Result
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Release.Revision != 3 || res.Release.Status != release.StatusDeployed {
		t.Fatalf("deploy result %+v (%v)", res, err)
	}
	h := history(t, file)
	if len(h) != 3 || h[1].Status != release.StatusInterrupted || h[2].Status != release.StatusDeployed {
		t.Fatalf("history %+v, want revision 2 interrupted and 3 deployed", h)
	}
	if image, updated := liveImage(t, cs, ns); image != "shop/web:v3" || updated != 100 {
		t.Fatalf("live %s with %d updated, want shop/web:v3 x100", image, updated)
	}
	lease, err := cs.CoordinationV1().Leases(ns).Get(context.Background(), "ferry-deploy-web", metav1.GetOptions{})
	if err != nil || ptr.Deref(lease.Spec.HolderIdentity, "") != "" {
		t.Fatalf("lease after the deploy: holder %q (%v), want released", ptr.Deref(lease.Spec.HolderIdentity, ""), err)
	}
}

func TestConcurrentDeploysAreSerialized(t *testing.T) {
	t.Parallel()
	file, ns, cs := appDir(t, 10)
	const n = 10
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, stderr, err := clitest.Run(t, ferryArgs(file, "deploy", "--image", fmt.Sprintf("shop/web:v%d", i))...)
			if err != nil {
				errs[i] = fmt.Errorf("%v: %s", err, stderr)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("deploy %d: %v", i, err)
		}
	}
	h := history(t, file)
	if len(h) != n {
		t.Fatalf("%d revisions recorded, want %d", len(h), n)
	}
	images := map[string]bool{}
	for i, r := range h {
		if r.Revision != i+1 {
			t.Errorf("revision %d at position %d", r.Revision, i)
		}
		if i > 0 && r.Started.Before(h[i-1].Finished) {
			t.Errorf("revision %d started %s before revision %d finished %s: interleaved", r.Revision, r.Started, h[i-1].Revision, h[i-1].Finished)
		}
		want := release.StatusSuperseded
		if i == n-1 {
			want = release.StatusDeployed
		}
		if r.Status != want {
			t.Errorf("revision %d is %s, want %s", r.Revision, r.Status, want)
		}
		images[r.Image] = true
	}
	if len(images) != n {
		t.Errorf("images %v: every deploy should have run once", images)
	}
	if image, _ := liveImage(t, cs, ns); image != h[n-1].Image {
		t.Fatalf("cluster runs %s, want the last revision's %s", image, h[n-1].Image)
	}
}

func TestNoWaitFailsFastWhileAnotherDeployRuns(t *testing.T) {
	file, ns, _ := appDir(t, 1)
	// Another deploy holds the app's lock, taken here as ferry takes it: racing a real
	// deploy's rollout to its end made the test depend on the machine's speed.
	c, err := kube.NewForConfig(devclustertest.RESTConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	other := &kube.Lock{Client: c, Namespace: ns, Name: "ferry-deploy-web",
		Identity: "ci@host pid 1 00 (deploy shop/web:v1)", Duration: time.Minute, RenewInterval: time.Hour}
	held, err := other.Acquire(ctx, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release(ctx)
	_, stderr, err := clitest.Run(t, ferryArgs(file, "deploy", "--image", "shop/web:v2", "--no-wait")...)
	if exitErr, ok := err.(*exec.ExitError); !ok || exitErr.ExitCode() != ExitLocked {
		t.Fatalf("deploy --no-wait beside a running deploy: %v %s, want exit code %d", err, stderr, ExitLocked)
	}
	if !strings.Contains(stderr, "another deploy of web is running") || !strings.Contains(stderr, "deploy shop/web:v1") {
		t.Fatalf("--no-wait error does not say who holds the lock: %q", stderr)
	}
}

func TestReleaseCommandsBadInput(t *testing.T) {
	file, _, _ := appDir(t, 1)
	broken := filepath.Join(t.TempDir(), "ferry.yaml")
	if err := os.WriteFile(broken, []byte("app: web\nnamespace: x\nreplicas: 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"no image", ferryArgs(file, "deploy"), ExitUsage, "--image is required"},
		{"mutable tag", ferryArgs(file, "deploy", "--image", "shop/web:latest"), ExitError, "mutable image tag"},
		{"malformed ferry.yaml", ferryArgs(broken, "deploy", "--image", "shop/web:v1"), ExitError, "replicas (line 3): unknown field (valid here: app, namespace, manifests, image, health, history, preDeploy)"},
		{"missing ferry.yaml", ferryArgs(filepath.Join(t.TempDir(), "nope.yaml"), "history"), ExitError, "no such file"},
		{"unknown revision", ferryArgs(file, "rollback", "--to", "7"), ExitError, "revision 7 is not in the history"},
		{"negative revision", ferryArgs(file, "rollback", "--to", "-1"), ExitUsage, "--to must be a revision number"},
		{"missing namespace", ferryArgs(file, "status", "-n", "nowhere"), ExitError, `namespace "nowhere" does not exist`},
		{"no cluster", []string{"--kubeconfig", filepath.Join(t.TempDir(), "none"), "-f", file, "status"}, ExitError, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tc.args...)
			if code != tc.wantCode || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d stderr %q, want exit %d and %q", code, stderr, tc.wantCode, tc.want)
			}
			if stdout != "" || strings.Count(strings.TrimSpace(stderr), "\n") > 1 {
				t.Fatalf("stdout %q stderr %q: want a one-line error only", stdout, stderr)
			}
		})
	}
	if h := history(t, file); len(h) != 0 {
		t.Fatalf("bad input recorded %d revisions", len(h))
	}
}

func TestDeployFailureExitCode(t *testing.T) {
	file, _, _ := appDir(t, 3)
	web := filepath.Join(filepath.Dir(file), "k8s", "web.yaml")
	if code, _, stderr := run(t, ferryArgs(file, "deploy", "--image", "shop/web:v1")...); code != 0 {
		t.Fatalf("deploy v1: %d %s", code, stderr)
	}
	data, _ := os.ReadFile(web)
	broken := strings.Replace(string(data), "metadata: {labels: {app: web}}", "metadata: {labels: {app: web}, annotations: {ferry.dev/simulate: crashloop}}", 1)
	if err := os.WriteFile(web, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, ferryArgs(file, "deploy", "--image", "shop/web:v2")...)
	if code != ExitReleaseFailed || !strings.Contains(stderr, "rolled back to revision 1") || !strings.Contains(stdout, "rollback to revision 1") {
		t.Fatalf("exit %d stdout %q stderr %q", code, stdout, stderr)
	}
	code, stdout, _ = run(t, ferryArgs(file, "status", "-o", "json")...)
	var rep release.StatusReport
	if code != 0 || json.Unmarshal([]byte(stdout), &rep) != nil || rep.Current.Revision != 3 || rep.Latest.Revision != 3 || !rep.Healthy {
		t.Fatalf("status after the automatic rollback: %d %s", code, stdout)
	}
}

// TestOnCallWithoutACheckout: history, status and rollback find the app by --app and
// -n from what the cluster recorded, with no ferry.yaml anywhere near.
func TestOnCallWithoutACheckout(t *testing.T) {
	file, ns, cs := appDir(t, 2)
	for _, image := range []string{"shop/web:v1", "shop/web:v2"} {
		if code, _, stderr := run(t, ferryArgs(file, "deploy", "--image", image)...); code != 0 {
			t.Fatalf("deploy %s: %d %s", image, code, stderr)
		}
	}
	kubeconfig := []string{"--kubeconfig", os.Getenv(devclustertest.EnvKubeconfig)}
	byName := func(args ...string) []string {
		return append(append(append([]string{}, kubeconfig...), "--app", "web", "-n", ns), args...)
	}
	code, stdout, stderr := run(t, byName("history", "-o", "json")...)
	var h []release.Summary
	if code != 0 || json.Unmarshal([]byte(stdout), &h) != nil || len(h) != 2 || h[1].Image != "shop/web:v2" {
		t.Fatalf("history --app: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, stderr = run(t, byName("status", "-o", "json")...)
	var rep release.StatusReport
	if code != 0 || json.Unmarshal([]byte(stdout), &rep) != nil || rep.Current == nil || rep.Current.Revision != 2 || rep.Namespace != ns {
		t.Fatalf("status --app: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, stderr = run(t, byName("rollback", "--health-timeout", "90s", "-o", "json")...)
	var res release.Result
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil || res.Release.Revision != 3 || res.Release.RollbackOf != 1 {
		t.Fatalf("rollback --app: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if image, _ := liveImage(t, cs, ns); image != "shop/web:v1" {
		t.Fatalf("after rollback --app the cluster runs %s, want shop/web:v1", image)
	}
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"unknown app", append(append([]string{}, kubeconfig...), "history", "--app", "shop", "-n", ns), ExitError,
			"no revisions of app shop in namespace " + ns + "; apps with revisions there: web"},
		{"unknown app's status", append(append([]string{}, kubeconfig...), "status", "--app", "shop", "-n", ns), ExitError, "apps with revisions there: web"},
		{"unknown app's rollback", append(append([]string{}, kubeconfig...), "rollback", "--app", "shop", "-n", ns), ExitError, "apps with revisions there: web"},
		{"both -f and --app", byName("history", "-f", file), ExitUsage, "give -f or --app, not both"},
		{"not a name", append(append([]string{}, kubeconfig...), "history", "--app", "Web_App"), ExitUsage, `--app "Web_App" is not an app name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tc.args...)
			if code != tc.wantCode || !strings.Contains(stderr, tc.want) || stdout != "" {
				t.Fatalf("exit %d stdout %q stderr %q, want exit %d and %q", code, stdout, stderr, tc.wantCode, tc.want)
			}
		})
	}
}
