package providers_test

// The legacy-capacity guard with the ALB router, through Config: the action on an
// Ingress on the local control plane, the legacy target group's health on albtest's
// server, which stands in for AWS (tests cannot reach it) and speaks the documented
// Elastic Load Balancing v2 query API, and real traffic judged through Prometheus.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"ferry.dev/ferry/internal/devcluster/devclustertest"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/traffic"
	"ferry.dev/ferry/internal/traffic/alb"
	"ferry.dev/ferry/internal/traffic/alb/albtest"
)

const shopLegacyARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-legacy/0123456789abcdef"

// albCluster is a namespace with Service shop and Ingress shop, whose rule for / uses
// action "split", forwarding all traffic to the legacy target group.
type albCluster struct {
	kube kubernetes.Interface
	ns   string
}

func newALBCluster(t *testing.T) *albCluster {
	t.Helper()
	c := &albCluster{kube: kubernetes.NewForConfigOrDie(devclustertest.RESTConfig(t))}
	c.ns = devclustertest.Namespace(t, c.kube, "providers-alb")
	ctx := context.Background()
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "shop"}, Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "shop"}, Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}
	if _, err := c.kube.CoreV1().Services(c.ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	prefix, class := networkingv1.PathTypePrefix, "alb"
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Annotations: map[string]string{
			alb.AnnotationPrefix + "split": `{"type":"forward","forwardConfig":{"targetGroups":[{"targetGroupARN":"` + shopLegacyARN + `","weight":100},{"serviceName":"shop","servicePort":"http","weight":0}]}}`,
		}},
		Spec: networkingv1.IngressSpec{IngressClassName: &class, Rules: []networkingv1.IngressRule{{
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
				Path: "/", PathType: &prefix,
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "split", Port: networkingv1.ServiceBackendPort{Name: "use-annotation"}}},
			}}}},
		}}},
	}
	if _, err := c.kube.NetworkingV1().Ingresses(c.ns).Create(ctx, ing, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return c
}

// actionWeights reads the target group weights of the action, as the AWS Load
// Balancer Controller would.
func (c *albCluster) actionWeights() (legacy, kube int, ok bool) {
	ing, err := c.kube.NetworkingV1().Ingresses(c.ns).Get(context.Background(), "shop", metav1.GetOptions{})
	if err != nil {
		return 0, 0, false
	}
	var doc struct {
		ForwardConfig struct {
			TargetGroups []struct {
				ServiceName string `json:"serviceName"`
				Weight      int    `json:"weight"`
			} `json:"targetGroups"`
		} `json:"forwardConfig"`
	}
	if json.Unmarshal([]byte(ing.Annotations[alb.AnnotationPrefix+"split"]), &doc) != nil {
		return 0, 0, false
	}
	for _, g := range doc.ForwardConfig.TargetGroups {
		if g.ServiceName == "shop" {
			kube = g.Weight
		} else {
			legacy = g.Weight
		}
	}
	return legacy, kube, true
}

// lines keeps what a run logs, for the test to wait on.
type lines struct {
	mu   sync.Mutex
	all  []string
	more chan struct{} // closed and replaced at each line
}

func (l *lines) add(ev migrate.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, ev.Message)
	close(l.more)
	l.more = make(chan struct{})
}

// wait returns the first line that contains s, waiting for it until done is closed
// or the test's patience runs out.
func (l *lines) wait(t *testing.T, done <-chan struct{}, s string) string {
	t.Helper()
	timeout := time.After(devclustertest.Patience(t, time.Minute))
	for {
		l.mu.Lock()
		for _, line := range l.all {
			if strings.Contains(line, s) {
				l.mu.Unlock()
				return line
			}
		}
		more := l.more
		l.mu.Unlock()
		select {
		case <-more:
		case <-done:
			t.Fatalf("the run ended before logging %q:\n%s", s, strings.Join(l.all, "\n"))
		case <-timeout:
			t.Fatalf("no line with %q:\n%s", s, strings.Join(l.all, "\n"))
		}
	}
}

// With two of the legacy target group's three targets failing their health checks,
// the step up holds at 10 % and says why; once Elastic Load Balancing reports them
// healthy, the migration goes on and completes.
// Not parallel: the AWS credentials come from the environment.
func TestGuardHoldsAnALBStepUpWhileLegacyTargetsAreUnhealthy(t *testing.T) {
	c := newALBCluster(t)
	w := newWorld(t, 200)
	w.follow(t, 0, func() (traffic.Weights, bool) {
		l, k, ok := c.actionWeights()
		return traffic.KubernetesShare(traffic.Share(l, k)), ok
	})
	elb := albtest.NewServer(t)
	target := func(id, state string) albtest.Target { return albtest.Target{ID: id, Port: 80, State: state} }
	elb.SetTargets(shopLegacyARN, target("i-0a1", "healthy"), target("i-0a2", "unhealthy"), target("i-0a3", "unhealthy"))
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDLOCAL")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local-secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	cfg, err := config(t, w.prom.URL, []int{10, 100}, fmt.Sprintf(
		"router:\n  alb: {namespace: %s, ingress: shop, action: split, legacyTargetGroupARN: %s, kubernetesService: shop, endpoint: %s}\n",
		c.ns, shopLegacyARN, elb.URL))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Capacity == nil {
		t.Fatal("the run has no capacity source with the ALB router")
	}
	log := &lines{more: make(chan struct{})}
	cfg.OnEvent = log.add
	ctx, cancel := context.WithTimeout(context.Background(), devclustertest.Patience(t, 3*time.Minute))
	defer cancel()
	done := make(chan struct{})
	var st *migrate.State
	var runErr error
	go func() { st, runErr = migrate.Start(ctx, cfg); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	hold := log.wait(t, done, "legacy has 1 of 3 servers healthy: it could take")
	for _, want := range []string{"33.33% of the traffic", "an abort from the next step would send it 100%", "holding at 10%"} {
		if !strings.Contains(hold, want) {
			t.Errorf("hold %q does not say %q", hold, want)
		}
	}
	if l, k, _ := c.actionWeights(); l != 90 || k != 10 {
		t.Fatalf("the action is at %d:%d while the step up holds, want 90:10", l, k)
	}
	for _, call := range elb.Calls() {
		if call.Action != "DescribeTargetHealth" || call.TargetGroupARN != shopLegacyARN || call.Region != "eu-west-1" || call.Code != "" {
			t.Errorf("call %+v: want DescribeTargetHealth of the legacy target group in eu-west-1, answered", call)
		}
	}

	elb.SetTargets(shopLegacyARN, target("i-0a1", "healthy"), target("i-0a2", "healthy"), target("i-0a3", "healthy"))
	<-done
	if runErr != nil || st.Phase != migrate.PhaseCompleted {
		t.Fatalf("after legacy recovered: %v, phase %s (%s)\n%s", runErr, st.Phase, st.Reason, strings.Join(log.all, "\n"))
	}
	if l, k, _ := c.actionWeights(); l != 0 || k == 0 {
		t.Fatalf("the action is at %d:%d after completion, want all on the Service", l, k)
	}
}
