package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseClusterPlan(t *testing.T) {
	for _, tc := range []struct {
		file string
		// want are the parts of the refusal; none: the plan is read.
		want []string
		// not must not be in the refusal (secrets are never shown).
		not string
	}{
		{file: "by-reference.yaml"},
		{file: "inline-secrets.yaml", want: []string{
			"router.proxy.tokenFile (line 3): the proxy's admin token is a secret", "router.proxy.tokenSecretRef: {name: SECRET, key: KEY}",
			"metrics.datadog.apiKeyEnv (line 6): the Datadog API key is a secret", "metrics.datadog.apiKeySecretRef",
			"notify[1].webhook (line 10): a webhook URL is a secret",
		}, not: "s3cr3t"},
		{file: "local-files.yaml", want: []string{"gates.latency.baseline (line 7): the controller cannot read a file", "gates.latency.tolerance (line 7)", "cronJobs (line 8): a Migration does not suspend CronJobs"}},
		{file: "unknown-field.yaml", want: []string{`unknown field "speed"`}},
		{file: "wrong-type.yaml", want: []string{"steps.weight: a list where text"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "cluster-plans", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			p, err := parseClusterPlan(data)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				s := p.MigrationSpec
				if p.Name != "shop" || len(s.Steps) != 3 || s.Steps[0].Weight != "1" || s.Steps[0].MinRequests != 1000 || s.Steps[0].Hold.Duration.String() != "10m0s" ||
					s.Router.Proxy.TokenSecretRef.Key != "token" || s.Metrics.Datadog.AppKeySecretRef.Key != "app" || s.Notify[0].Slack.Name != "ferry-notify" || p.State == "" {
					t.Errorf("read %+v", p)
				}
				return
			}
			if err == nil {
				t.Fatalf("read %+v, want a refusal", p)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || (tc.not != "" && strings.Contains(msg, tc.not)) {
				t.Errorf("refusal %q: want one line without %q", msg, tc.not)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("refusal %q, want it to say %q", msg, w)
				}
			}
		})
	}
}
