// Package providers builds the router and the metric source a migration plan names,
// from the provider sub-packages. It is the one place that knows them all; the
// migrate package only sees its own interfaces.
package providers

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"ferry.dev/ferry/internal/metrics/proxystats"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/traffic"
	"ferry.dev/ferry/internal/traffic/proxy"
)

// ForPlan returns the plan's router and metric source.
func ForPlan(plan *migrate.Plan) (traffic.Router, migrate.MetricSource, error) {
	var router traffic.Router
	var admin *proxy.AdminClient
	switch {
	case plan.Router.Proxy != nil:
		token, err := proxyToken(plan.Router.Proxy)
		if err != nil {
			return nil, nil, err
		}
		admin = &proxy.AdminClient{BaseURL: strings.TrimRight(plan.Router.Proxy.Admin, "/"), Token: token}
		router = admin
	default:
		return nil, nil, errors.New("the plan names no router")
	}
	if plan.Metrics.Proxy != nil {
		return router, proxystats.FromAdmin(admin), nil
	}
	return nil, nil, errors.New("the plan names no metric source")
}

func proxyToken(c *migrate.ProxyConfig) (string, error) {
	if c.TokenFile == "" {
		return os.Getenv("FERRY_PROXY_TOKEN"), nil
	}
	data, err := os.ReadFile(c.TokenFile)
	if err != nil {
		return "", fmt.Errorf("router.proxy.tokenFile: %w", err)
	}
	return strings.TrimSpace(string(data)), nil
}
