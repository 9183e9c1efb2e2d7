package v1alpha1_test

import (
	"context"
	"testing"
)

func TestPlanOfAProxyFleet(t *testing.T) {
	p, c, err := load(t, "fleet.yaml").Plan(context.Background(), namespaceSecrets.read)
	if err != nil {
		t.Fatal(err)
	}
	f := p.Router.ProxyFleet
	if f == nil || f.Namespace != "shop" || f.Service != "ferry-proxy" || f.AdminPort != "admin" {
		t.Fatalf("fleet router %+v: want Service shop/ferry-proxy (the Migration's namespace) and port admin", f)
	}
	if c.ProxyToken != "s3cret" {
		t.Errorf("proxy token %q, want the Secret's", c.ProxyToken)
	}
	if p.Metrics.Proxy == nil {
		t.Errorf("metrics %+v, want the proxies' own", p.Metrics)
	}
}
