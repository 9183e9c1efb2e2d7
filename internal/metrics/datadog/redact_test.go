package datadog_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"ferry.dev/ferry/internal/metrics/datadog"
)

// A site URL may carry credentials (a forwarding proxy's user and password, a token in
// its path or query); no error shows them.
func TestErrorsDoNotShowTheSiteCredentials(t *testing.T) {
	const secret = "q8ZrT2vLx9NpB4sKwE7mYc"
	for _, tc := range []struct {
		name   string
		mutate func(*datadog.Config, string)
		want   string
	}{
		{"unreachable", func(c *datadog.Config, _ string) {
			c.Site = "http://ferry:" + secret + "@127.0.0.1:1/relay/" + secret
		}, "connection refused"},
		{"no series", func(c *datadog.Config, site string) {
			c.Site = strings.Replace(site, "http://", "http://ferry:"+secret+"@", 1)
			c.Legacy, c.Kubernetes = "ec2", "eks"
		}, "matches nothing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, src := newSource(t, func(c *datadog.Config) { tc.mutate(c, c.Site) })
			_, err := src.Sample(context.Background(), time.Now().Add(-time.Minute))
			if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Sample: %v, want %q without the credentials", err, tc.want)
			}
		})
	}
}
