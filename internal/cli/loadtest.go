package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"ferry.dev/ferry/internal/loadtest"
	"ferry.dev/ferry/internal/loadtest/accesslog"
)

// loadtestOptions are the flags of ferry loadtest.
type loadtestOptions struct {
	cfg       loadtest.Config
	logFormat string
	headers   []string
	minDelta  time.Duration
	html      string
	top       int
	verbose   bool
}

func newLoadtestCommand(g *globalOptions) *cobra.Command {
	o := &loadtestOptions{}
	cmd := &cobra.Command{
		Use:   "loadtest --legacy URL --kubernetes URL [--rate N] [--duration D] [--path P]... [--log FILE [--speed X]] [--baseline FILE]",
		Short: "Drive the legacy and the Kubernetes side at the same rate with the same requests, and compare their latency",
		Long: `ferry loadtest sends the same requests to the legacy side and the Kubernetes side at the same
constant rate at the same time (an open model: latency counts from when each request was due),
then reports count, error rate and latency percentiles per side and per endpoint, the
kubernetes/legacy ratios, a comparison with an APM baseline, and a verdict.

The request mix is --path (in turn) or an access log (--log; nginx/Apache combined or AWS ALB),
replayed in order at --rate, or with the log's own timing sped up by --speed. Only GET, HEAD and
OPTIONS requests are sent unless --allow-writes. Ctrl-C stops the run and still reports what ran.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd.Context(), g) },
	}
	f := cmd.Flags()
	c := &o.cfg
	f.StringVar(&c.Legacy, "legacy", "", "base URL of the legacy side (http://host:port)")
	f.StringVar(&c.Kubernetes, "kubernetes", "", "base URL of the Kubernetes side (http://host:port)")
	f.Float64Var(&c.Rate, "rate", 0, fmt.Sprintf("requests per second to each side (default %d, at most %d)", loadtest.DefaultRate, loadtest.MaxRate))
	f.DurationVar(&c.Duration, "duration", 0, fmt.Sprintf("how long to run (default %s, or one pass of --log; at most %s)", loadtest.DefaultDuration, loadtest.MaxDuration))
	f.StringArrayVar(&c.Paths, "path", nil, "a path to request, repeatable (not split at commas: a query may hold them); the paths are sent in turn (default /)")
	f.StringVar(&c.Method, "method", http.MethodGet, "HTTP method for --path requests")
	f.StringArrayVarP(&o.headers, "header", "H", nil, `a header for every request, "Name: value", repeatable (not split at commas: a value may hold them; "Host: shop.example.com" sets the Host)`)
	f.StringVar(&c.LogPath, "log", "", "access log whose requests make the mix")
	f.StringVar(&o.logFormat, "log-format", "auto", "access-log format: auto, combined (nginx, apache) or alb")
	f.Float64Var(&c.Speed, "speed", 0, "replay --log with its own timing sped up by this factor, instead of at --rate")
	f.BoolVar(&c.AllowWrites, "allow-writes", false, "also send the log's POST, PUT, PATCH and DELETE requests (without bodies)")
	f.StringVar(&c.BaselinePath, "baseline", "", "APM baseline export to compare with (CSV or JSON)")
	f.StringVar(&o.html, "html", "loadtest-report.html", `write the HTML report here ("" for none)`)
	f.IntVar(&o.top, "top", loadtest.DefaultTop, "endpoints the table shows, busiest first, before one row merges the rest (0: all; JSON, YAML and HTML keep all)")
	f.DurationVar(&c.Timeout, "request-timeout", loadtest.DefaultTimeout, "how long each request may take (--timeout is the same)")
	alias(f, f.Lookup("request-timeout"), "timeout")
	f.IntVar(&c.MaxInFlight, "max-in-flight", loadtest.DefaultMaxInFlight, "most requests in flight per side")
	f.Float64Var(&c.Thresholds.MaxRatio, "max-ratio", loadtest.DefaultMaxRatio, "verdict: highest kubernetes/legacy ratio of mean and p99")
	f.Float64Var(&c.Thresholds.MaxBaselineRatio, "max-baseline-ratio", loadtest.DefaultMaxBaselineRatio, "verdict: highest kubernetes/baseline ratio of mean and p99")
	f.Float64Var(&c.Thresholds.MaxErrorRateIncrease, "max-error-increase", loadtest.DefaultMaxErrorRateIncrease, "verdict: how much higher the kubernetes error rate may be (0.01 = 1 point)")
	f.DurationVar(&o.minDelta, "min-delta", time.Duration(float64(loadtest.DefaultMinDelta)*float64(time.Millisecond)), "verdict: latency differences smaller than this never fail")
	f.Int64Var(&c.Thresholds.MinSamples, "min-samples", loadtest.DefaultMinSamples, "verdict: fewest responses per side for a check")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "log the run's events on stderr")
	return cmd
}

// complete turns the flags into the run's Config.
func (o *loadtestOptions) complete(g *globalOptions) error {
	format, err := accesslog.ParseFormat(o.logFormat)
	if err != nil {
		return usageError{err}
	}
	o.cfg.LogFormat = format
	if o.top < 0 {
		return usageError{fmt.Errorf("--top %d: want 0 (every endpoint) or more", o.top)}
	}
	for _, h := range o.headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return usageError{fmt.Errorf(`--header %q: want "Name: value"`, h)}
		}
		if o.cfg.Header == nil {
			o.cfg.Header = http.Header{}
		}
		o.cfg.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	o.cfg.Thresholds.MinDelta = loadtest.Millis(o.minDelta) / loadtest.Millis(time.Millisecond)
	o.cfg.Progress = g.stderr
	if f, ok := g.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		o.cfg.ProgressTTY = true
	}
	if o.verbose {
		o.cfg.Logger = slog.New(slog.NewTextHandler(g.stderr, nil))
	}
	return nil
}

func (o *loadtestOptions) run(ctx context.Context, g *globalOptions) error {
	if err := o.complete(g); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first interrupt, a second one ends ferry at once.
	go func() { <-ctx.Done(); stop() }()
	report, err := loadtest.Run(ctx, o.cfg)
	if loadtest.IsUsage(err) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	if err := o.writeHTML(report, g); err != nil {
		return err
	}
	if g.output == "table" {
		err = report.WriteTable(g.stdout, o.top)
	} else {
		err = render(g.stdout, g.output, report, nil)
	}
	if err != nil {
		return err
	}
	return outcomeError(report)
}

func (o *loadtestOptions) writeHTML(r *loadtest.Report, g *globalOptions) error {
	if o.html == "" {
		return nil
	}
	f, err := os.Create(o.html)
	if err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	if err := r.WriteHTML(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	abs, _ := filepath.Abs(o.html)
	fmt.Fprintf(g.stderr, "HTML report: %s\n", abs)
	return nil
}

// outcomeError gives an interrupted run and a verdict other than pass their exit
// codes, after the report is out.
func outcomeError(r *loadtest.Report) error {
	code := ExitLoadtestFailed
	switch {
	case r.Interrupted:
		return fmt.Errorf("interrupted after %.1fs of %.1fs: the report covers what ran", r.Elapsed, r.Planned)
	case r.Verdict.Outcome == loadtest.Pass:
		return nil
	case r.Verdict.Outcome == loadtest.Inconclusive:
		code = ExitLoadtestInconclusive
	}
	msg := fmt.Sprintf("verdict %s", r.Verdict.Outcome)
	if n := len(r.Verdict.Reasons); n > 0 {
		msg += ": " + r.Verdict.Reasons[0]
		if n > 1 {
			msg += fmt.Sprintf(" (and %d more)", n-1)
		}
	}
	return exitCodeError{code, errors.New(msg)}
}
