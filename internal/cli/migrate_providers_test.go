package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ferry.dev/ferry/internal/traffic/route53/route53test"
)

// Bad provider settings end ferry migrate start with exit code 1 and one line on
// stderr, before any weight changes. Route 53 is a local server speaking its API.
func TestMigrateStartRefusesBadProviderSettings(t *testing.T) {
	srv := route53test.NewServer(t, 0)
	w := func(n int64) *int64 { return &n }
	srv.AddZone("Z1", "example.com.",
		route53test.RecordSet{Name: "www.example.com.", Type: "A", SetIdentifier: "ec2", Weight: w(100), TTL: w(60), Values: []string{"192.0.2.10"}},
		route53test.RecordSet{Name: "www.example.com.", Type: "A", SetIdentifier: "eks", Weight: w(0), TTL: w(60), Values: []string{"198.51.100.20"}})
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDLOCAL")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local-secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	route53 := func(zone string) string {
		return fmt.Sprintf("  route53: {endpoint: %q, hostedZoneID: %s, name: www.example.com, legacySetIdentifier: ec2, kubernetesSetIdentifier: eks}\n", srv.URL, zone)
	}
	const prometheus = "metrics:\n  prometheus: {address: 'http://127.0.0.1:9'}\n"
	for _, tc := range []struct{ name, routers, want string }{
		{"missing hosted zone", route53("Z404"), "ferry: router: route53: list www.example.com. in hosted zone Z404: hosted zone not found: Z404\n"},
		{"unreachable Prometheus", route53("Z1"), "ferry: metric source: prometheus http://127.0.0.1:9: queries.requests for legacy: "},
		{"two routers", route53("Z1") + "  proxy: {admin: 'http://127.0.0.1:9'}\n", "router (line 2): name exactly one router, not proxy and route53\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			plan := "name: shop\nrouter:\n" + tc.routers + prometheus
			path := filepath.Join(dir, "migration.yaml")
			if err := os.WriteFile(path, []byte(plan), 0o644); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			code, _, stderr := run(t, "migrate", "start", "--plan", path)
			if code != ExitError || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
				t.Fatalf("exit %d, stderr %q; want exit %d and one line with %q", code, stderr, ExitError, tc.want)
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("refused after %s", took)
			}
			if _, err := os.Stat(filepath.Join(dir, ".ferry", "migration-shop.json")); !os.IsNotExist(err) {
				t.Errorf("a migration state was written: %v", err)
			}
		})
	}
	for _, c := range srv.Calls() {
		if c.Op == "ChangeResourceRecordSets" {
			t.Fatal("a change batch was sent for a refused migration")
		}
	}
}
