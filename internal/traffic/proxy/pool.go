package proxy

import (
	"crypto/x509"
	"net"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"ferry.dev/ferry/internal/traffic"
)

// server is one backend URL with its connection pool and health.
type server struct {
	url    string
	side   traffic.Side
	client *fasthttp.HostClient
	// probe is the active health check's own client, so that a busy pool does not make
	// a server look sick.
	probe *fasthttp.HostClient

	// healthy is the active checks' verdict; ejectedUntil (unix ns) the passive one.
	healthy      atomic.Bool
	failures     atomic.Int32
	ejectedUntil atomic.Int64
	// load counts the requests it answered per stats bucket (see serverLoads).
	load *serverLoad
}

// pool is one side's servers, picked round-robin among the available ones.
type pool struct {
	side       traffic.Side
	cfg        PoolConfig
	servers    []*server
	next       atomic.Uint32
	hostHeader []byte
}

// bufferedBodyLimit is the largest response body the proxy reads whole before passing
// it on; larger bodies stream.
const bufferedBodyLimit = 64 << 10

// poolSettings are the parts of the config every pool's clients share.
type poolSettings struct {
	connect, response, write time.Duration
	// maxHeader is limits.maxResponseHeader: the client's read buffer must hold a
	// response's whole head.
	maxHeader int
	// transport carries forwarded requests (not health checks).
	transport fasthttp.RoundTripper
	// roots are the authorities https servers' certificates must chain to; nil for the
	// system's.
	roots *x509.CertPool
}

func newPool(side traffic.Side, cfg PoolConfig, set poolSettings) *pool {
	p := &pool{side: side, cfg: cfg, hostHeader: []byte(cfg.HostHeader)}
	for _, raw := range cfg.Servers {
		u, _ := parseServer(raw) // validated with the config
		isTLS, addr := u.Scheme == "https", hostPort(u.Scheme, u.Host)
		s := &server{url: raw, side: side, client: newHostClient(isTLS, addr, cfg, set)}
		s.client.Transport = set.transport
		probeCfg := cfg
		probeCfg.MaxConnsPerServer = 1
		s.probe = newHostClient(isTLS, addr, probeCfg, set)
		s.healthy.Store(true)
		p.servers = append(p.servers, s)
	}
	return p
}

func hostPort(scheme, host string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	if scheme == "https" {
		return net.JoinHostPort(host, "443")
	}
	return net.JoinHostPort(host, "80")
}

// newHostClient tunes fasthttp's client for a proxy: many idle connections kept warm
// but closed before the backend's own keep-alive timeout, no retries of its own (the
// proxy decides), paths passed through untouched, response bodies streamed.
func newHostClient(isTLS bool, addr string, cfg PoolConfig, set poolSettings) *fasthttp.HostClient {
	dialer := &net.Dialer{Timeout: set.connect, KeepAlive: 30 * time.Second}
	hc := &fasthttp.HostClient{
		Addr:                      addr,
		IsTLS:                     isTLS,
		Dial:                      func(a string) (net.Conn, error) { return dialer.Dial("tcp", a) },
		MaxConns:                  cfg.MaxConnsPerServer,
		MaxIdleConnDuration:       cfg.KeepAliveTimeout,
		MaxIdemponentCallAttempts: 1,
		ReadTimeout:               set.response,
		WriteTimeout:              set.write,
		MaxConnWaitTimeout:        set.connect,
		NoDefaultUserAgentHeader:  true,
		DisablePathNormalizing:    true,
		StreamResponseBody:        true,
		// Bodies of known length up to this size are read in one go (the fast path);
		// longer ones and chunked ones stream to the client as they arrive.
		MaxResponseBodySize: bufferedBodyLimit,
		ReadBufferSize:      set.maxHeader,
		WriteBufferSize:     8 << 10,
		ConnPoolStrategy:    fasthttp.LIFO,
		// Errors about a malformed response must not dump it (Set-Cookie, body): they
		// end up in the access log.
		SecureErrorLogMessage: true,
	}
	if isTLS {
		hc.TLSConfig = backendTLS(set.roots)
	}
	return hc
}

// pick returns the next available server, or nil if none is.
func (p *pool) pick(now time.Time) *server {
	n := uint32(len(p.servers))
	start := p.next.Add(1)
	for i := uint32(0); i < n; i++ {
		if s := p.servers[(start+i)%n]; s.available(now) {
			return s
		}
	}
	return nil
}

// any returns the next server regardless of health, for when none is available.
func (p *pool) any() *server {
	return p.servers[p.next.Add(1)%uint32(len(p.servers))]
}

func (s *server) available(now time.Time) bool {
	return available(s.healthy.Load(), time.Unix(0, s.ejectedUntil.Load()), now)
}

// observe applies the passive health decision to one outcome and says whether the
// server was ejected by it.
func (s *server) observe(failed bool, cfg EjectionConfig, now time.Time) bool {
	if cfg.Disabled || (!failed && s.failures.Load() == 0) {
		return false
	}
	f, eject := passiveNext(int(s.failures.Load()), failed, cfg.ConsecutiveFailures)
	s.failures.Store(int32(f))
	if eject {
		s.ejectedUntil.Store(now.Add(cfg.Duration).UnixNano())
	}
	return eject
}

func (p *pool) close() {
	for _, s := range p.servers {
		s.client.CloseIdleConnections()
		s.probe.CloseIdleConnections()
	}
}
