package proxy

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"ferry.dev/ferry/internal/traffic"
)

// fieldError is a validation failure of one field, named by its YAML path.
type fieldError struct {
	path string
	msg  string
}

func (e *fieldError) Error() string { return e.path + ": " + e.msg }

func fieldErr(path, format string, args ...any) error {
	return &fieldError{path: path, msg: fmt.Sprintf(format, args...)}
}

// validate checks a config with defaults applied and returns the first problem.
func (c *Config) validate() error {
	checks := []func() error{
		func() error { return validateAddr("listen", c.Listen) },
		c.validateAdmin,
		func() error { _, err := c.Weights.resolve(); return err },
		c.validateSticky,
		c.validateForce,
		func() error { return validatePool("backends.legacy", &c.Backends.Legacy) },
		func() error { return validatePool("backends.kubernetes", &c.Backends.Kubernetes) },
		c.validateTimeouts,
		c.validateLimits,
		c.validateUpgrade,
		c.validateStats,
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func validateAddr(path, addr string) error {
	if addr == "" {
		return fieldErr(path, "required: an address such as 127.0.0.1:8080")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fieldErr(path, "%q is not host:port", addr)
	}
	if host != "" && host != "localhost" && net.ParseIP(host) == nil {
		return fieldErr(path, "host %q is not an IP address or localhost", host)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 || strings.HasPrefix(port, "+") {
		return fieldErr(path, "port %q is not a port number", port)
	}
	return nil
}

// isLoopback reports whether addr binds only to the loopback interface.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *Config) validateAdmin() error {
	if err := validateAddr("admin.listen", c.Admin.Listen); err != nil {
		return err
	}
	if c.Admin.Listen == c.Listen && !strings.HasSuffix(c.Listen, ":0") {
		return fieldErr("admin.listen", "must differ from listen (%s)", c.Listen)
	}
	if c.Admin.Token != "" && c.Admin.TokenFile != "" {
		return fieldErr("admin.tokenFile", "give token or tokenFile, not both")
	}
	if c.Admin.Token != "" && strings.TrimSpace(c.Admin.Token) != c.Admin.Token {
		return fieldErr("admin.token", "must not start or end with white space")
	}
	if i := strings.IndexFunc(c.Admin.Token, isControl); i >= 0 {
		return fieldErr("admin.token", "holds the control character %q at position %d: it could never be sent in a header", c.Admin.Token[i], i+1)
	}
	if c.Admin.Token == "" && c.Admin.TokenFile == "" && !isLoopback(c.Admin.Listen) {
		return fieldErr("admin.listen", "%s is not a loopback address: set admin.token or admin.tokenFile, or bind to 127.0.0.1", c.Admin.Listen)
	}
	return nil
}

// isControl says whether r is an ASCII control character (DEL included).
func isControl(r rune) bool { return r < ' ' || r == 0x7f }

// resolve turns the percentages into weights.
func (w WeightsConfig) resolve() (traffic.Weights, error) {
	switch {
	case w.Legacy.Set && w.Kubernetes.Set:
		out := traffic.Weights{Legacy: w.Legacy.BasisPoints, Kubernetes: w.Kubernetes.BasisPoints}
		if out.Validate() != nil {
			return out, fieldErr("weights", "legacy %s + kubernetes %s must add up to 100%%",
				traffic.FormatPercent(out.Legacy), traffic.FormatPercent(out.Kubernetes))
		}
		return out, nil
	case w.Kubernetes.Set:
		return traffic.KubernetesShare(w.Kubernetes.BasisPoints), nil
	case w.Legacy.Set:
		return traffic.KubernetesShare(traffic.Total - w.Legacy.BasisPoints), nil
	}
	return traffic.KubernetesShare(0), nil
}

func (c *Config) validateSticky() error {
	if err := validateToken("sticky.cookie", c.Sticky.Cookie); err != nil {
		return err
	}
	if c.Sticky.TTL < time.Second {
		return fieldErr("sticky.ttl", "must be at least 1s, got %s", c.Sticky.TTL)
	}
	if c.Sticky.OnZeroWeight != OnZeroWeightMove && c.Sticky.OnZeroWeight != OnZeroWeightKeep {
		return fieldErr("sticky.onZeroWeight", "%q: use move or keep", c.Sticky.OnZeroWeight)
	}
	return nil
}

func (c *Config) validateForce() error {
	f := &c.Force
	if err := validateToken("force.header", f.Header); err != nil {
		return err
	}
	if err := validateToken("force.cookie", f.Cookie); err != nil {
		return err
	}
	if !c.Sticky.Disabled && f.Cookie == c.Sticky.Cookie {
		return fieldErr("force.cookie", "must differ from sticky.cookie (%s)", c.Sticky.Cookie)
	}
	if f.Secret != "" {
		if n := len(f.Secret); n < minForceSecret || n > maxForceSecret {
			return fieldErr("force.secret", "must be %d to %d characters long, got %d", minForceSecret, maxForceSecret, n)
		}
		for _, r := range f.Secret {
			if !isSecretChar(r) {
				return fieldErr("force.secret", "holds %q: use letters, digits and - . _ ~ + / =", r)
			}
		}
	}
	for i, n := range f.Networks {
		if _, err := netip.ParsePrefix(n); err != nil {
			return fieldErr(fmt.Sprintf("force.networks[%d]", i), "%q is not a network such as 10.0.0.0/8 or 192.0.2.7/32", n)
		}
	}
	if !f.Enabled && (f.Secret != "" || len(f.Networks) > 0) {
		return fieldErr("force", "secret or networks given but forcing is off: set force.enabled: true")
	}
	return nil
}

// Bounds of force.secret: long enough not to be guessed, short enough for a cookie.
const (
	minForceSecret = 16
	maxForceSecret = 256
)

// isSecretChar says whether r may appear in a secret sent in a header or a cookie
// (the token68 characters).
func isSecretChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~+/=", r)
}

// validateToken checks an HTTP token (header or cookie name).
func validateToken(path, s string) error {
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?={}`, r) {
			return fieldErr(path, "%q is not a valid name: use letters, digits, - and _", s)
		}
	}
	return nil
}

func validatePool(path string, p *PoolConfig) error {
	if len(p.Servers) == 0 {
		return fieldErr(path+".servers", "required: at least one URL such as http://127.0.0.1:8081")
	}
	seen := map[string]bool{}
	for i, s := range p.Servers {
		sp := fmt.Sprintf("%s.servers[%d]", path, i)
		if _, err := parseServer(s); err != nil {
			return fieldErr(sp, "%v", err)
		}
		if seen[s] {
			return fieldErr(sp, "%s is listed twice", s)
		}
		seen[s] = true
	}
	if p.HostHeader != "" && strings.ContainsAny(p.HostHeader, " /\t\r\n") {
		return fieldErr(path+".hostHeader", "%q is not a host name", p.HostHeader)
	}
	if p.MaxConnsPerServer < 1 {
		return fieldErr(path+".maxConnsPerServer", "must be at least 1")
	}
	if p.KeepAliveTimeout < 100*time.Millisecond {
		return fieldErr(path+".keepAliveTimeout", "must be at least 100ms, got %s", p.KeepAliveTimeout)
	}
	return validateHealth(path, p)
}

func validateHealth(path string, p *PoolConfig) error {
	hc := p.HealthCheck
	if hc.Path != "" && !strings.HasPrefix(hc.Path, "/") {
		return fieldErr(path+".healthCheck.path", "%q must start with /", hc.Path)
	}
	if hc.Interval < 100*time.Millisecond {
		return fieldErr(path+".healthCheck.interval", "must be at least 100ms, got %s", hc.Interval)
	}
	if hc.Timeout <= 0 || hc.Timeout > hc.Interval {
		return fieldErr(path+".healthCheck.timeout", "must be positive and at most the interval (%s), got %s", hc.Interval, hc.Timeout)
	}
	if hc.HealthyAfter < 1 || hc.UnhealthyAfter < 1 {
		return fieldErr(path+".healthCheck", "healthyAfter and unhealthyAfter must be at least 1")
	}
	if p.Ejection.ConsecutiveFailures < 1 {
		return fieldErr(path+".ejection.consecutiveFailures", "must be at least 1")
	}
	if p.Ejection.Duration < time.Second {
		return fieldErr(path+".ejection.duration", "must be at least 1s, got %s", p.Ejection.Duration)
	}
	return nil
}

// parseServer checks a backend base URL and returns it.
func parseServer(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL", s)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%q: scheme must be http or https", s)
	}
	if u.Host == "" || u.Port() == "" && strings.HasSuffix(u.Host, ":") {
		return nil, fmt.Errorf("%q: missing host", s)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("%q: give only scheme://host:port, no path, query or user", s)
	}
	return u, nil
}

func (c *Config) validateTimeouts() error {
	for _, t := range []struct {
		path string
		d    time.Duration
	}{
		{"timeouts.connect", c.Timeouts.Connect},
		{"timeouts.response", c.Timeouts.Response},
		{"timeouts.clientRead", c.Timeouts.ClientRead},
		{"timeouts.clientIdle", c.Timeouts.ClientIdle},
		{"timeouts.shutdown", c.Timeouts.Shutdown},
	} {
		if t.d < time.Millisecond {
			return fieldErr(t.path, "must be at least 1ms, got %s", t.d)
		}
	}
	if h := c.Timeouts.ClientHeader; h < minClientHeader || h > c.Timeouts.ClientRead {
		return fieldErr("timeouts.clientHeader", "must be between %s and timeouts.clientRead (%s), got %s", minClientHeader, c.Timeouts.ClientRead, h)
	}
	return nil
}

// minClientHeader is the shortest timeouts.clientHeader: a slow network needs a few
// round trips for a request's headers.
const minClientHeader = 100 * time.Millisecond

func (c *Config) validateLimits() error {
	if c.Limits.MaxConnections < 1 {
		return fieldErr("limits.maxConnections", "must be at least 1")
	}
	if c.Limits.MaxRequestBody < 1 {
		return fieldErr("limits.maxRequestBody", "must be at least 1 byte")
	}
	for _, l := range []struct {
		path string
		n    int
	}{
		{"limits.maxRequestHeader", c.Limits.MaxRequestHeader},
		{"limits.maxResponseHeader", c.Limits.MaxResponseHeader},
	} {
		if l.n < minHeaderLimit || l.n > maxHeaderLimit {
			return fieldErr(l.path, "must be between %d (4 KiB) and %d (1 MiB) bytes, got %d", minHeaderLimit, maxHeaderLimit, l.n)
		}
	}
	if c.Retries.Attempts < 1 || c.Retries.Attempts > 10 {
		return fieldErr("retries.attempts", "must be between 1 and 10, got %d", c.Retries.Attempts)
	}
	if c.AccessLog.Path != "" && c.AccessLog.Path != "-" {
		if st, err := os.Stat(c.AccessLog.Path); err == nil && st.IsDir() {
			return fieldErr("accessLog.path", "%s is a directory", c.AccessLog.Path)
		}
	}
	return nil
}

// Bounds of the header limits: a browser's request head alone takes a few hundred
// bytes; beyond 1 MiB a header is an attack or a bug, and each buffer costs memory.
const (
	minHeaderLimit = 4 << 10
	maxHeaderLimit = 1 << 20
)

func (c *Config) validateUpgrade() error {
	seen := map[string]bool{}
	for i, proto := range c.Upgrade.Protocols {
		path := fmt.Sprintf("upgrade.protocols[%d]", i)
		if proto == "" || validateToken(path, proto) != nil || strings.Contains(proto, "/") {
			return fieldErr(path, "%q is not a protocol name such as websocket", proto)
		}
		lower := strings.ToLower(proto)
		if lower == "h2c" {
			return fieldErr(path, "h2c cannot be relayed: the requests of an HTTP/2 connection would bypass the statistics and X-Forwarded-For")
		}
		if seen[lower] {
			return fieldErr(path, "%s is listed twice", proto)
		}
		seen[lower] = true
	}
	return nil
}

func (c *Config) validateStats() error {
	if c.Stats.Bucket < time.Second {
		return fieldErr("stats.bucket", "must be at least 1s, got %s", c.Stats.Bucket)
	}
	if c.Stats.Retention < c.Stats.Bucket {
		return fieldErr("stats.retention", "must be at least one bucket (%s)", c.Stats.Bucket)
	}
	if c.Stats.Retention/c.Stats.Bucket > DefaultMaxStatsBuckets {
		return fieldErr("stats.retention", "keeps more than %d buckets: raise stats.bucket or lower the retention", DefaultMaxStatsBuckets)
	}
	if c.Stats.MaxRoutes < 1 || c.Stats.MaxRoutes > MaxMaxRoutes {
		return fieldErr("stats.maxRoutes", "%d is out of range: want 1 to %d (default %d)", c.Stats.MaxRoutes, MaxMaxRoutes, DefaultMaxRoutes)
	}
	return nil
}

// methodIsIdempotent reports whether a failed request of this method may be retried.
func methodIsIdempotent(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}
