package loadtest

import (
	"cmp"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// EnvArtifacts names a directory where the browser test leaves its screenshot.
const envArtifacts = "FERRY_TEST_ARTIFACTS"

// browser starts Debian's headless chromium with a fresh profile.
func browser(t *testing.T) context.Context {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: run hack/install-deps.sh (make test does)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 900),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

type box struct {
	Width, Height float64
	Series        int
	Points        int
}

func TestHTMLReportRendersInChromium(t *testing.T) {
	r := sampleReport(t, Config{})
	path := filepath.Join(t.TempDir(), "report.html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.WriteHTML(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	ctx := browser(t)
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var fetched []string
	if err := chromedp.Listen(ctx, func(ev any) {
		if req, ok := ev.(*network.EventRequestWillBeSent); ok && !strings.HasPrefix(req.Request.URL, "file://") {
			mu.Lock()
			fetched = append(fetched, req.Request.URL)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+path), chromedp.WaitVisible(chromedp.ID("endpoints"))); err != nil {
		t.Fatal(err)
	}
	verdict, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("verdict")))
	if err != nil {
		t.Fatal(err)
	}
	boxes := map[string]box{}
	for _, id := range []string{"chart-latency-over-time", "chart-latency-distribution"} {
		b, err := chromedp.Run(ctx, chromedp.Evaluate[box](`(() => {
			const el = document.getElementById("`+id+`");
			const r = el.getBoundingClientRect();
			const lines = el.querySelectorAll("polyline.series");
			let points = 0;
			lines.forEach(l => { points += l.points.numberOfItems; });
			return {Width: r.width, Height: r.height, Series: lines.length, Points: points};
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		boxes[id] = b
	}
	checkSorting(t, ctx, r)
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	for id, b := range boxes {
		if b.Width < 100 || b.Height < 100 {
			t.Errorf("%s is %gx%g, want a visible chart", id, b.Width, b.Height)
		}
		if b.Series < 2 || b.Points < 2*b.Series {
			t.Errorf("%s has %d series with %d points, want both sides drawn", id, b.Series, b.Points)
		}
	}
	if strings.ToLower(verdict) != string(r.Verdict.Outcome) {
		t.Errorf("page shows verdict %q, report says %q", verdict, r.Verdict.Outcome)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(fetched) > 0 {
		t.Errorf("the report fetched %v; it must be self-contained", fetched)
	}
	if len(png) < 10000 {
		t.Errorf("screenshot of %d bytes, want a rendered page", len(png))
	}
	out := filepath.Join(t.TempDir(), "report.png")
	if dir := os.Getenv(envArtifacts); dir != "" {
		out = filepath.Join(dir, "loadtest-report.png")
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", out)
}

// checkSorting clicks the endpoints table's headers and checks the order of its
// endpoints after each click against the report's figures.
func checkSorting(t *testing.T, ctx context.Context, r *Report) {
	t.Helper()
	byName := func(a, b EndpointRow) int { return cmp.Compare(a.Endpoint, b.Endpoint) }
	p99Down := func(a, b EndpointRow) int {
		return cmp.Or(cmp.Compare(b.Kubernetes.P99, a.Kubernetes.P99), byName(a, b))
	}
	p99Up := func(a, b EndpointRow) int {
		return cmp.Or(cmp.Compare(a.Kubernetes.P99, b.Kubernetes.P99), byName(a, b))
	}
	order := func(by func(a, b EndpointRow) int) []string {
		rows := slices.Clone(r.Endpoints)
		slices.SortStableFunc(rows, by)
		var names []string
		for _, row := range rows {
			names = append(names, row.Endpoint)
		}
		return names
	}
	var busiest []string
	for _, row := range r.Endpoints {
		busiest = append(busiest, row.Endpoint)
	}
	if len(busiest) < 3 {
		t.Fatalf("%d endpoints, want at least 3 to sort", len(busiest))
	}
	for _, step := range []struct {
		click string
		want  []string
	}{
		{"", busiest},
		{"p99", order(p99Down)},
		{"p99", order(p99Up)},
		{"endpoint", order(byName)},
		{"requests", busiest},
	} {
		if step.click != "" {
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#endpoints th[data-sort="`+step.click+`"]`))); err != nil {
				t.Fatal(err)
			}
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#endpoints tbody.row"), b => b.dataset.endpoint)`))
		if err != nil {
			t.Fatal(err)
		}
		first, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#endpoints tbody").dataset.endpoint`))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, step.want) || first != TotalEndpoint {
			t.Errorf("after clicking %q the endpoints read %v under %q, want %v under %q", step.click, got, first, step.want, TotalEndpoint)
		}
	}
}
