package alb_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"ferry.dev/ferry/internal/devcluster/devclustertest"
	"ferry.dev/ferry/internal/traffic"
	"ferry.dev/ferry/internal/traffic/alb"
)

func TestMain(m *testing.M) { devclustertest.Main(m) }

const legacyARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-legacy/0123456789abcdef"

// setup creates, in a fresh namespace, Service shop and Ingress shop whose rule for /
// uses action "split", forwarding all traffic to the legacy target group.
func setup(t *testing.T) (kubernetes.Interface, string) {
	t.Helper()
	kc := kubernetes.NewForConfigOrDie(devclustertest.RESTConfig(t))
	ns := devclustertest.Namespace(t, kc, "alb")
	ctx := context.Background()
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "shop"}, Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "shop"}, Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}
	if _, err := kc.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	prefix := networkingv1.PathTypePrefix
	class := "alb"
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Annotations: map[string]string{
			"alb.ingress.kubernetes.io/scheme":      "internet-facing",
			"alb.ingress.kubernetes.io/target-type": "ip",
			alb.AnnotationPrefix + "split":          `{"type":"forward","forwardConfig":{"targetGroups":[{"targetGroupARN":"` + legacyARN + `","weight":100},{"serviceName":"shop","servicePort":"http","weight":0}],"targetGroupStickinessConfig":{"enabled":false}}}`,
			alb.AnnotationPrefix + "maintenance":    `{"type":"fixed-response","fixedResponseConfig":{"contentType":"text/plain","statusCode":"503"}}`,
		}},
		Spec: networkingv1.IngressSpec{IngressClassName: &class, Rules: []networkingv1.IngressRule{{
			Host: "shop.example.com",
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
				Path: "/", PathType: &prefix,
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "split", Port: networkingv1.ServiceBackendPort{Name: "use-annotation"}}},
			}}}},
		}}},
	}
	if _, err := kc.NetworkingV1().Ingresses(ns).Create(ctx, ing, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return kc, ns
}

func router(t *testing.T, kc kubernetes.Interface, mutate func(*alb.Config)) *alb.Router {
	t.Helper()
	cfg := alb.Config{Kube: kc, Namespace: "", Ingress: "shop", Action: "split", LegacyTargetGroupARN: legacyARN, Service: "shop"}
	mutate(&cfg)
	r, err := alb.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// actionWeights reads the weights the controller would see.
func actionWeights(t *testing.T, kc kubernetes.Interface, ns string) (legacy, kube int, ing *networkingv1.Ingress) {
	t.Helper()
	ing, err := kc.NetworkingV1().Ingresses(ns).Get(context.Background(), "shop", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		ForwardConfig struct {
			TargetGroups []struct {
				ARN, ServiceName string
				Weight           int
			} `json:"targetGroups"`
		} `json:"forwardConfig"`
	}
	if err := json.Unmarshal([]byte(ing.Annotations[alb.AnnotationPrefix+"split"]), &doc); err != nil {
		t.Fatal(err)
	}
	for _, g := range doc.ForwardConfig.TargetGroups {
		if g.ServiceName == "shop" {
			kube = g.Weight
		} else {
			legacy = g.Weight
		}
	}
	return legacy, kube, ing
}

func TestSetWeightsOnTheLocalAPIServer(t *testing.T) {
	kc, ns := setup(t)
	r := router(t, kc, func(c *alb.Config) { c.Namespace = ns })
	ctx := context.Background()
	for _, tc := range []struct {
		percent      string
		legacy, kube int
		effective    int
	}{
		{"1", 99, 1, 100}, {"5", 95, 5, 500}, {"0.5", 199, 1, 50}, {"0.05", 999, 1, 10}, {"50", 50, 50, 5000}, {"100", 0, 100, 10000}, {"0", 100, 0, 0},
	} {
		bp, _ := traffic.ParsePercent(tc.percent)
		if err := r.SetWeights(ctx, traffic.KubernetesShare(bp)); err != nil {
			t.Fatalf("SetWeights(%s%%): %v", tc.percent, err)
		}
		l, k, ing := actionWeights(t, kc, ns)
		if l != tc.legacy || k != tc.kube {
			t.Fatalf("%s%%: target group weights %d:%d, want %d:%d", tc.percent, l, k, tc.legacy, tc.kube)
		}
		if !strings.Contains(ing.Annotations[alb.AnnotationPrefix+"split"], `"targetGroupStickinessConfig":{"enabled":false}`) || ing.Annotations["alb.ingress.kubernetes.io/scheme"] != "internet-facing" || !strings.Contains(ing.Annotations[alb.AnnotationPrefix+"maintenance"], "fixed-response") {
			t.Fatalf("other settings of the Ingress changed: %v", ing.Annotations)
		}
		if w, err := r.Weights(ctx); err != nil || w.Kubernetes != tc.effective {
			t.Fatalf("Weights after %s%%: %v, %v; want %d bp", tc.percent, w, err, tc.effective)
		}
	}
}

// The controller writes the Ingress's status, and someone labels it, while the weights
// change: no update is lost and SetWeights does not give up.
func TestConcurrentWritesOfTheIngressAreKept(t *testing.T) {
	kc, ns := setup(t)
	r := router(t, kc, func(c *alb.Config) { c.Namespace = ns })
	ctx := context.Background()
	done := make(chan struct{})
	edits := 0
	go func() {
		defer close(done)
		for i := range 40 {
			ing, err := kc.NetworkingV1().Ingresses(ns).Get(ctx, "shop", metav1.GetOptions{})
			if err != nil {
				return
			}
			if i%2 == 0 {
				ing.Labels = map[string]string{"edit": strings.Repeat("x", i+1)}
				if _, err := kc.NetworkingV1().Ingresses(ns).Update(ctx, ing, metav1.UpdateOptions{}); err == nil {
					edits++
				}
				continue
			}
			ing.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{Hostname: fmt.Sprintf("k8s-shop-%d.eu-west-1.elb.amazonaws.com", i)}}
			_, _ = kc.NetworkingV1().Ingresses(ns).UpdateStatus(ctx, ing, metav1.UpdateOptions{})
		}
	}()
	for _, bp := range []int{100, 500, 1000, 2500, 5000, 7500, 10000} {
		if err := r.SetWeights(ctx, traffic.KubernetesShare(bp)); err != nil {
			t.Fatalf("SetWeights while the Ingress is written: %v", err)
		}
	}
	<-done
	l, k, ing := actionWeights(t, kc, ns)
	if l != 0 || k != 100 || edits == 0 || ing.Labels["edit"] == "" {
		t.Fatalf("weights %d:%d, %d edits, labels %v: an update was lost", l, k, edits, ing.Labels)
	}
}

func TestBadSettingsAreRefusedWithoutAChange(t *testing.T) {
	kc, ns := setup(t)
	_, _, before := actionWeights(t, kc, ns)
	for _, tc := range []struct {
		name   string
		mutate func(*alb.Config)
		want   string
		is     error
	}{
		{"Ingress not found", func(c *alb.Config) { c.Ingress = "web" }, "ingress not found: " + ns + "/web", alb.ErrIngressNotFound},
		{"no such action", func(c *alb.Config) { c.Action = "blue-green" }, "no annotation alb.ingress.kubernetes.io/actions.blue-green", alb.ErrActionNotFound},
		{"an action no rule uses", func(c *alb.Config) { c.Action = "maintenance" }, "no rule's backend is Service maintenance", alb.ErrActionNotFound},
		{"another legacy target group", func(c *alb.Config) {
			c.LegacyTargetGroupARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/other/1"
		}, "no target group with targetGroupARN", alb.ErrTargetGroupNotFound},
		{"another Service", func(c *alb.Config) { c.Service = "web" }, "no target group with serviceName web", alb.ErrTargetGroupNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := router(t, kc, func(c *alb.Config) { c.Namespace = ns; tc.mutate(c) })
			_, err := r.Weights(context.Background())
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Weights: %v, want one line wrapping %v with %q", err, tc.is, tc.want)
			}
			if err := r.SetWeights(context.Background(), traffic.KubernetesShare(100)); !errors.Is(err, tc.is) {
				t.Fatalf("SetWeights: %v, want %v", err, tc.is)
			}
		})
	}
	if _, _, after := actionWeights(t, kc, ns); after.ResourceVersion != before.ResourceVersion {
		t.Fatal("a refused SetWeights changed the Ingress")
	}
	if err := kc.CoreV1().Services(ns).Delete(context.Background(), "shop", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := router(t, kc, func(c *alb.Config) { c.Namespace = ns }).Weights(context.Background())
	if err == nil || !strings.Contains(err.Error(), "Service "+ns+"/shop in the forward action does not exist") {
		t.Fatalf("Weights without the Service: %v", err)
	}
}
