package datadog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"ferry.dev/ferry/internal/redact"
)

// queryResponse is the documented body of GET /api/v1/query.
type queryResponse struct {
	Status string   `json:"status"`
	Error  string   `json:"error"`
	Series []series `json:"series"`
}

// series is one timeseries: points as [milliseconds, value], value null when empty.
type series struct {
	Metric    string        `json:"metric"`
	Scope     string        `json:"scope"`
	Pointlist [][2]*float64 `json:"pointlist"`
}

// errorResponse is the body of a refused request.
type errorResponse struct {
	Errors []string `json:"errors"`
}

// maxRateLimitWaits bounds how often a query waits out a rate limit (429).
const maxRateLimitWaits = 3

// query runs one metrics query over [from, to], waiting out rate limits as the
// X-RateLimit-Reset header says.
func (s *Source) query(ctx context.Context, q string, from, to time.Time) ([]series, error) {
	u := s.cfg.Site + "/api/v1/query?" + url.Values{
		"from":  {strconv.FormatInt(from.Unix(), 10)},
		"to":    {strconv.FormatInt(to.Unix(), 10)},
		"query": {q},
	}.Encode()
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, redact.Error(err)
		}
		req.Header.Set("DD-API-KEY", s.cfg.APIKey)
		req.Header.Set("DD-APPLICATION-KEY", s.cfg.AppKey)
		req.Header.Set("Accept", "application/json")
		resp, err := s.client.Do(req)
		if err != nil {
			return nil, redact.Error(err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusTooManyRequests && attempt < maxRateLimitWaits {
			if err := sleep(ctx, resetAfter(resp.Header)); err != nil {
				return nil, err
			}
			continue
		}
		return decode(resp.StatusCode, body)
	}
}

// resetAfter is how long the rate limit lasts, from X-RateLimit-Reset (seconds).
func resetAfter(h http.Header) time.Duration {
	n, err := strconv.Atoi(h.Get("X-RateLimit-Reset"))
	if err != nil || n < 0 {
		return time.Second
	}
	return min(time.Duration(n)*time.Second, time.Minute)
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// decode reads a query answer or says why it was refused, in one line.
func decode(status int, body []byte) ([]series, error) {
	if status != http.StatusOK {
		var e errorResponse
		if json.Unmarshal(body, &e) == nil && len(e.Errors) > 0 {
			return nil, fmt.Errorf("%d %s: %s", status, http.StatusText(status), strings.Join(e.Errors, "; "))
		}
		return nil, fmt.Errorf("%d %s", status, http.StatusText(status))
	}
	var r queryResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("the answer is not a query response: %w", err)
	}
	if r.Status == "error" {
		return nil, errors.New(r.Error)
	}
	return r.Series, nil
}
