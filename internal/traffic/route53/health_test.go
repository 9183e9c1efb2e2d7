package route53_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"ferry.dev/ferry/internal/traffic"
	"ferry.dev/ferry/internal/traffic/route53"
	"ferry.dev/ferry/internal/traffic/route53/route53test"
)

// healthRouter serves www's legacy record with health check hc-legacy (when
// withCheck) and returns a router over it.
func healthRouter(t *testing.T, withCheck bool) (*route53test.Server, *route53.Router) {
	t.Helper()
	srv := route53test.NewServer(t, 0)
	legacy := weighted("www.example.com.", "A", "legacy", 100, 60, "192.0.2.10")
	if withCheck {
		legacy.HealthCheckID = "hc-legacy"
	}
	srv.AddZone("Z1", "example.com.", legacy, weighted("www.example.com.", "A", "kubernetes", 0, 60, "198.51.100.20"))
	client, err := route53.NewClient(context.Background(), route53.ClientConfig{
		Endpoint: srv.URL, Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCAL", "local-secret", ""), MaxAttempts: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := route53.New(route53.Config{Client: client, HostedZoneID: "Z1", Name: "www.example.com", Legacy: "legacy", Kubernetes: "kubernetes", PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return srv, r
}

// The legacy record's health check decides, as Route 53 does: healthy when more than
// 18 % of its checkers report success.
func TestLegacyCapacityFromTheHealthCheck(t *testing.T) {
	srv, r := healthRouter(t, true)
	for _, tc := range []struct {
		name              string
		healthy, checkers int
		want              bool
	}{
		{"every checker reports success", 16, 16, true},
		{"a few checkers cut off", 12, 16, true},
		{"3 of 16 is 18.75 %, above the bar", 3, 16, true},
		{"2 of 16 is 12.5 %, below it", 2, 16, false},
		{"none", 0, 16, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.SetHealthCheck("hc-legacy", tc.healthy, tc.checkers)
			c, err := r.LegacyCapacity(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			want := traffic.Capacity{Servers: 1}
			if tc.want {
				want.Healthy = 1
			}
			if c != want {
				t.Fatalf("capacity %+v, want %+v", c, want)
			}
			if share := c.MaxLegacy(); share != map[bool]int{true: traffic.Total, false: 0}[tc.want] {
				t.Errorf("legacy can take %d bp", share)
			}
		})
	}
}

func TestLegacyCapacityWithoutAHealthCheck(t *testing.T) {
	_, r := healthRouter(t, false)
	if _, err := r.LegacyCapacity(context.Background()); !errors.Is(err, traffic.ErrNoCapacity) {
		t.Fatalf("a record without a health check: %v, want ErrNoCapacity", err)
	}
}

func TestLegacyCapacityOfAnUnknownHealthCheck(t *testing.T) {
	_, r := healthRouter(t, true) // hc-legacy named by the record but unknown to Route 53
	_, err := r.LegacyCapacity(context.Background())
	if err == nil || errors.Is(err, traffic.ErrNoCapacity) {
		t.Fatalf("an unknown health check: %v, want an error that is not ErrNoCapacity (the guard holds on it)", err)
	}
}
