package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"ferry.dev/ferry/internal/redact"
	"ferry.dev/ferry/internal/traffic"
)

var _ traffic.CapacityReporter = (*AdminClient)(nil)

// AdminClient talks to a running proxy's admin API. It is also a traffic.Router, so a
// migration can drive a proxy that runs as its own process.
type AdminClient struct {
	// BaseURL is the admin API's root, e.g. http://127.0.0.1:9090.
	BaseURL string
	// Token is the bearer token; empty for a loopback admin API without one.
	Token string
	// HTTP is the client to use; nil means one with a 10s timeout.
	HTTP *http.Client
}

// Weights returns the proxy's current split.
func (c *AdminClient) Weights(ctx context.Context) (traffic.Weights, error) {
	var w traffic.Weights
	err := c.do(ctx, http.MethodGet, PathWeights, nil, &w)
	return w, err
}

// SetWeights sets the proxy's split; it returns once the proxy applies it.
func (c *AdminClient) SetWeights(ctx context.Context, w traffic.Weights) error {
	if err := w.Validate(); err != nil {
		return err
	}
	return c.do(ctx, http.MethodPut, PathWeights, WeightsRequest{Legacy: &w.Legacy, Kubernetes: &w.Kubernetes}, nil)
}

// Stats returns both sides' statistics over the last window, with LatencyBins.
func (c *AdminClient) Stats(ctx context.Context, window time.Duration) (Snapshot, error) {
	var s Snapshot
	err := c.do(ctx, http.MethodGet, PathStats+"?bins=true&window="+url.QueryEscape(window.String()), nil, &s)
	return s, err
}

// StatsByRoute is Stats with each side's statistics by route, with their LatencyBins.
func (c *AdminClient) StatsByRoute(ctx context.Context, window time.Duration) (Snapshot, error) {
	var s Snapshot
	err := c.do(ctx, http.MethodGet, PathStats+"?bins=true&routes=true&window="+url.QueryEscape(window.String()), nil, &s)
	return s, err
}

// Backends returns every server's health.
func (c *AdminClient) Backends(ctx context.Context) ([]BackendStatus, error) {
	var b []BackendStatus
	err := c.do(ctx, http.MethodGet, PathBackends, nil, &b)
	return b, err
}

// CapacityReport returns the legacy servers' health and load (GET /v1/capacity).
func (c *AdminClient) CapacityReport(ctx context.Context) (CapacityReport, error) {
	var r CapacityReport
	err := c.do(ctx, http.MethodGet, PathCapacity, nil, &r)
	return r, err
}

// LegacyCapacity implements traffic.CapacityReporter from the proxy's CapacityReport.
func (c *AdminClient) LegacyCapacity(ctx context.Context) (traffic.Capacity, error) {
	r, err := c.CapacityReport(ctx)
	if err != nil {
		return traffic.Capacity{}, err
	}
	return r.Capacity(), nil
}

func (c *AdminClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	base := strings.TrimSuffix(c.BaseURL, "/")
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return fmt.Errorf("admin API at %q: %w", redact.URL(c.BaseURL), redact.Error(err))
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the proxy's admin API at %s: %w", redact.URL(base), redact.Error(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("read admin API answer: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("%w (%s %s)", ErrUnauthorized, method, path)
	case resp.StatusCode/100 != 2:
		var e apiError
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return fmt.Errorf("admin API: %s", e.Error)
		}
		return fmt.Errorf("admin API: %s %s: %s", method, path, resp.Status)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("admin API answer to %s %s: %w", method, path, err)
	}
	return nil
}
