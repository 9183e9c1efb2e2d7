package loadtest

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"ferry.dev/ferry/internal/loadtest/accesslog"
)

// Hard caps: no configuration goes past them.
const (
	// MaxRate is the highest rate, in requests per second, sent to each side.
	MaxRate = 50000
	// MaxDuration is the longest run.
	MaxDuration = time.Hour
)

// Defaults that zero Config fields take.
const (
	DefaultRate        = 50
	DefaultDuration    = 30 * time.Second
	DefaultTimeout     = 10 * time.Second
	DefaultMaxInFlight = 1000
	// DefaultGrace is how long in-flight requests may finish after a stop.
	DefaultGrace = 2 * time.Second
)

// The two sides, in the order reports list them.
const (
	SideLegacy     = "legacy"
	SideKubernetes = "kubernetes"
)

// Sentinel errors; match them with errors.Is. ErrConfig and ErrBeyondCap mean the
// run was asked for wrongly; the others that the world is not as it should be.
var (
	ErrConfig      = errors.New("invalid load test")
	ErrBeyondCap   = errors.New("beyond the cap")
	ErrUnreachable = errors.New("target unreachable")
	ErrNoRequests  = errors.New("no requests to send")
)

// Config describes one parity load test.
type Config struct {
	// Legacy and Kubernetes are the base URLs of the two sides ("http://host:port").
	Legacy, Kubernetes string
	// Rate is the constant rate per side in requests per second (DefaultRate when 0).
	// With LogPath and Speed, the log's own timing is used instead.
	Rate float64
	// Duration bounds the run. When 0: DefaultDuration, or one pass over the log.
	// With a log and a Rate, a Duration longer than one pass loops over the log.
	Duration time.Duration
	// Method and Paths are the request mix without a log: the paths in turn
	// ("/" and GET when empty).
	Method string
	Paths  []string
	// Header is sent with every request; a "Host" entry sets the Host header.
	Header http.Header

	// LogPath is an access log whose requests make the mix, in log order.
	LogPath string
	// LogFormat is the log's format (accesslog.Auto when empty).
	LogFormat accesslog.Format
	// Speed replays the log with its own timing sped up by this factor (0: use Rate).
	Speed float64
	// AllowWrites sends the log's unsafe requests (POST, PUT, PATCH, DELETE …) too,
	// without their bodies, which logs do not keep. Off, only GET, HEAD and OPTIONS go.
	AllowWrites bool

	// BaselinePath is an APM export (CSV or JSON) to compare with; optional.
	BaselinePath string
	// Thresholds decide the verdict; zero fields take the defaults.
	Thresholds Thresholds

	// Timeout bounds each request (DefaultTimeout when 0).
	Timeout time.Duration
	// MaxInFlight bounds the requests in flight per side (DefaultMaxInFlight when 0).
	// When it is reached, sends start late; latencies still count from the time each
	// request was due, and the report's pacing shows the lag.
	MaxInFlight int
	// Grace is how long in-flight requests may finish after a stop (DefaultGrace when 0).
	Grace time.Duration

	// Progress receives a progress bar (ProgressTTY) or plain periodic lines; nil for none.
	Progress    io.Writer
	ProgressTTY bool
	// ProgressEvery is the interval of plain progress lines (when 0, a tenth of the
	// run, between 1s and 10s).
	ProgressEvery time.Duration
	// Logger receives structured events; nil discards them.
	Logger *slog.Logger
}

// withDefaults returns cfg with its zero fields set to the defaults.
func (cfg Config) withDefaults() Config {
	if cfg.Method == "" {
		cfg.Method = http.MethodGet
	}
	if len(cfg.Paths) == 0 {
		cfg.Paths = []string{"/"}
	}
	if cfg.LogFormat == "" {
		cfg.LogFormat = accesslog.Auto
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.Grace == 0 {
		cfg.Grace = DefaultGrace
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Thresholds = cfg.Thresholds.withDefaults()
	return cfg
}

// validate checks what can be checked without reading files or the network; it
// runs before withDefaults.
func (cfg Config) validate() error {
	for _, t := range []struct{ name, url string }{{SideLegacy, cfg.Legacy}, {SideKubernetes, cfg.Kubernetes}} {
		if err := checkBaseURL(t.url); err != nil {
			return fmt.Errorf("%w: %s URL: %w", ErrConfig, t.name, err)
		}
	}
	switch {
	case cfg.Rate < 0 || cfg.Duration < 0 || cfg.Speed < 0 || cfg.Timeout < 0 || cfg.MaxInFlight < 0:
		return fmt.Errorf("%w: rate, duration, speed, timeout and in-flight limit must not be negative", ErrConfig)
	case cfg.Rate > MaxRate:
		return fmt.Errorf("%w: rate %g req/s per side is beyond the cap of %d", ErrBeyondCap, cfg.Rate, MaxRate)
	case cfg.Duration > MaxDuration:
		return fmt.Errorf("%w: duration %s is beyond the cap of %s", ErrBeyondCap, cfg.Duration, MaxDuration)
	case cfg.Speed > 0 && cfg.LogPath == "":
		return fmt.Errorf("%w: a replay speed needs an access log", ErrConfig)
	case cfg.Speed > 0 && cfg.Rate > 0:
		return fmt.Errorf("%w: give a rate or a replay speed, not both", ErrConfig)
	case cfg.LogPath != "" && len(cfg.Paths) > 0:
		return fmt.Errorf("%w: give an access log or paths, not both", ErrConfig)
	}
	for _, p := range cfg.Paths {
		if len(p) == 0 || p[0] != '/' {
			return fmt.Errorf("%w: path %q must start with /", ErrConfig, p)
		}
	}
	return cfg.Thresholds.validate()
}

func checkBaseURL(raw string) error {
	if raw == "" {
		return errors.New("missing")
	}
	u, err := url.Parse(raw)
	switch {
	case !strings.HasPrefix(raw, "http://") && !strings.HasPrefix(raw, "https://"):
		return fmt.Errorf("%q must start with http:// or https://", raw)
	case err != nil:
		return err
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q must start with http:// or https://", raw)
	case u.Host == "":
		return fmt.Errorf("%q has no host", raw)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("%q must not have a query or fragment", raw)
	}
	return nil
}
