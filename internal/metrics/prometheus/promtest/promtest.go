package promtest

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Binary is the Prometheus server the tests run.
const Binary = "prometheus"

// ScrapeInterval is how often the test Prometheus scrapes.
const ScrapeInterval = time.Second

// Server is a running Prometheus.
type Server struct {
	// URL is its base URL, e.g. http://127.0.0.1:41234.
	URL string
	API v1.API
}

// lockedBuffer keeps the server's log for a failing test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Start runs Prometheus scraping each target's /metrics (host:port) as job "ferry",
// waits until it is ready, and stops it when the test ends.
func Start(tb testing.TB, targets ...string) *Server {
	tb.Helper()
	bin, err := exec.LookPath(Binary)
	if err != nil {
		tb.Fatalf("%s is not installed: run `make deps` (Debian package prometheus)", Binary)
	}
	dir := tb.TempDir()
	config := fmt.Sprintf(`global:
  scrape_interval: %[1]s
  evaluation_interval: %[1]s
scrape_configs:
- job_name: ferry
  scrape_interval: %[1]s
  scrape_timeout: 900ms
  static_configs:
  - targets: ['%[2]s']
`, ScrapeInterval, strings.Join(targets, "', '"))
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o644); err != nil {
		tb.Fatal(err)
	}
	addr := freeAddr(tb)
	var logs lockedBuffer
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--storage.tsdb.retention.time=1h", "--log.level=warn")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start prometheus: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if tb.Failed() {
			tb.Logf("prometheus log:\n%s", logs.String())
		}
	})
	s := &Server{URL: "http://" + addr}
	waitReady(tb, s.URL+"/-/ready", exited, &logs)
	client, err := api.NewClient(api.Config{Address: s.URL})
	if err != nil {
		tb.Fatal(err)
	}
	s.API = v1.NewAPI(client)
	return s
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitReady(tb testing.TB, url string, exited <-chan struct{}, logs *lockedBuffer) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			tb.Fatalf("prometheus exited:\n%s", logs.String())
		default:
		}
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.Fatalf("prometheus not ready after 30s:\n%s", logs.String())
}

// WaitScraped waits until every target has been scraped successfully at least n times
// since Prometheus started.
func (s *Server) WaitScraped(tb testing.TB, n int) {
	tb.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30*time.Second + time.Duration(n)*ScrapeInterval)
	for time.Now().Before(deadline) {
		v, _, _, err := s.API.Query(ctx, `min(sum_over_time(up{job="ferry"}[10m]))`, time.Now())
		if vec, ok := v.(model.Vector); err == nil && ok && len(vec) == 1 && int(vec[0].Value) >= n {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	tb.Fatalf("prometheus at %s did not scrape its targets %d times", s.URL, n)
}

// WaitScrapedAfter waits until Prometheus holds a successful scrape of every target
// that began after t, so that a query from now on sees everything the targets had
// counted by t. It returns the time of the oldest of those scrapes.
func (s *Server) WaitScrapedAfter(tb testing.TB, t time.Time) time.Time {
	tb.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		// timestamp() gives each target's latest sample time, when its scrape began;
		// up is 1 when that scrape succeeded.
		v, _, _, err := s.API.Query(ctx, `min(timestamp(up{job="ferry"})) and on() (min(up{job="ferry"}) == 1)`, time.Now())
		if vec, ok := v.(model.Vector); err == nil && ok && len(vec) == 1 {
			if at := time.UnixMilli(int64(math.Round(float64(vec[0].Value) * 1000))); at.After(t) {
				return at
			}
		}
		time.Sleep(ScrapeInterval / 10)
	}
	tb.Fatalf("prometheus at %s did not scrape its targets after %s", s.URL, t.Format(time.StampMilli))
	return time.Time{}
}
