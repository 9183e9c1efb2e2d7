package proxy

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"ferry.dev/ferry/internal/traffic"
)

// Admin API paths.
const (
	PathHealthz  = "/healthz"
	PathWeights  = "/v1/weights"
	PathStats    = "/v1/stats"
	PathBackends = "/v1/backends"
	PathCapacity = "/v1/capacity"
	PathMetrics  = "/metrics"
)

// WeightsRequest is the body of PUT /v1/weights: basis points for one or both sides;
// a side left out gets the rest of 10000.
type WeightsRequest struct {
	Legacy     *int `json:"legacy,omitempty"`
	Kubernetes *int `json:"kubernetes,omitempty"`
}

// resolve turns the request into weights.
func (r WeightsRequest) resolve() (traffic.Weights, error) {
	switch {
	case r.Legacy != nil && r.Kubernetes != nil:
		w := traffic.Weights{Legacy: *r.Legacy, Kubernetes: *r.Kubernetes}
		return w, w.Validate()
	case r.Kubernetes != nil:
		w := traffic.KubernetesShare(*r.Kubernetes)
		return w, w.Validate()
	case r.Legacy != nil:
		w := traffic.KubernetesShare(traffic.Total - *r.Legacy)
		return w, w.Validate()
	}
	return traffic.Weights{}, fmt.Errorf("%w: give legacy or kubernetes in basis points (0..10000)", traffic.ErrInvalidWeights)
}

// BackendStatus is one server's standing, as GET /v1/backends reports it.
type BackendStatus struct {
	Side         string     `json:"side"`
	URL          string     `json:"url"`
	Healthy      bool       `json:"healthy"`
	EjectedUntil *time.Time `json:"ejectedUntil,omitempty"`
	Available    bool       `json:"available"`
}

// Backends reports every server's health.
func (p *Proxy) Backends() []BackendStatus {
	rt, now := p.rt.Load(), time.Now()
	var out []BackendStatus
	for _, pl := range rt.pools {
		for _, s := range pl.servers {
			b := BackendStatus{Side: s.side.String(), URL: s.url, Healthy: s.healthy.Load(), Available: s.available(now)}
			if until := time.Unix(0, s.ejectedUntil.Load()); until.After(now) {
				b.EjectedUntil = &until
			}
			out = append(out, b)
		}
	}
	return out
}

// apiError is the JSON body of every admin error.
type apiError struct {
	Error string `json:"error"`
}

func (p *Proxy) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathHealthz, func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.Handle("GET "+PathWeights, p.authorized(p.getWeights))
	mux.Handle("PUT "+PathWeights, p.authorized(p.putWeights))
	mux.Handle("GET "+PathStats, p.authorized(p.getStats))
	mux.Handle("GET "+PathBackends, p.authorized(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, p.Backends())
	}))
	mux.Handle("GET "+PathCapacity, p.authorized(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, p.CapacityReport())
	}))
	metrics := promhttp.HandlerFor(p.metrics.registry, promhttp.HandlerOpts{})
	mux.Handle("GET "+PathMetrics, p.authorized(metrics.ServeHTTP))
	return p.loopbackHostOnly(mux)
}

// loopbackHostOnly refuses, while no token is configured (the admin API then listens
// only on loopback), every request whose Host is not a loopback name or address: a
// web page that an attacker's DNS name points at 127.0.0.1 (DNS rebinding) could
// otherwise drive the API from the browser of anyone on this machine.
func (p *Proxy) loopbackHostOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.rt.Load().token == "" && !isLoopbackHost(r.Host) {
			writeJSON(w, http.StatusForbidden, apiError{"without a token the admin API answers only requests for localhost or a loopback address"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isLoopbackHost says whether a Host header (with or without port) names localhost or
// a loopback address.
func isLoopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}

// bearerToken returns the token of an Authorization header of the Bearer scheme, whose
// name is case-insensitive and may be followed by several spaces.
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimLeft(token, " "), true
}

// authorized requires the admin bearer token, when one is configured.
func (p *Proxy) authorized(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := p.rt.Load().token
		if token != "" {
			got, ok := bearerToken(r.Header.Get("Authorization"))
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="ferry proxy admin"`)
				writeJSON(w, http.StatusUnauthorized, apiError{"missing or wrong bearer token"})
				return
			}
		}
		next(w, r)
	})
}

func (p *Proxy) getWeights(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, p.current())
}

func (p *Proxy) putWeights(w http.ResponseWriter, r *http.Request) {
	var req WeightsRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{"weights body: " + err.Error()})
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		writeJSON(w, http.StatusBadRequest, apiError{"weights body: want one JSON object and nothing after it"})
		return
	}
	weights, err := req.resolve()
	if err == nil {
		err = p.SetWeights(r.Context(), weights)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, p.current())
}

func (p *Proxy) getStats(w http.ResponseWriter, r *http.Request) {
	window := time.Minute
	if s := r.URL.Query().Get("window"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			writeJSON(w, http.StatusBadRequest, apiError{fmt.Sprintf("window %q: want a positive duration such as 30s or 5m", s)})
			return
		}
		window = d
	}
	var snap Snapshot
	if r.URL.Query().Get("routes") == "true" {
		snap = p.StatsByRoute(window)
	} else {
		snap = p.Stats(window)
	}
	for _, side := range []traffic.Side{traffic.Legacy, traffic.Kubernetes} {
		s := snap.Side(side)
		if r.URL.Query().Get("bins") == "true" {
			s.fillBins()
			continue
		}
		for i := range s.Routes {
			s.Routes[i].LatencyBins = nil
		}
	}
	writeJSON(w, http.StatusOK, snap)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// ErrUnauthorized is returned by AdminClient when the admin API refuses its token.
var ErrUnauthorized = errors.New("the admin API refused the token")
