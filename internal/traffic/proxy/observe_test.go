package proxy

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMetricsAndAccessLog: /metrics counts requests per side, status class and route and
// exposes latency histograms; the access log has one JSON line per request.
func TestMetricsAndAccessLog(t *testing.T) {
	l1, k1 := startBackend(t, "legacy-1"), startBackend(t, "k8s-1")
	k1.status.Store(http.StatusInternalServerError)
	logPath := filepath.Join(t.TempDir(), "access.log")
	cfg := testConfig(urls(l1), urls(k1))
	cfg.AccessLog.Path = logPath
	p := startProxy(t, cfg)
	c := newClient()
	for i := 0; i < 7; i++ {
		get(t, c, p, "/")
	}
	mustWeights(t, p, 10000)
	for i := 0; i < 3; i++ {
		get(t, c, p, "/orders")
	}
	mustWeights(t, p, 0)
	req, _ := http.NewRequest(http.MethodGet, "http://"+p.AdminAddr()+PathMetrics, nil)
	req.Header.Set("Authorization", "Bearer test-token")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`ferry_proxy_requests_total{code_class="2xx",route="GET /",side="legacy"} 7`,
		`ferry_proxy_requests_total{code_class="5xx",route="GET /orders",side="kubernetes"} 3`,
		`ferry_proxy_request_duration_seconds_count{route="GET /",side="legacy"} 7`,
		`ferry_proxy_weight_basis_points{side="legacy"} 10000`,
		`ferry_proxy_server_up{server="` + k1.URL() + `",side="kubernetes"} 1`,
		`ferry_proxy_open_connections`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if err := p.Close(t.Context()); err != nil { // flushes the access log
		t.Fatal(err)
	}
	f, err := os.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []map[string]any
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("access log line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 10 {
		t.Fatalf("access log has %d lines, want 10", len(lines))
	}
	last := lines[9]
	if last["side"] != "kubernetes" || last["status"] != float64(500) || last["uri"] != "/orders" || last["method"] != "GET" {
		t.Errorf("last access log line %v", last)
	}
	if _, err := time.Parse(time.RFC3339Nano, last["start"].(string)); err != nil {
		t.Errorf("start %v: %v", last["start"], err)
	}
}
