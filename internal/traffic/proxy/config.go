package proxy

import (
	"time"

	"go.yaml.in/yaml/v3"

	"ferry.dev/ferry/internal/traffic"
)

// Defaults applied by ParseConfig and New to fields left empty.
const (
	DefaultStickyCookie       = "ferry_side"
	DefaultStickyTTL          = 24 * time.Hour
	DefaultForceHeader        = "X-Ferry-Side"
	DefaultForceCookie        = "ferry_force_side"
	DefaultConnectTimeout     = 5 * time.Second
	DefaultResponseTimeout    = 60 * time.Second
	DefaultClientReadTimeout  = 60 * time.Second
	DefaultClientHeader       = 10 * time.Second
	DefaultClientIdleTimeout  = 90 * time.Second
	DefaultShutdownTimeout    = 30 * time.Second
	DefaultMaxConnections     = 20000
	DefaultMaxConnsPerServer  = 1024
	DefaultKeepAliveTimeout   = 4 * time.Second
	DefaultMaxRequestBody     = 64 << 20
	DefaultMaxRequestHeader   = 32 << 10
	DefaultMaxResponseHeader  = 64 << 10
	DefaultRetryAttempts      = 2
	DefaultHealthInterval     = 5 * time.Second
	DefaultHealthTimeout      = 2 * time.Second
	DefaultHealthyAfter       = 2
	DefaultUnhealthyAfter     = 3
	DefaultEjectAfter         = 5
	DefaultEjectFor           = 30 * time.Second
	DefaultStatsBucket        = 10 * time.Second
	DefaultStatsRetention     = 30 * time.Minute
	DefaultMaxStatsBuckets    = 8640
	DefaultMaxRoutes          = 200
	MaxMaxRoutes              = 2000
	DefaultUpgradeProtocol    = "websocket"
	OnZeroWeightMove          = "move"
	OnZeroWeightKeep          = "keep"
	defaultStickyOnZeroWeight = OnZeroWeightMove
)

// Config is the proxy's whole configuration, as read from its YAML file by ParseConfig
// or built in code. Zero values mean the documented default.
type Config struct {
	// Listen is the address the proxy serves user traffic on, e.g. "0.0.0.0:8080".
	Listen string `yaml:"listen"`
	// Admin configures the admin API's own listener.
	Admin AdminConfig `yaml:"admin"`
	// Weights is the split at start; the admin API and SetWeights change it later.
	Weights WeightsConfig `yaml:"weights"`
	// Sticky keeps a client on the side it was first sent to.
	Sticky StickyConfig `yaml:"sticky"`
	// Force lets testers pick a side with a header or a cookie (off by default).
	Force ForceConfig `yaml:"force"`
	// Backends are the two pools.
	Backends BackendsConfig `yaml:"backends"`
	// Timeouts bound every wait.
	Timeouts TimeoutsConfig `yaml:"timeouts"`
	// Limits bound connections and bodies.
	Limits LimitsConfig `yaml:"limits"`
	// Retries says how often an idempotent request is tried before giving up.
	Retries RetriesConfig `yaml:"retries"`
	// Forwarded says how X-Forwarded-* headers are set.
	Forwarded ForwardedConfig `yaml:"forwarded"`
	// Upgrade says which protocol upgrades are relayed as tunnels.
	Upgrade UpgradeConfig `yaml:"upgrade"`
	// Stats sets the time buckets of the per-side statistics.
	Stats StatsConfig `yaml:"stats"`
	// AccessLog turns on a structured (JSON) access log.
	AccessLog AccessLogConfig `yaml:"accessLog"`
}

// AdminConfig is the admin API's listener and bearer token.
type AdminConfig struct {
	// Listen is the admin API's address, e.g. "127.0.0.1:9090".
	Listen string `yaml:"listen"`
	// Token is the bearer token every admin request must carry. Without a token (here
	// or in TokenFile) the admin API only starts on a loopback address, and then
	// accepts requests without one.
	Token string `yaml:"token"`
	// TokenFile is a file holding the token (surrounding white space is ignored).
	TokenFile string `yaml:"tokenFile"`
}

// WeightsConfig is the initial split in percent with at most two decimals. A share
// left out is the rest of 100 %; if both are given they must add up to 100 %.
type WeightsConfig struct {
	Legacy     Percent `yaml:"legacy"`
	Kubernetes Percent `yaml:"kubernetes"`
}

// Percent is a share in basis points that was or was not given.
type Percent struct {
	BasisPoints int
	Set         bool
}

// PercentOf returns a set Percent of bp basis points.
func PercentOf(bp int) Percent { return Percent{BasisPoints: bp, Set: true} }

// UnmarshalYAML reads "10", "10%", "0.01 %" without floating-point rounding.
func (p *Percent) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errorAt(n.Line, "want a percentage such as 10% or 0.5")
	}
	bp, err := traffic.ParsePercent(n.Value)
	if err != nil {
		return errorAt(n.Line, err.Error())
	}
	*p = PercentOf(bp)
	return nil
}

// StickyConfig is the session-affinity cookie.
type StickyConfig struct {
	// Disabled turns stickiness off: every request is chosen by weight.
	Disabled bool `yaml:"disabled"`
	// Cookie is the cookie's name.
	Cookie string `yaml:"cookie"`
	// TTL is the cookie's lifetime.
	TTL time.Duration `yaml:"ttl"`
	// OnZeroWeight is what happens to a client stuck to a side whose weight dropped to
	// zero: "move" (default) sends it by weight and re-sets its cookie, "keep" leaves
	// it where it is until the cookie expires.
	OnZeroWeight string `yaml:"onZeroWeight"`
	// Secure adds the Secure attribute to the cookie.
	Secure bool `yaml:"secure"`
}

// ForceConfig lets testers force a side ("legacy" or "kubernetes") with a header or a
// cookie, regardless of weights and stickiness. It is off unless enabled: anyone who
// can reach the proxy could otherwise choose a side. Forced requests are counted
// apart from the statistics the migration gates read.
type ForceConfig struct {
	// Enabled turns forcing on.
	Enabled bool   `yaml:"enabled"`
	Header  string `yaml:"header"`
	Cookie  string `yaml:"cookie"`
	// Secret, when set, must follow the side after a colon ("kubernetes:SECRET");
	// a value without it is ignored.
	Secret string `yaml:"secret"`
	// Networks, when set, limits forcing to clients whose address is in one of these
	// CIDRs. The client's address is the connection's, or with forwarded.trustIncoming
	// the last X-Forwarded-For entry (the one the trusted balancer added).
	Networks []string `yaml:"networks"`
}

// BackendsConfig holds the two pools.
type BackendsConfig struct {
	Legacy     PoolConfig `yaml:"legacy"`
	Kubernetes PoolConfig `yaml:"kubernetes"`
}

// Pool returns the pool of side s.
func (b *BackendsConfig) Pool(s traffic.Side) *PoolConfig {
	if s == traffic.Kubernetes {
		return &b.Kubernetes
	}
	return &b.Legacy
}

// PoolConfig is one side's servers and how their health is judged.
type PoolConfig struct {
	// Servers are base URLs such as http://10.0.1.5:8080 (no path), one or more.
	Servers []string `yaml:"servers"`
	// HostHeader replaces the client's Host header towards this pool, e.g. the host
	// name an ingress routes on. Empty keeps the client's.
	HostHeader string `yaml:"hostHeader"`
	// CAFile is a PEM file of the certificate authorities that https servers'
	// certificates must chain to, e.g. a company's internal CA. Empty trusts the
	// system's.
	CAFile string `yaml:"caFile"`
	// MaxConnsPerServer bounds the connections to each server.
	MaxConnsPerServer int `yaml:"maxConnsPerServer"`
	// KeepAliveTimeout closes an idle connection to a server after this long. Keep it
	// below the server's own keep-alive timeout (Apache's default is 5s).
	KeepAliveTimeout time.Duration `yaml:"keepAliveTimeout"`
	// HealthCheck is the active check; it is off without a path.
	HealthCheck HealthCheckConfig `yaml:"healthCheck"`
	// Ejection is the passive check.
	Ejection EjectionConfig `yaml:"ejection"`
}

// HealthCheckConfig is an active HTTP check: GET Path on every server each Interval.
// A 2xx or 3xx answer within Timeout is a success.
type HealthCheckConfig struct {
	Path           string        `yaml:"path"`
	Interval       time.Duration `yaml:"interval"`
	Timeout        time.Duration `yaml:"timeout"`
	HealthyAfter   int           `yaml:"healthyAfter"`
	UnhealthyAfter int           `yaml:"unhealthyAfter"`
}

// EjectionConfig takes a server out of rotation for Duration after
// ConsecutiveFailures failures in a row (connection errors, timeouts, 502/503/504).
type EjectionConfig struct {
	// Disabled turns passive health off.
	Disabled            bool          `yaml:"disabled"`
	ConsecutiveFailures int           `yaml:"consecutiveFailures"`
	Duration            time.Duration `yaml:"duration"`
}

// TimeoutsConfig bounds the waits of a request.
type TimeoutsConfig struct {
	// Connect bounds dialing a backend.
	Connect time.Duration `yaml:"connect"`
	// Response bounds a backend's whole response, body included (streams too).
	Response time.Duration `yaml:"response"`
	// ClientHeader bounds reading a client's request line and headers, from the
	// connection's first byte (or its first byte after idling): a client sending them
	// slowly (slowloris) holds a connection no longer than this.
	ClientHeader time.Duration `yaml:"clientHeader"`
	// ClientRead bounds reading a client's request body, from the end of its headers.
	ClientRead time.Duration `yaml:"clientRead"`
	// ClientIdle closes a client's keep-alive connection after this much idleness.
	ClientIdle time.Duration `yaml:"clientIdle"`
	// Shutdown bounds the drain of in-flight requests on Close.
	Shutdown time.Duration `yaml:"shutdown"`
}

// LimitsConfig bounds resources.
type LimitsConfig struct {
	// MaxConnections bounds open client connections, idle (parked) ones included.
	MaxConnections int `yaml:"maxConnections"`
	// MaxRequestBody bounds a request body in bytes.
	MaxRequestBody int `yaml:"maxRequestBody"`
	// MaxRequestHeader bounds a request's line and headers in bytes; a larger request
	// gets 431. Each connection reads requests through a buffer of this size.
	MaxRequestHeader int `yaml:"maxRequestHeader"`
	// MaxResponseHeader bounds a backend response's status line and headers in bytes
	// (legacy apps send large Set-Cookie headers); a larger one is the backend's
	// failure, 502. Each request to a backend reads its answer through a buffer of this
	// size.
	MaxResponseHeader int `yaml:"maxResponseHeader"`
}

// RetriesConfig bounds tries of idempotent requests (GET, HEAD, OPTIONS, TRACE, PUT,
// DELETE) that failed before any response byte came back.
type RetriesConfig struct {
	// Attempts is the total number of tries, 1 for no retry.
	Attempts int `yaml:"attempts"`
	// OnTimeout retries a request whose backend did not answer within
	// timeouts.response too. Off by default: the backend may still be working on it,
	// and a retry doubles both its load and the client's wait. A request that could
	// not connect is retried either way.
	OnTimeout bool `yaml:"onTimeout"`
}

// ForwardedConfig controls X-Forwarded-For, -Proto and -Host.
type ForwardedConfig struct {
	// TrustIncoming keeps the X-Forwarded-* headers a client sent (appending to
	// X-Forwarded-For): set it only behind a load balancer that sets them itself.
	TrustIncoming bool `yaml:"trustIncoming"`
}

// UpgradeConfig lists the protocols a client may switch to. A relayed upgrade is a
// byte tunnel: what flows through it is neither counted in the statistics nor given
// X-Forwarded-For, so only the protocols listed here are relayed; any other Upgrade
// request goes to the backend as an ordinary request without its Upgrade header.
type UpgradeConfig struct {
	// Protocols are the Upgrade protocol names relayed (case-insensitive, versions
	// ignored). Left out it is [websocket]; an empty list relays none. h2c is refused:
	// every request of the HTTP/2 connection would bypass the statistics.
	Protocols []string `yaml:"protocols"`
}

// StatsConfig sets the statistics' time buckets and how many routes they tell apart.
type StatsConfig struct {
	Bucket    time.Duration `yaml:"bucket"`
	Retention time.Duration `yaml:"retention"`
	// MaxRoutes caps the distinct route templates ("GET /users/{id}") counted apart,
	// in the statistics and as the route label of the metrics (default 200, at most
	// 2000); requests past it count under "other", so memory and series stay bounded
	// whatever the paths.
	MaxRoutes int `yaml:"maxRoutes"`
}

// AccessLogConfig turns on a JSON access log, one line per request.
type AccessLogConfig struct {
	// Path is a file to append to, or "-" for standard output; empty disables it.
	Path string `yaml:"path"`
}

// withDefaults returns c with every empty field set to its default.
func (c Config) withDefaults() Config {
	setDefault(&c.Sticky.Cookie, DefaultStickyCookie)
	setDefault(&c.Sticky.TTL, DefaultStickyTTL)
	setDefault(&c.Sticky.OnZeroWeight, defaultStickyOnZeroWeight)
	setDefault(&c.Force.Header, DefaultForceHeader)
	setDefault(&c.Force.Cookie, DefaultForceCookie)
	for _, s := range []traffic.Side{traffic.Legacy, traffic.Kubernetes} {
		p := c.Backends.Pool(s)
		setDefault(&p.MaxConnsPerServer, DefaultMaxConnsPerServer)
		setDefault(&p.KeepAliveTimeout, DefaultKeepAliveTimeout)
		setDefault(&p.HealthCheck.Interval, DefaultHealthInterval)
		setDefault(&p.HealthCheck.Timeout, DefaultHealthTimeout)
		setDefault(&p.HealthCheck.HealthyAfter, DefaultHealthyAfter)
		setDefault(&p.HealthCheck.UnhealthyAfter, DefaultUnhealthyAfter)
		setDefault(&p.Ejection.ConsecutiveFailures, DefaultEjectAfter)
		setDefault(&p.Ejection.Duration, DefaultEjectFor)
	}
	setDefault(&c.Timeouts.Connect, DefaultConnectTimeout)
	setDefault(&c.Timeouts.Response, DefaultResponseTimeout)
	setDefault(&c.Timeouts.ClientRead, DefaultClientReadTimeout)
	setDefault(&c.Timeouts.ClientHeader, min(DefaultClientHeader, c.Timeouts.ClientRead))
	setDefault(&c.Timeouts.ClientIdle, DefaultClientIdleTimeout)
	setDefault(&c.Timeouts.Shutdown, DefaultShutdownTimeout)
	setDefault(&c.Limits.MaxConnections, DefaultMaxConnections)
	setDefault(&c.Limits.MaxRequestBody, DefaultMaxRequestBody)
	setDefault(&c.Limits.MaxRequestHeader, DefaultMaxRequestHeader)
	setDefault(&c.Limits.MaxResponseHeader, DefaultMaxResponseHeader)
	setDefault(&c.Retries.Attempts, DefaultRetryAttempts)
	setDefault(&c.Stats.Bucket, DefaultStatsBucket)
	setDefault(&c.Stats.Retention, DefaultStatsRetention)
	setDefault(&c.Stats.MaxRoutes, DefaultMaxRoutes)
	c.Backends.Legacy.Servers = append([]string(nil), c.Backends.Legacy.Servers...)
	c.Backends.Kubernetes.Servers = append([]string(nil), c.Backends.Kubernetes.Servers...)
	c.Force.Networks = append([]string(nil), c.Force.Networks...)
	if c.Upgrade.Protocols == nil {
		c.Upgrade.Protocols = []string{DefaultUpgradeProtocol}
	} else {
		c.Upgrade.Protocols = append([]string{}, c.Upgrade.Protocols...)
	}
	return c
}

func setDefault[T comparable](field *T, def T) {
	var zero T
	if *field == zero {
		*field = def
	}
}
