package alb

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"ferry.dev/ferry/internal/traffic"
)

const legacyARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-legacy/0123456789abcdef"

func TestParseAndCheckTheForwardAction(t *testing.T) {
	s := sides{legacyARN: legacyARN, service: "shop"}
	for _, tc := range []struct {
		name, json string
		share      int
		wantErr    string
	}{
		{"both target groups", `{"type":"forward","forwardConfig":{"targetGroups":[{"targetGroupARN":"` + legacyARN + `","weight":90},{"serviceName":"shop","servicePort":"80","weight":10}]}}`, 1000, ""},
		{"an unweighted group counts 0", `{"type":"forward","forwardConfig":{"targetGroups":[{"targetGroupARN":"` + legacyARN + `","weight":1},{"serviceName":"shop","servicePort":80}]}}`, 0, ""},
		{"not JSON", `{"type":`, 0, "not valid JSON"},
		{"a fixed response", `{"type":"fixed-response","fixedResponseConfig":{"statusCode":"503"}}`, 0, `type is "fixed-response", not forward`},
		{"no target groups", `{"type":"forward","forwardConfig":{"targetGroups":[]}}`, 0, "no forwardConfig.targetGroups"},
		{"legacy ARN differs", `{"type":"forward","forwardConfig":{"targetGroups":[{"targetGroupARN":"arn:other","weight":90},{"serviceName":"shop","servicePort":"80","weight":10}]}}`, 0, "no target group with targetGroupARN " + legacyARN},
		{"service differs", `{"type":"forward","forwardConfig":{"targetGroups":[{"targetGroupARN":"` + legacyARN + `","weight":90},{"serviceName":"web","servicePort":"80","weight":10}]}}`, 0, "no target group with serviceName shop"},
		{"a third group with traffic", `{"type":"forward","forwardConfig":{"targetGroups":[{"targetGroupARN":"` + legacyARN + `","weight":90},{"serviceName":"shop","weight":5},{"serviceName":"canary","weight":5}]}}`, 0, "also forwards to canary"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := parseForward(tc.json)
			if err == nil {
				err = s.check(f)
			}
			if (err != nil) != (tc.wantErr != "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
			if strings.HasPrefix(tc.wantErr, "no target group") && !errors.Is(err, ErrTargetGroupNotFound) {
				t.Fatalf("error %v does not wrap ErrTargetGroupNotFound", err)
			}
			if err == nil && s.weights(f).Kubernetes != tc.share {
				t.Fatalf("share %d, want %d", s.weights(f).Kubernetes, tc.share)
			}
		})
	}
}

func TestSetWeightsKeepsTheRestOfTheAction(t *testing.T) {
	s := sides{legacyARN: legacyARN, service: "shop"}
	in := `{"type":"forward","forwardConfig":{"targetGroups":[{"targetGroupARN":"` + legacyARN + `","weight":100},{"serviceName":"shop","servicePort":"http","weight":0}],"targetGroupStickinessConfig":{"enabled":true,"durationSeconds":200}}}`
	for _, tc := range []struct {
		bp, legacy, kube int
	}{{100, 99, 1}, {50, 199, 1}, {1, 999, 1}, {10000, 0, 100}} {
		f, err := parseForward(in)
		if err != nil {
			t.Fatal(err)
		}
		out, changed, err := s.setWeights(f, traffic.KubernetesShare(tc.bp))
		if err != nil || !changed {
			t.Fatalf("setWeights: %v, changed %v", err, changed)
		}
		var doc struct {
			ForwardConfig struct {
				TargetGroups []struct {
					ARN         string `json:"targetGroupARN"`
					ServicePort string `json:"servicePort"`
					Weight      int    `json:"weight"`
				} `json:"targetGroups"`
				Stickiness struct {
					Enabled  bool `json:"enabled"`
					Duration int  `json:"durationSeconds"`
				} `json:"targetGroupStickinessConfig"`
			} `json:"forwardConfig"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		g := doc.ForwardConfig.TargetGroups
		if g[0].Weight != tc.legacy || g[1].Weight != tc.kube || g[0].ARN != legacyARN || g[1].ServicePort != "http" || !doc.ForwardConfig.Stickiness.Enabled || doc.ForwardConfig.Stickiness.Duration != 200 {
			t.Fatalf("%s → %s", traffic.FormatPercent(tc.bp), out)
		}
		again, _ := parseForward(out)
		if _, changed, _ := s.setWeights(again, traffic.KubernetesShare(tc.bp)); changed {
			t.Fatalf("setting %s twice changed the action", traffic.FormatPercent(tc.bp))
		}
	}
}

func TestUsesAction(t *testing.T) {
	path := func(svc, port string) networkingv1.HTTPIngressPath {
		return networkingv1.HTTPIngressPath{Path: "/", Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Name: port}}}}
	}
	ing := func(paths ...networkingv1.HTTPIngressPath) *networkingv1.Ingress {
		return &networkingv1.Ingress{Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}}}}}}
	}
	for _, tc := range []struct {
		name string
		ing  *networkingv1.Ingress
		want bool
	}{
		{"a rule uses it", ing(path("shop", "http"), path("split", "use-annotation")), true},
		{"named but not through the annotation", ing(path("split", "http")), false},
		{"another action", ing(path("other", "use-annotation")), false},
		{"no rules", &networkingv1.Ingress{}, false},
	} {
		if got := usesAction(tc.ing, "split"); got != tc.want {
			t.Errorf("%s: usesAction = %v", tc.name, got)
		}
	}
}
