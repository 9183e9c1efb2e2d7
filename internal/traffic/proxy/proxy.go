package proxy

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"ferry.dev/ferry/internal/traffic"
)

// Log keys used by the proxy.
const (
	logKeySide    = "side"
	logKeyServer  = "server"
	logKeyError   = "error"
	logKeyAddr    = "addr"
	logKeyWeights = "weights"
)

// Errors returned by the proxy's lifecycle.
var (
	ErrNotOpen     = errors.New("proxy is not open")
	ErrAlreadyOpen = errors.New("proxy is already open")
)

var _ traffic.Router = (*Proxy)(nil)

// Proxy is the embedded weighted router. Create it with New, start it with Open and
// stop it with Close; it is safe for concurrent use.
type Proxy struct {
	// Logger receives the proxy's events (not the access log). Set it before Open.
	Logger *slog.Logger

	rt      atomic.Pointer[generation]
	k8sBP   atomic.Int32    // Kubernetes share in basis points; legacy has the rest
	reload  sync.Mutex      // serialises Reload and SetWeights against each other
	fileW   traffic.Weights // the weights the config file gave last
	stats   *statsRecorder
	loads   *serverLoads
	routes  *routeTable
	metrics *metrics
	access  *accessLog
	uploads sync.Pool // of *upload
	// transport and respHeader pass backend responses' headers as they are; see
	// passThrough.
	transport  passThrough
	respHeader respHeaderTemplate

	server  *fasthttp.Server
	admin   *http.Server
	ln      net.Listener
	clients *parkListener // ln's connections, as fasthttp serves them
	adminLn net.Listener
	tunnels tunnelSet
	serving sync.WaitGroup
	open    atomic.Bool
	closed  atomic.Bool
}

// New validates cfg, fills in its defaults and returns a proxy ready to Open. A token
// file named by the config is read now.
func New(cfg Config) (*Proxy, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	files, err := readFiles(cfg)
	if err != nil {
		return nil, err
	}
	w, _ := cfg.Weights.resolve() // validated
	p := &Proxy{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		fileW:  w,
		stats:  newStatsRecorder(cfg.Stats.Bucket, cfg.Stats.Retention),
		loads:  newServerLoads(cfg.Stats.Bucket, cfg.Stats.Retention),
	}
	p.transport = passThrough{&p.respHeader}
	p.k8sBP.Store(int32(w.Kubernetes))
	p.metrics = newMetrics(func() float64 {
		if p.clients == nil {
			return 0
		}
		return float64(p.clients.Open())
	})
	p.metrics.registry.MustRegister(newUpCollector(p))
	p.routes = newRouteTable(cfg.Stats.MaxRoutes, p.metrics.resolveRoute)
	rt := newGeneration(cfg, files, p.transport)
	p.loads.attach(rt)
	p.rt.Store(rt)
	return p, nil
}

// configFiles are what the files a config names hold, read when it is loaded.
type configFiles struct {
	token string
	// roots are each side's caFile; nil trusts the system's authorities.
	roots [2]*x509.CertPool
}

func readFiles(cfg Config) (configFiles, error) {
	var f configFiles
	var err error
	if f.token, err = adminToken(cfg.Admin); err != nil {
		return f, err
	}
	for _, side := range []traffic.Side{traffic.Legacy, traffic.Kubernetes} {
		path := "backends." + side.String() + ".caFile"
		if f.roots[side], err = readCAFile(path, cfg.Backends.Pool(side).CAFile); err != nil {
			return f, err
		}
	}
	return f, nil
}

// adminToken returns the configured token, reading the token file if there is one.
func adminToken(c AdminConfig) (string, error) {
	if c.TokenFile == "" {
		return c.Token, nil
	}
	data, err := os.ReadFile(c.TokenFile)
	if err != nil {
		return "", fmt.Errorf("%w: admin.tokenFile: %w", ErrInvalidConfig, err)
	}
	token := strings.TrimSpace(string(data))
	if token == "" {
		return "", fmt.Errorf("%w: admin.tokenFile: %s is empty", ErrInvalidConfig, c.TokenFile)
	}
	if strings.IndexFunc(token, isControl) >= 0 {
		return "", fmt.Errorf("%w: admin.tokenFile: %s holds a control character: a token must be printable", ErrInvalidConfig, c.TokenFile)
	}
	return token, nil
}

// Open binds both listeners and starts serving, health checks and stats. It returns
// once the proxy accepts connections; nothing is left running if it fails.
func (p *Proxy) Open() (err error) {
	if p.open.Swap(true) {
		return ErrAlreadyOpen
	}
	defer func() {
		if err != nil {
			p.open.Store(false)
		}
	}()
	rt := p.rt.Load()
	if p.access, err = openAccessLog(rt.cfg.AccessLog.Path); err != nil {
		return err
	}
	if p.ln, err = net.Listen("tcp", rt.cfg.Listen); err != nil {
		p.access.close()
		return fmt.Errorf("listen on %s: %w", rt.cfg.Listen, err)
	}
	if p.adminLn, err = net.Listen("tcp", rt.cfg.Admin.Listen); err != nil {
		p.ln.Close()
		p.access.close()
		return fmt.Errorf("admin listen on %s: %w", rt.cfg.Admin.Listen, err)
	}
	p.server = p.newServer(rt.cfg)
	p.admin = &http.Server{Handler: p.adminHandler(), ReadHeaderTimeout: 10 * time.Second}
	p.updateGauges()
	rt.health = startHealthChecks(rt, p.healthEvents())
	p.serving.Add(2)
	p.clients = newParkListener(p.ln, rt.cfg.Limits.MaxConnections)
	go func() { defer p.serving.Done(); _ = p.server.Serve(p.clients) }()
	go func() { defer p.serving.Done(); _ = p.admin.Serve(p.adminLn) }()
	p.Logger.Info("proxy serving", logKeyAddr, p.ln.Addr().String(), "admin", p.adminLn.Addr().String(),
		logKeyWeights, p.current().String())
	return nil
}

// newServer tunes fasthttp's server: request bodies streamed to the backend rather
// than buffered, no headers of its own added to the backend's response, idle
// connections' buffers released so that many keep-alive clients cost little memory.
func (p *Proxy) newServer(cfg Config) *fasthttp.Server {
	return &fasthttp.Server{
		Handler:     p.handle,
		Concurrency: cfg.Limits.MaxConnections,
		// ReadTimeout covers a request's headers; HeaderReceived then gives its body
		// timeouts.clientRead.
		ReadTimeout: cfg.Timeouts.ClientHeader,
		HeaderReceived: func(*fasthttp.RequestHeader) fasthttp.RequestConfig {
			return fasthttp.RequestConfig{ReadTimeout: cfg.Timeouts.ClientRead}
		},
		IdleTimeout:        cfg.Timeouts.ClientIdle,
		MaxRequestBodySize: cfg.Limits.MaxRequestBody,
		StreamRequestBody:  true,
		// Forms pass through as bytes: parsing them would buffer and re-encode them.
		DisablePreParseMultipartForm: true,
		ReduceMemoryUsage:            true,
		// Keep-alive connections that idle park (parkListener): a streamed body keeps
		// fasthttp from releasing a connection's read buffer between requests.
		ConnState: connState,
		// A worker whose connection parked waits in fasthttp's pool with its grown
		// stack, for the pool's default 10 s: as many as connections were served at
		// once. Stopped after parkAfter idle, they go soon after their connections
		// park; a busy worker is reused first and never idles that long.
		MaxIdleWorkerDuration: parkAfter,
		NoDefaultServerHeader: true,
		NoDefaultDate:         true,
		NoDefaultContentType:  true,
		CloseOnShutdown:       true,
		// The read buffer must hold a request's whole head.
		ReadBufferSize: cfg.Limits.MaxRequestHeader,
		ErrorHandler:   p.unreadable,
		Logger:         fasthttpLogger{p},
	}
}

// Addr returns the address user traffic is served on, once open.
func (p *Proxy) Addr() string { return addrOf(p.ln) }

// AdminAddr returns the admin API's address, once open.
func (p *Proxy) AdminAddr() string { return addrOf(p.adminLn) }

func addrOf(l net.Listener) string {
	if l == nil {
		return ""
	}
	return l.Addr().String()
}

// Close stops accepting connections, lets in-flight requests finish (up to
// timeouts.shutdown or ctx), then closes upgraded connections, the admin API and the
// backends' idle connections.
func (p *Proxy) Close(ctx context.Context) error {
	if !p.open.Load() {
		return ErrNotOpen
	}
	if p.closed.Swap(true) {
		return nil
	}
	rt := p.rt.Load()
	ctx, cancel := context.WithTimeout(ctx, rt.cfg.Timeouts.Shutdown)
	defer cancel()
	err := p.server.ShutdownWithContext(ctx)
	if err != nil {
		err = fmt.Errorf("drain: %w", err)
	}
	// fasthttp's Shutdown closes the listeners its Serve has registered; a Serve that
	// has not started yet (Close right after Open) registers after it and would serve
	// on. Closing the listener here ends that one at its first Accept.
	_ = p.clients.Close()
	p.tunnels.closeAll()
	if aerr := p.admin.Shutdown(ctx); aerr != nil {
		p.admin.Close()
	}
	p.serving.Wait()
	// A reload may have replaced the generation while draining; stop the one in force.
	p.reload.Lock()
	rt = p.rt.Load()
	rt.health.stop()
	for _, pl := range rt.pools {
		pl.close()
	}
	p.reload.Unlock()
	p.access.close()
	p.Logger.Info("proxy stopped")
	return err
}

// SetWeights makes w the split for the next requests; requests in flight carry on.
func (p *Proxy) SetWeights(_ context.Context, w traffic.Weights) error {
	if err := w.Validate(); err != nil {
		return err
	}
	p.reload.Lock()
	defer p.reload.Unlock()
	p.setWeights(w)
	return nil
}

func (p *Proxy) setWeights(w traffic.Weights) {
	old := p.current()
	p.k8sBP.Store(int32(w.Kubernetes))
	p.updateGauges()
	if old != w {
		p.Logger.Info("weights changed", "from", old.String(), "to", w.String())
	}
}

// Weights returns the split applied now.
func (p *Proxy) Weights(context.Context) (traffic.Weights, error) { return p.current(), nil }

func (p *Proxy) current() traffic.Weights { return traffic.KubernetesShare(int(p.k8sBP.Load())) }

// Stats returns both sides' statistics over the last window (rounded out to whole
// buckets and capped at the retention).
func (p *Proxy) Stats(window time.Duration) Snapshot {
	snap := p.stats.snapshot(window, time.Now(), nil)
	snap.Weights = p.current()
	return snap
}

// StatsByRoute is Stats with each side's statistics by route (SideStats.Routes).
func (p *Proxy) StatsByRoute(window time.Duration) Snapshot {
	snap := p.stats.snapshot(window, time.Now(), p.routes.names)
	snap.Weights = p.current()
	return snap
}

// Config returns the configuration in force, defaults filled in.
func (p *Proxy) Config() Config { return p.rt.Load().cfg }

// Reload replaces the configuration with cfg after validating it. On any error
// nothing changes and the old configuration keeps serving. The weights change only if
// the file's weights changed since the last load, so a reload does not undo weights
// set through the API.
func (p *Proxy) Reload(cfg Config) error {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	files, err := readFiles(cfg)
	if err != nil {
		return err
	}
	p.reload.Lock()
	defer p.reload.Unlock()
	old := p.rt.Load()
	if err := restartOnly(old.cfg, cfg); err != nil {
		return err
	}
	rt := newGeneration(cfg, files, p.transport)
	p.loads.attach(rt) // stats cannot change on a reload: the buckets fit
	if p.open.Load() && !p.closed.Load() {
		rt.health = startHealthChecks(rt, p.healthEvents())
	}
	p.rt.Store(rt)
	if w, _ := cfg.Weights.resolve(); w != p.fileW {
		p.fileW = w
		p.setWeights(w)
	}
	p.updateGauges()
	old.health.stop()
	// Requests in flight hold their server's client; idle connections can go now and
	// busy ones close when fasthttp next finds them idle.
	for _, pl := range old.pools {
		pl.close()
	}
	p.Logger.Info("configuration reloaded", logKeyWeights, p.current().String())
	return nil
}

// fasthttpLogger sends fasthttp's own messages to the proxy's logger, with the
// secrets of the requests they dump redacted.
type fasthttpLogger struct{ p *Proxy }

func (l fasthttpLogger) Printf(format string, args ...any) {
	l.p.Logger.Warn(redactHeaders(fmt.Sprintf(format, args...), l.p.rt.Load().cfg.Force.Header))
}
