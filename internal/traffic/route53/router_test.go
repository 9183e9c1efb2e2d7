package route53_test

// AWS cannot be reached from tests: these drive the real AWS SDK for Go v2 against
// route53test, a local server that speaks the documented Route 53 REST XML API
// (ChangeResourceRecordSets, ListResourceRecordSets, GetChange, GetHealthCheckStatus).

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"

	"ferry.dev/ferry/internal/traffic"
	"ferry.dev/ferry/internal/traffic/route53"
	"ferry.dev/ferry/internal/traffic/route53/route53test"
)

func weighted(name, typ, id string, weight, ttl int64, value string) route53test.RecordSet {
	return route53test.RecordSet{Name: name, Type: typ, SetIdentifier: id, Weight: &weight, TTL: &ttl, Values: []string{value}}
}

// backoffLog records every backoff the SDK asks for, with the error that caused it.
type backoffLog struct {
	mu    sync.Mutex
	codes []string
	inner retry.BackoffDelayer
}

func (b *backoffLog) BackoffDelay(attempt int, err error) (time.Duration, error) {
	var api smithy.APIError
	code := "?"
	if errors.As(err, &api) {
		code = api.ErrorCode()
	}
	b.mu.Lock()
	b.codes = append(b.codes, code)
	b.mu.Unlock()
	return b.inner.BackoffDelay(attempt, err)
}

type fixture struct {
	srv     *route53test.Server
	router  *route53.Router
	backoff *backoffLog
}

// newFixture serves zone Z1 (example.com.) with www's legacy record at weight 100 and
// its kubernetes record at 0, both with a TTL of ttl seconds, plus a dual-stack name.
func newFixture(t *testing.T, syncDelay time.Duration, ttl int64, attempts int, mutate func(*route53.Config)) *fixture {
	t.Helper()
	srv := route53test.NewServer(t, syncDelay)
	srv.AddZone("Z1", "example.com.",
		weighted("www.example.com.", "A", "legacy", 100, ttl, "192.0.2.10"),
		weighted("www.example.com.", "A", "kubernetes", 0, ttl, "198.51.100.20"),
		weighted("shop.example.com.", "A", "legacy", 100, ttl, "192.0.2.11"),
		weighted("shop.example.com.", "A", "kubernetes", 0, ttl, "198.51.100.21"),
		weighted("shop.example.com.", "AAAA", "legacy", 100, ttl, "2001:db8::11"),
		weighted("shop.example.com.", "AAAA", "kubernetes", 0, ttl, "2001:db8::21"),
	)
	b := &backoffLog{inner: retry.NewExponentialJitterBackoff(40 * time.Millisecond)}
	client, err := route53.NewClient(context.Background(), route53.ClientConfig{
		Endpoint: srv.URL, Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCAL", "local-secret", ""),
		MaxAttempts: attempts, Backoff: b,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := route53.Config{Client: client, HostedZoneID: "Z1", Name: "WWW.example.com", Legacy: "legacy", Kubernetes: "kubernetes",
		PollInterval: 20 * time.Millisecond, MaxPollInterval: 50 * time.Millisecond}
	if mutate != nil {
		mutate(&cfg)
	}
	r, err := route53.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{srv: srv, router: r, backoff: b}
}

func (f *fixture) count(op string) int {
	n := 0
	for _, c := range f.srv.Calls() {
		if c.Op == op {
			n++
		}
	}
	return n
}

func TestSetWeightsChangesBothRecordsInOneBatchAndWaitsForInSync(t *testing.T) {
	const syncDelay = 150 * time.Millisecond
	f := newFixture(t, syncDelay, 1, 0, nil)
	ctx := context.Background()
	for _, tc := range []struct {
		percent      string
		legacy, kube int64
		effective    int
	}{
		{"1", 99, 1, 100},
		{"5", 95, 5, 500},
		{"10", 90, 10, 1000},
		{"50", 50, 50, 5000},
		{"0.5", 199, 1, 50},
		{"0.3", 255, 1, 39},
		{"100", 0, 100, 10000},
		{"0", 100, 0, 0},
	} {
		t.Run(tc.percent, func(t *testing.T) {
			bp, _ := traffic.ParsePercent(tc.percent)
			changes := f.count("ChangeResourceRecordSets")
			start := time.Now()
			if err := f.router.SetWeights(ctx, traffic.KubernetesShare(bp)); err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took < syncDelay {
				t.Errorf("SetWeights returned after %s, before the change could be INSYNC (%s)", took, syncDelay)
			}
			if n := f.count("ChangeResourceRecordSets") - changes; n != 1 {
				t.Fatalf("%d change batches for one step, want 1", n)
			}
			served := f.srv.Served("Z1", "www.example.com", "A")
			if served["legacy"] != tc.legacy || served["kubernetes"] != tc.kube {
				t.Fatalf("name servers answer with %v once SetWeights returned, want legacy %d kubernetes %d", served, tc.legacy, tc.kube)
			}
			got, err := f.router.Weights(ctx)
			if err != nil || got.Kubernetes != tc.effective {
				t.Fatalf("Weights = %v, %v; want the effective share %s", got, err, traffic.FormatPercent(tc.effective))
			}
		})
	}
	// Setting what is already set changes nothing.
	changes := f.count("ChangeResourceRecordSets")
	if err := f.router.SetWeights(ctx, traffic.KubernetesShare(0)); err != nil || f.count("ChangeResourceRecordSets") != changes {
		t.Fatalf("a no-op SetWeights: %v, %d new batches", err, f.count("ChangeResourceRecordSets")-changes)
	}
	if err := f.router.SetWeights(ctx, traffic.Weights{Legacy: 5000, Kubernetes: 10}); !errors.Is(err, traffic.ErrInvalidWeights) {
		t.Fatalf("invalid weights: %v", err)
	}
}

func TestDualStackNamesChangeTogether(t *testing.T) {
	f := newFixture(t, 0, 1, 0, func(c *route53.Config) { c.Name = "shop.example.com." })
	if err := f.router.SetWeights(context.Background(), traffic.KubernetesShare(1000)); err != nil {
		t.Fatal(err)
	}
	if n := f.count("ChangeResourceRecordSets"); n != 1 {
		t.Fatalf("%d batches, want A and AAAA in one", n)
	}
	for _, typ := range []string{"A", "AAAA"} {
		if s := f.srv.Served("Z1", "shop.example.com.", typ); s["legacy"] != 90 || s["kubernetes"] != 10 {
			t.Fatalf("%s records %v, want 90:10", typ, s)
		}
	}
}

func TestThrottledCallsAreRetriedWithBackoff(t *testing.T) {
	f := newFixture(t, 0, 1, 0, nil)
	// Four PriorRequestNotComplete in a row: more than the SDK's default three attempts.
	f.srv.Throttle("ChangeResourceRecordSets", "PriorRequestNotComplete", "PriorRequestNotComplete", "PriorRequestNotComplete", "PriorRequestNotComplete")
	f.srv.Throttle("ListResourceRecordSets", "Throttling")
	f.srv.Throttle("GetChange", "Throttling", "Throttling")
	if err := f.router.SetWeights(context.Background(), traffic.KubernetesShare(500)); err != nil {
		t.Fatalf("SetWeights under throttling: %v", err)
	}
	if s := f.srv.Served("Z1", "www.example.com.", "A"); s["kubernetes"] != 5 {
		t.Fatalf("records %v after throttling, want 95:5", s)
	}
	got := strings.Join(f.backoff.codes, ",")
	if want := "Throttling,PriorRequestNotComplete,PriorRequestNotComplete,PriorRequestNotComplete,PriorRequestNotComplete,Throttling,Throttling"; got != want {
		t.Fatalf("backoffs for %s, want one for each throttled call: %s", got, want)
	}
	if n := f.count("ChangeResourceRecordSets"); n != 5 {
		t.Fatalf("%d change calls, want 4 throttled and 1 accepted", n)
	}

	// With the SDK's default of three attempts the same spell fails.
	impatient := newFixture(t, 0, 1, 3, nil)
	impatient.srv.Throttle("ChangeResourceRecordSets", "PriorRequestNotComplete", "PriorRequestNotComplete", "PriorRequestNotComplete", "PriorRequestNotComplete")
	err := impatient.router.SetWeights(context.Background(), traffic.KubernetesShare(500))
	if err == nil || !strings.Contains(err.Error(), "PriorRequestNotComplete") {
		t.Fatalf("three attempts against four throttles: %v, want PriorRequestNotComplete", err)
	}
}

func TestBadSettingsAreRefusedWithoutAChange(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*route53.Config)
		want   string
		is     error
	}{
		{"missing hosted zone", func(c *route53.Config) { c.HostedZoneID = "Z404" }, "hosted zone not found: Z404", route53.ErrHostedZoneNotFound},
		{"unknown record", func(c *route53.Config) { c.Name = "api.example.com" }, `no record api.example.com. with set identifier "legacy" or "kubernetes"`, route53.ErrRecordNotFound},
		{"unknown set identifier", func(c *route53.Config) { c.Kubernetes = "eks" }, `no record www.example.com. A with set identifier "eks"`, route53.ErrRecordNotFound},
		{"wrong type", func(c *route53.Config) { c.Type = "AAAA" }, "no record www.example.com. AAAA", route53.ErrRecordNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, 0, 1, 0, tc.mutate)
			_, err := f.router.Weights(context.Background())
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Weights: %v, want one line wrapping %v with %q", err, tc.is, tc.want)
			}
			if err := f.router.SetWeights(context.Background(), traffic.KubernetesShare(100)); !errors.Is(err, tc.is) {
				t.Fatalf("SetWeights: %v, want %v", err, tc.is)
			}
			if n := f.count("ChangeResourceRecordSets"); n != 0 {
				t.Fatalf("%d change batches sent for bad settings", n)
			}
		})
	}
	if _, err := route53.New(route53.Config{Client: nil}); err == nil {
		t.Fatal("New without a client succeeded")
	}
}

func TestAChangeNotYetInSyncIsWaitedForAgain(t *testing.T) {
	f := newFixture(t, 600*time.Millisecond, 1, 0, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := f.router.SetWeights(ctx, traffic.KubernetesShare(100))
	if err == nil || !strings.Contains(err.Error(), "accepted but not yet INSYNC") {
		t.Fatalf("SetWeights cut short: %v, want it to say the change is pending", err)
	}
	// The runner tries again: the records already carry the weights, so no second
	// batch, but the call still waits for the first change to be INSYNC.
	if err := f.router.SetWeights(context.Background(), traffic.KubernetesShare(100)); err != nil {
		t.Fatal(err)
	}
	if n := f.count("ChangeResourceRecordSets"); n != 1 {
		t.Fatalf("%d batches, want the one", n)
	}
	if s := f.srv.Served("Z1", "www.example.com.", "A"); s["kubernetes"] != 1 {
		t.Fatalf("served %v: the retry returned before the change was INSYNC", s)
	}
}

func TestSettleTimeIsTheRecordTTL(t *testing.T) {
	f := newFixture(t, 0, 45, 0, func(c *route53.Config) { c.Settle = 5 * time.Second })
	if _, err := f.router.Weights(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.router.SettleTime(); got != 50*time.Second {
		t.Fatalf("SettleTime %s, want the 45s TTL and 5s more", got)
	}
	if got := f.router.ApplyTimeout(); got < route53.DefaultSyncTimeout {
		t.Fatalf("ApplyTimeout %s, shorter than the wait for INSYNC", got)
	}
}
