package plan

import (
	"errors"
	"strings"
	"testing"
)

func TestParseProxyFleet(t *testing.T) {
	const metrics = "metrics:\n  proxy: {}\n"
	for _, tc := range []struct{ name, router, want string }{
		{"service only", "  proxyFleet: {service: ferry-proxy}\n", ""},
		{"every setting", "  proxyFleet:\n    namespace: edge\n    service: ferry-proxy\n    adminPort: admin-api\n    tokenSecretRef: {name: ferry-proxy-admin, key: token}\n", ""},
		{"no service", "  proxyFleet: {namespace: edge}\n", "router.proxyFleet.service (line 3): required"},
		{"a service name with capitals", "  proxyFleet: {service: Ferry}\n", `router.proxyFleet.service (line 3): "Ferry" is not a Service name`},
		{"a port number for a name", "  proxyFleet: {service: p, adminPort: \"9901\"}\n", `router.proxyFleet.adminPort (line 3): "9901" is not a port name`},
		{"a port name too long", "  proxyFleet: {service: p, adminPort: the-admin-api-port}\n", "is not a port name"},
		{"a secret without its key", "  proxyFleet:\n    service: p\n    tokenSecretRef: {name: t}\n", "router.proxyFleet.tokenSecretRef.key (line 5): required"},
		{"beside the proxy", "  proxy: {admin: http://127.0.0.1:9901}\n  proxyFleet: {service: p}\n", "name exactly one router, not proxy and proxyFleet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte("name: shop\nrouter:\n"+tc.router+metrics), "/srv/shop")
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if p.Router.ProxyFleet == nil || p.Router.ProxyFleet.Service == "" {
					t.Fatalf("router %+v, want the fleet", p.Router)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrInvalid containing %q", err, tc.want)
			}
		})
	}
}
