package proxy

import (
	"bytes"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"ferry.dev/ferry/internal/traffic"
)

// generation is everything a reload replaces at once: the request path loads it with one
// atomic read, so a request sees either the old or the new configuration, never a mix.
type generation struct {
	cfg       Config
	pools     [2]*pool
	policy    policy
	setCookie [2]string // ready Set-Cookie values per side
	retries   int
	token     string
	health    *healthChecker
	// forceSecret and forceNets are force.secret and force.networks, parsed.
	forceSecret []byte
	forceNets   []netip.Prefix
	// upgrades are upgrade.protocols in lower case.
	upgrades [][]byte
}

func newGeneration(cfg Config, files configFiles, transport fasthttp.RoundTripper) *generation {
	set := poolSettings{
		connect: cfg.Timeouts.Connect, response: cfg.Timeouts.Response, write: cfg.Timeouts.ClientRead,
		maxHeader: cfg.Limits.MaxResponseHeader, transport: transport,
	}
	rt := &generation{
		cfg:     cfg,
		policy:  policy{sticky: !cfg.Sticky.Disabled, keepOnZero: cfg.Sticky.OnZeroWeight == OnZeroWeightKeep},
		retries: cfg.Retries.Attempts,
		token:   files.token,
	}
	if cfg.Force.Secret != "" {
		rt.forceSecret = []byte(cfg.Force.Secret)
	}
	for _, proto := range cfg.Upgrade.Protocols {
		rt.upgrades = append(rt.upgrades, []byte(strings.ToLower(proto)))
	}
	for _, n := range cfg.Force.Networks {
		rt.forceNets = append(rt.forceNets, netip.MustParsePrefix(n)) // validated
	}
	for _, side := range []traffic.Side{traffic.Legacy, traffic.Kubernetes} {
		set.roots = files.roots[side]
		rt.pools[side] = newPool(side, *cfg.Backends.Pool(side), set)
		rt.setCookie[side] = stickyCookie(cfg.Sticky, side)
	}
	return rt
}

// stickyCookie renders the Set-Cookie value that pins a client to side.
func stickyCookie(c StickyConfig, side traffic.Side) string {
	ck := http.Cookie{
		Name: c.Cookie, Value: side.String(), Path: "/", MaxAge: int(c.TTL / time.Second),
		HttpOnly: true, Secure: c.Secure, SameSite: http.SameSiteLaxMode,
	}
	return ck.String()
}

// server picks the server for a request decided for side. When that side has no
// available server, an unforced request fails over to the other side; when neither
// has one, the request still goes to one of side's servers rather than nowhere.
func (rt *generation) server(side traffic.Side, forced bool, now time.Time) (*server, bool) {
	if s := rt.pools[side].pick(now); s != nil {
		return s, false
	}
	if !forced {
		if s := rt.pools[1-side].pick(now); s != nil {
			return s, true
		}
	}
	return rt.pools[side].any(), false
}

// tunnels says whether a request asks for an upgrade to be relayed: it names the
// upgrade in Connection and offers only protocols of upgrade.protocols.
func (rt *generation) tunnels(h *fasthttp.RequestHeader) bool {
	if !h.ConnectionUpgrade() {
		return false
	}
	offer := h.Peek("Upgrade")
	if len(offer) == 0 {
		return false
	}
	for len(offer) > 0 {
		var proto []byte
		proto, offer, _ = bytes.Cut(offer, []byte(","))
		name, _, _ := bytes.Cut(bytes.TrimSpace(proto), []byte("/"))
		if !rt.upgradeAllowed(bytes.TrimSpace(name)) {
			return false
		}
	}
	return true
}

func (rt *generation) upgradeAllowed(name []byte) bool {
	for _, allowed := range rt.upgrades {
		if bytes.EqualFold(name, allowed) {
			return true
		}
	}
	return false
}

// restartOnly lists the settings a reload cannot change, because they belong to the
// listeners and the server that are already running.
func restartOnly(old, new Config) error {
	for _, f := range []struct {
		name     string
		old, new any
	}{
		{"listen", old.Listen, new.Listen},
		{"admin.listen", old.Admin.Listen, new.Admin.Listen},
		{"timeouts.clientHeader", old.Timeouts.ClientHeader, new.Timeouts.ClientHeader},
		{"timeouts.clientRead", old.Timeouts.ClientRead, new.Timeouts.ClientRead},
		{"timeouts.clientIdle", old.Timeouts.ClientIdle, new.Timeouts.ClientIdle},
		{"limits", old.Limits, new.Limits},
		{"accessLog.path", old.AccessLog.Path, new.AccessLog.Path},
		{"stats", old.Stats, new.Stats},
	} {
		if f.old != f.new {
			return fmt.Errorf("%w: %s changed (%v → %v): it takes a restart", ErrInvalidConfig, f.name, f.old, f.new)
		}
	}
	return nil
}
