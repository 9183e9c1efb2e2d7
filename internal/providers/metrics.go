package providers

import (
	"fmt"
	"os"
	"time"

	"ferry.dev/ferry/internal/metrics/datadog"
	"ferry.dev/ferry/internal/metrics/prometheus"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/plan"
)

func prometheusSource(c *plan.PrometheusConfig, secrets *Secrets, byEndpoint bool) (migrate.MetricSource, error) {
	token, err := readSecret(c.BearerTokenFile, "", "metrics.prometheus.bearerTokenFile")
	if err != nil {
		return nil, err
	}
	if secrets != nil {
		token = secrets.PrometheusToken
	}
	return prometheus.New(prometheus.Config{
		Address: c.Address, BearerToken: token, Legacy: c.Legacy, Kubernetes: c.Kubernetes,
		// The per-endpoint queries are the defaults, on the proxy's route label.
		Queries:    prometheus.Queries{Requests: c.Queries.Requests, Errors: c.Queries.Errors, Latency: c.Queries.Latency},
		ByEndpoint: byEndpoint,
	})
}

func datadogSource(c *plan.DatadogConfig, secrets *Secrets) (migrate.MetricSource, error) {
	keys := [2]string{}
	if secrets != nil {
		keys = [2]string{secrets.DatadogAPIKey, secrets.DatadogAppKey}
	} else {
		for i, env := range []string{or(c.APIKeyEnv, "DD_API_KEY"), or(c.AppKeyEnv, "DD_APP_KEY")} {
			if keys[i] = os.Getenv(env); keys[i] == "" {
				return nil, fmt.Errorf("metrics.datadog: $%s is empty: export the key there", env)
			}
		}
	}
	unit := map[string]time.Duration{"": time.Second, "s": time.Second, "ms": time.Millisecond, "us": time.Microsecond}[c.LatencyUnit]
	return datadog.New(datadog.Config{
		Site: c.Site, APIKey: keys[0], AppKey: keys[1], Legacy: c.Legacy, Kubernetes: c.Kubernetes, LatencyUnit: unit, MinInterval: c.MinInterval,
		Queries: datadog.Queries{Requests: c.Queries.Requests, Errors: c.Queries.Errors, Latency: c.Queries.Latency},
	})
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
