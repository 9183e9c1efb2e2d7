package v1alpha1_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/plan"
)

// secrets is a namespace's Secrets, by "name/key".
type secrets map[string]string

func (s secrets) read(_ context.Context, ref v1alpha1.SecretKeyRef) (string, error) {
	v, ok := s[ref.Name+"/"+ref.Key]
	if !ok {
		return "", errors.New("not found")
	}
	return v, nil
}

var namespaceSecrets = secrets{"proxy/token": "s3cret", "hooks/slack": "https://hooks.example/T1", "dd/api": "A", "dd/app": "B"}

func load(t *testing.T, name string) *v1alpha1.Migration {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var m v1alpha1.Migration
	if err := yaml.UnmarshalStrict(data, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &m
}

func TestPlan(t *testing.T) {
	for _, tc := range []struct {
		file  string
		check func(t *testing.T, p *plan.Plan, c v1alpha1.Credentials)
	}{
		{"proxy.yaml", func(t *testing.T, p *plan.Plan, c v1alpha1.Credentials) {
			if p.Name != "shop" || len(p.Steps) != 2 || p.Steps[0].BasisPoints != 500 || p.Steps[0].Hold != time.Minute || p.Steps[0].MinRequests != 100 {
				t.Errorf("steps: %+v", p.Steps)
			}
			if p.Steps[1].Hold != plan.DefaultHold || p.Interval != 2*time.Second || p.Warmup != plan.DefaultWarmup {
				t.Errorf("defaults not applied: hold %s interval %s warmup %s", p.Steps[1].Hold, p.Interval, p.Warmup)
			}
			if p.Router.Proxy == nil || p.Router.Proxy.Admin != "http://ferry-proxy-admin:9901" || p.Metrics.Proxy == nil {
				t.Errorf("router %+v metrics %+v", p.Router, p.Metrics)
			}
			if c.ProxyToken != "s3cret" {
				t.Errorf("proxy token %q", c.ProxyToken)
			}
			if len(p.Notify) != 1 || p.Notify[0].Slack != "https://hooks.example/T1" {
				t.Errorf("notify %+v", p.Notify)
			}
			if e := p.Gates.Endpoints; e == nil || len(e.Critical) != 1 || e.Critical[0] != "POST /payroll/{id}/run" || len(e.Ignore) != 1 || e.Ignore[0] != "/healthz" || e.MaxEndpoints != 50 {
				t.Errorf("gates.endpoints %+v", e)
			}
			if p.LegacyCapacityGuard() {
				t.Error("spec.guard.legacyCapacity false left the guard on")
			}
		}},
		{"gateway.yaml", func(t *testing.T, p *plan.Plan, c v1alpha1.Credentials) {
			if len(p.Steps) != len(plan.DefaultWeights) {
				t.Errorf("default steps not applied: %+v", p.Steps)
			}
			if p.Router.Gateway == nil || p.Router.Gateway.Namespace != "blog" {
				t.Errorf("gateway router %+v: want the Migration's namespace", p.Router.Gateway)
			}
			if c.DatadogAPIKey != "A" || c.DatadogAppKey != "B" {
				t.Errorf("datadog keys %+v", c)
			}
			if !p.LegacyCapacityGuard() || p.Gates.Endpoints != nil {
				t.Errorf("a spec without guard and gates.endpoints: guard %v, endpoints %+v; want the guard on and no endpoint settings", p.LegacyCapacityGuard(), p.Gates.Endpoints)
			}
		}},
		{"alb.yaml", func(t *testing.T, p *plan.Plan, _ v1alpha1.Credentials) {
			a := p.Router.ALB
			if a == nil || a.Namespace != "shop" || a.Action != "split" || a.Endpoint != "https://vpce-0abc-elasticloadbalancing.eu-west-1.vpce.amazonaws.com" {
				t.Errorf("alb router %+v: want the Migration's namespace and its endpoint", a)
			}
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			p, c, err := load(t, tc.file).Plan(context.Background(), namespaceSecrets.read)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, p, c)
		})
	}
}

func TestPlanRefused(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"falling.yaml", "10% is not above the previous step's 50%"},
		{"missing-secret.yaml", "spec.router.proxy.tokenSecretRef: secret absent key token: not found"},
		{"bad-endpoint.yaml", `gates.endpoints.critical[0] (line`},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, _, err := load(t, tc.file).Plan(context.Background(), namespaceSecrets.read)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}
