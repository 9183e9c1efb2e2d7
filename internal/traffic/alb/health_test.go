package alb_test

// The legacy side's capacity from the health Elastic Load Balancing reports for the
// legacy target group. albtest's server stands in for AWS, which tests cannot reach:
// it speaks the documented ELBv2 query API (POST Action=DescribeTargetHealth,
// Version=2015-12-01; XML DescribeTargetHealthResponse) and the real SDK talks to it.

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"k8s.io/client-go/kubernetes"

	"ferry.dev/ferry/internal/devcluster/devclustertest"
	"ferry.dev/ferry/internal/traffic"
	"ferry.dev/ferry/internal/traffic/alb"
	"ferry.dev/ferry/internal/traffic/alb/albtest"
)

// healthRouter returns a router whose Elastic Load Balancing client talks to the
// endpoint. LegacyCapacity asks only Elastic Load Balancing; the cluster client is
// there because a router needs one.
func healthRouter(t *testing.T, endpoint string) *alb.Router {
	t.Helper()
	client, err := alb.NewClient(context.Background(), alb.ClientConfig{
		TargetGroupARN: legacyARN, Endpoint: endpoint,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCAL", "local-secret", ""), MaxAttempts: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	kc := kubernetes.NewForConfigOrDie(devclustertest.RESTConfig(t))
	return router(t, kc, func(c *alb.Config) { c.Namespace, c.ELB = "shop", client })
}

func target(id, state, reason string) albtest.Target {
	return albtest.Target{ID: id, Port: 80, State: state, Reason: reason}
}

// Three registered targets, two of them failing their checks: legacy has one of
// three, so it could take a third of the traffic.
func TestLegacyCapacityCountsHealthyTargets(t *testing.T) {
	srv := albtest.NewServer(t)
	srv.SetTargets(legacyARN,
		target("i-0a1", "healthy", ""),
		target("i-0a2", "unhealthy", "Target.Timeout"),
		target("i-0a3", "unhealthy", "Target.ResponseCodeMismatch"),
	)
	r := healthRouter(t, srv.URL)
	c, err := r.LegacyCapacity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := (traffic.Capacity{Servers: 3, Healthy: 1}); c != want {
		t.Fatalf("capacity %+v, want %+v", c, want)
	}
	if got, want := c.String(), "legacy has 1 of 3 servers healthy"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := c.MaxLegacy(); got != 3333 {
		t.Errorf("legacy can take %d bp, want 3333", got)
	}
	calls := srv.Calls()
	if len(calls) != 1 || calls[0].Action != "DescribeTargetHealth" || calls[0].TargetGroupARN != legacyARN || calls[0].Region != "eu-west-1" {
		t.Errorf("calls %+v, want one DescribeTargetHealth of the legacy target group signed for the ARN's region, eu-west-1", calls)
	}
}

// Each state DescribeTargetHealth reports, as one target of its own: only a healthy
// target outside a zonal shift can take its part of an abort; one whose health checks
// are disabled tells nothing.
func TestLegacyCapacityByTargetState(t *testing.T) {
	srv := albtest.NewServer(t)
	r := healthRouter(t, srv.URL)
	for _, tc := range []struct {
		name    string
		target  albtest.Target
		healthy bool
		noCheck bool
	}{
		{"healthy", target("i-1", "healthy", ""), true, false},
		{"healthy but its zone shifted away", albtest.Target{ID: "i-1", State: "healthy", Override: "zonal_shift_active"}, false, false},
		{"registering", target("i-1", "initial", "Elb.RegistrationInProgress"), false, false},
		{"not yet through its first checks", target("i-1", "initial", "Elb.InitialHealthChecking"), false, false},
		{"failing its checks", target("i-1", "unhealthy", "Target.FailedHealthChecks"), false, false},
		{"unhealthy and being deregistered", target("i-1", "unhealthy.draining", "Target.DeregistrationInProgress"), false, false},
		{"being deregistered", target("i-1", "draining", "Target.DeregistrationInProgress"), false, false},
		{"instance stopped", target("i-1", "unused", "Target.InvalidState"), false, false},
		{"zone not enabled", target("i-1", "unused", "Target.NotInUse"), false, false},
		{"health unknown after an internal error", target("i-1", "unavailable", "Elb.InternalError"), false, false},
		{"a state this client does not know", target("i-1", "hibernating", ""), false, false},
		{"health checks disabled", target("i-1", "unavailable", "Target.HealthCheckDisabled"), false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.SetTargets(legacyARN, tc.target)
			c, err := r.LegacyCapacity(context.Background())
			if tc.noCheck {
				if !errors.Is(err, traffic.ErrNoCapacity) || !strings.Contains(err.Error(), "health checks disabled") {
					t.Fatalf("capacity %+v, error %v; want ErrNoCapacity saying health checks are disabled", c, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := traffic.Capacity{Servers: 1}
			if tc.healthy {
				want.Healthy = 1
			}
			if c != want {
				t.Fatalf("capacity %+v, want %+v", c, want)
			}
		})
	}
}

// A target group whose health checks are disabled on some targets counts the others.
func TestLegacyCapacityLeavesOutTargetsWithoutChecks(t *testing.T) {
	srv := albtest.NewServer(t)
	srv.SetTargets(legacyARN, target("i-1", "healthy", ""), target("i-2", "unavailable", "Target.HealthCheckDisabled"), target("i-3", "unhealthy", "Target.Timeout"))
	c, err := healthRouter(t, srv.URL).LegacyCapacity(context.Background())
	if err != nil || c != (traffic.Capacity{Servers: 2, Healthy: 1}) {
		t.Fatalf("capacity %+v, error %v; want 1 of 2", c, err)
	}
}

// Errors a guard holds a step up on (never ErrNoCapacity, which it would not hold
// on), each one line in ferry's words.
func TestLegacyCapacityErrors(t *testing.T) {
	srv := albtest.NewServer(t)
	r := healthRouter(t, srv.URL)
	for _, tc := range []struct {
		name  string
		setup func()
		want  string
		is    error
	}{
		{"target group not found", func() { srv.DeleteTargetGroup(legacyARN) },
			"alb: target health of the legacy target group shop-legacy: no such target group: " + legacyARN, alb.ErrNoSuchTargetGroup},
		{"no registered targets", func() { srv.SetTargets(legacyARN) },
			"alb: the legacy target group shop-legacy has no registered targets", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup()
			c, err := r.LegacyCapacity(context.Background())
			if err == nil {
				t.Fatalf("capacity %+v, want an error", c)
			}
			if err.Error() != tc.want {
				t.Errorf("error %q, want %q", err, tc.want)
			}
			if errors.Is(err, traffic.ErrNoCapacity) {
				t.Errorf("error %v wraps ErrNoCapacity: the guard would not hold", err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v does not wrap %v", err, tc.is)
			}
		})
	}
}

// A router without an Elastic Load Balancing client cannot tell.
func TestLegacyCapacityWithoutAClient(t *testing.T) {
	kc := kubernetes.NewForConfigOrDie(devclustertest.RESTConfig(t))
	r := router(t, kc, func(c *alb.Config) { c.Namespace = "shop" })
	if _, err := r.LegacyCapacity(context.Background()); !errors.Is(err, traffic.ErrNoCapacity) {
		t.Fatalf("no client: %v, want ErrNoCapacity", err)
	}
}

// An ELBv2-compatible endpoint may carry credentials in its URL (a gateway's user and
// password, a token in its path or query); no error shows them.
func TestCapacityErrorsDoNotShowTheEndpointCredentials(t *testing.T) {
	const secret = "q8ZrT2vLx9NpB4sKwE7mYc"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there
	r := healthRouter(t, "http://ferry:"+secret+"@"+addr+"/gw/"+secret+"?token="+secret)
	_, err = r.LegacyCapacity(context.Background())
	if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), addr) {
		t.Fatalf("LegacyCapacity: %v, want a refused connection to %s without the credentials", err, addr)
	}
}
