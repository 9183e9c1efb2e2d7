package providers_test

// Migrations end to end through Config: real traffic through the proxy, a real
// Prometheus scraping it for the gates, and the router under test — an HTTPRoute on the
// local control plane, or weighted records on a local server that speaks the Route 53
// API (AWS is not reachable from tests) — whose state the proxy follows.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"ferry.dev/ferry/internal/devcluster/devclustertest"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/traffic"
	"ferry.dev/ferry/internal/traffic/gateway/gatewaytest"
	"ferry.dev/ferry/internal/traffic/route53/route53test"
)

func contains(s, substr string) bool { return strings.Contains(s, substr) }

var crdsOnce sync.Once

// shopCluster is a namespace with the legacy ExternalName Service, the app's Service,
// HTTPRoute shop splitting / between them (all legacy), and a nightly CronJob.
type shopCluster struct {
	kube kubernetes.Interface
	gw   gatewayclient.Interface
	ns   string
}

func newShopCluster(t *testing.T) *shopCluster {
	t.Helper()
	cfg := devclustertest.RESTConfig(t)
	crdsOnce.Do(func() { gatewaytest.InstallCRDs(t, cfg) })
	c := &shopCluster{kube: kubernetes.NewForConfigOrDie(cfg), gw: gatewayclient.NewForConfigOrDie(cfg)}
	c.ns = devclustertest.Namespace(t, c.kube, "providers")
	gatewaytest.CreateServices(t, c.kube, c.ns, "shop-legacy", "legacy.shop.example.com", "shop")
	gatewaytest.CreateRoute(t, c.gw, c.ns, "shop", gatewaytest.Rule("/", gatewaytest.Backend("shop-legacy", 1), gatewaytest.Backend("shop", 0)))
	suspend := false
	cj := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "payroll-close", Labels: map[string]string{"app": "shop"}},
		Spec: batchv1.CronJobSpec{Schedule: "0 0 * * *", Suspend: &suspend, JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "job", Image: "registry.example/shop:1"}},
		}}}}},
	}
	if _, err := c.kube.BatchV1().CronJobs(c.ns).Create(context.Background(), cj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return c
}

// routeWeights reads the split HTTPRoute shop's first rule gives.
func (c *shopCluster) routeWeights() (traffic.Weights, bool) {
	route, err := c.gw.GatewayV1().HTTPRoutes(c.ns).Get(context.Background(), "shop", metav1.GetOptions{})
	if err != nil {
		return traffic.Weights{}, false
	}
	var l, k int
	for _, ref := range route.Spec.Rules[0].BackendRefs {
		if string(ref.Name) == "shop" {
			k = int(*ref.Weight)
		} else {
			l = int(*ref.Weight)
		}
	}
	return traffic.KubernetesShare(traffic.Share(l, k)), true
}

func (c *shopCluster) gatewayYAML() string {
	return fmt.Sprintf("router:\n  gateway: {namespace: %s, httpRoute: shop, legacyService: shop-legacy, kubernetesService: shop}\n", c.ns)
}

func (c *shopCluster) cronJob(t *testing.T) *batchv1.CronJob {
	cj, err := c.kube.BatchV1().CronJobs(c.ns).Get(context.Background(), "payroll-close", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cj
}

func TestGatewayMigrationEndToEnd(t *testing.T) {
	t.Parallel()
	c := newShopCluster(t)
	w := newWorld(t, 200)
	w.follow(t, 0, c.routeWeights)
	crontab := filepath.Join(t.TempDir(), "crontab")
	if err := os.WriteFile(crontab, []byte("0 0 * * * cd /srv/shop/current && bin/rails runner 'Payroll.close_day'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config(t, w.prom.URL, []int{10, 50, 100}, c.gatewayYAML()+fmt.Sprintf("cronJobs: {namespace: %s, selector: app=shop, startingDeadlineSeconds: 30, legacyCrontab: %s}\n", c.ns, crontab))
	if err != nil {
		t.Fatal(err)
	}
	var suspendedDuring *bool
	cfg.OnEvaluate = func(st *migrate.State, _ migrate.Decision) {
		if suspendedDuring == nil {
			suspendedDuring = c.cronJob(t).Spec.Suspend
		}
	}
	st, err := start(t, cfg, 3*time.Minute)
	if err != nil || st.Phase != migrate.PhaseCompleted {
		t.Fatalf("migration: %v, phase %s (%s)\n%v", err, st.Phase, st.Reason, st.Events)
	}
	if ws, _ := c.routeWeights(); ws.Kubernetes != traffic.Total {
		t.Fatalf("HTTPRoute at %s after completion", ws)
	}
	// The proxy follows the HTTPRoute as a gateway would, a moment later.
	devclustertest.WaitFor(t, 30*time.Second, "the proxy to follow the HTTPRoute to 100%", func(context.Context) (bool, error) {
		return w.share(t) == traffic.Total, nil
	})
	if suspendedDuring == nil || !*suspendedDuring {
		t.Error("the CronJob was not suspended while the migration ran")
	}
	if cj := c.cronJob(t); *cj.Spec.Suspend || cj.Spec.StartingDeadlineSeconds == nil || *cj.Spec.StartingDeadlineSeconds != 30 {
		t.Errorf("after completion the CronJob has suspend %v, startingDeadlineSeconds %v", *cj.Spec.Suspend, cj.Spec.StartingDeadlineSeconds)
	}
	for _, want := range []string{"held suspended until the migration completes", "CronJob payroll-close resumed", "Payroll.close_day'    (now CronJob payroll-close)"} {
		if !hasEvent(st, want) {
			t.Errorf("the migration's log lacks %q", want)
		}
	}
}

// route53World serves zone Z1 with www's weighted records (TTL 1s), all on legacy,
// and makes the proxy follow what the name servers answer, a TTL later.
func route53World(t *testing.T, w *world) (*route53test.Server, string) {
	t.Helper()
	srv := route53test.NewServer(t, 300*time.Millisecond)
	weight := func(n int64) *int64 { return &n }
	srv.AddZone("Z1", "example.com.",
		route53test.RecordSet{Name: "www.example.com.", Type: "A", SetIdentifier: "ec2", Weight: weight(100), TTL: weight(1), Values: []string{"192.0.2.10"}},
		route53test.RecordSet{Name: "www.example.com.", Type: "A", SetIdentifier: "eks", Weight: weight(0), TTL: weight(1), Values: []string{"198.51.100.20"}},
	)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDLOCAL")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local-secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	if w != nil {
		w.follow(t, time.Second, func() (traffic.Weights, bool) {
			s := srv.Served("Z1", "www.example.com.", "A")
			return traffic.KubernetesShare(traffic.Share(int(s["ec2"]), int(s["eks"]))), true
		})
	}
	return srv, fmt.Sprintf("router:\n  route53: {endpoint: %s, hostedZoneID: Z1, name: www.example.com, legacySetIdentifier: ec2, kubernetesSetIdentifier: eks}\n", srv.URL)
}

func changeBatches(srv *route53test.Server) int {
	n := 0
	for _, c := range srv.Calls() {
		if c.Op == "ChangeResourceRecordSets" && c.Code == "" {
			n++
		}
	}
	return n
}

func TestRoute53MigrationEndToEnd(t *testing.T) {
	w := newWorld(t, 200)
	srv, yaml := route53World(t, w)
	cfg, err := config(t, w.prom.URL, []int{10, 100}, yaml)
	if err != nil {
		t.Fatal(err)
	}
	st, err := start(t, cfg, 3*time.Minute)
	if err != nil || st.Phase != migrate.PhaseCompleted {
		t.Fatalf("migration: %v, phase %s (%s)\n%v", err, st.Phase, st.Reason, st.Events)
	}
	if s := srv.Served("Z1", "www.example.com.", "A"); s["ec2"] != 0 || s["eks"] == 0 {
		t.Fatalf("records %v after completion, want all weight on eks", s)
	}
	// 10 %, the last step judged at 75 % beside its control, then 100 %.
	if n := changeBatches(srv); n != len(cfg.Plan.Steps)+1 {
		t.Fatalf("%d change batches for %d steps and the final control, want one each", n, len(cfg.Plan.Steps))
	}
	if !hasEvent(st, "route53 record weights per step (legacy:kubernetes): 10% 90:10, 75% 25:75, 100% 0:100") {
		t.Errorf("the log does not say which weights each step uses: %v", st.Events)
	}
}

// The Kubernetes side starts failing 8% of requests (legacy 0.5%) once the first step
// is in place: the error-rate gates, reading Prometheus, abort there.
func TestPrometheusGatesAbortARoute53MigrationOnARegression(t *testing.T) {
	w := newWorld(t, 400)
	srv, yaml := route53World(t, w)
	cfg, err := configJudged(t, w.prom.URL, []int{25, 100}, judgingGates, yaml)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	cfg.OnEvaluate = func(st *migrate.State, _ migrate.Decision) {
		once.Do(func() { w.kube.SetErrorRate(0.08) })
	}
	st, err := start(t, cfg, 3*time.Minute)
	// The backend serves one endpoint, so the per-endpoint gate judges the same
	// errors as the whole side's: either may be the first to fail, as Prometheus
	// answers its queries in turn (a busy machine once had the route's series ahead).
	byWholeSide := strings.Contains(st.Reason, "gate error-rate failed at 25%")
	byEndpoint := strings.Contains(st.Reason, "gate endpoints failed at 25%") && strings.Contains(st.Reason, "(error-rate: new")
	if !errors.Is(err, migrate.ErrAborted) || st.Step != 0 || !(byWholeSide || byEndpoint) {
		t.Fatalf("run: %v at step %d (%s), want an error-rate gate (the whole side's or the endpoint's) to abort at 25%%", err, st.Step+1, st.Reason)
	}
	if s := srv.Served("Z1", "www.example.com.", "A"); s["eks"] != 0 || s["ec2"] == 0 {
		t.Fatalf("records %v after the abort, want all weight back on ec2", s)
	}
	if max := w.maxSeen.Load(); max > 2500 {
		t.Errorf("the data plane went up to %d bp, above the aborted step's 2500", max)
	}
}
