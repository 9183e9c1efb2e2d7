package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"ferry.dev/ferry/internal/traffic"
	"ferry.dev/ferry/internal/traffic/proxy"
)

// Synthetic traffic of every Migration's fake proxy.
const (
	syntheticRate = 10000 // requests per second, both sides together
	errorsPer     = 1000  // one 5xx in this many requests, on both sides
)

// latencyShape is the latency distribution of both sides: [microseconds, parts per
// thousand].
var latencyShape = [][2]int64{{5000, 200}, {10000, 400}, {20000, 250}, {40000, 100}, {80000, 50}}

// fakeAdmin speaks the proxy admin API for many Migrations on one listener, each under
// /m/NAMESPACE/INDEX: weights as set, statistics synthetic.
type fakeAdmin struct {
	srv  *http.Server
	addr string

	mu      sync.Mutex
	weights map[string]traffic.Weights
}

func startFakeAdmin() (*fakeAdmin, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	a := &fakeAdmin{addr: l.Addr().String(), weights: map[string]traffic.Weights{}}
	mux := http.NewServeMux()
	const prefix = "/m/{ns}/{id}"
	mux.HandleFunc("GET "+prefix+proxy.PathWeights, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, a.current(key(r)))
	})
	mux.HandleFunc("PUT "+prefix+proxy.PathWeights, a.putWeights)
	mux.HandleFunc("GET "+prefix+proxy.PathStats, a.getStats)
	// The legacy-capacity guard asks before every step up: three healthy legacy
	// servers that have each carried all of the traffic, so it never holds, but its
	// question is part of each reconcile's cost.
	mux.HandleFunc("GET "+prefix+proxy.PathCapacity, func(w http.ResponseWriter, r *http.Request) {
		rep := proxy.CapacityReport{BucketSeconds: 1, RPS: syntheticRate}
		for i := range 3 {
			rep.Legacy = append(rep.Legacy, proxy.ServerLoad{URL: fmt.Sprintf("http://legacy-%d", i), Healthy: true, PeakRPS: syntheticRate})
		}
		writeJSON(w, http.StatusOK, rep)
	})
	a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = a.srv.Serve(l) }()
	return a, nil
}

func (a *fakeAdmin) close() { _ = a.srv.Close() }

// url is the admin URL of the fake proxy of Migration i in namespace ns.
func (a *fakeAdmin) url(ns string, i int) string {
	return fmt.Sprintf("http://%s/m/%s/%d", a.addr, ns, i)
}

func key(r *http.Request) string { return r.PathValue("ns") + "/" + r.PathValue("id") }

// current is the weights last set, all on legacy before the first.
func (a *fakeAdmin) current(k string) traffic.Weights {
	a.mu.Lock()
	defer a.mu.Unlock()
	w, ok := a.weights[k]
	if !ok {
		return traffic.KubernetesShare(0)
	}
	return w
}

func (a *fakeAdmin) putWeights(w http.ResponseWriter, r *http.Request) {
	var req proxy.WeightsRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "weights body: " + err.Error()})
		return
	}
	var set traffic.Weights
	switch {
	case req.Kubernetes != nil:
		set = traffic.KubernetesShare(*req.Kubernetes)
	case req.Legacy != nil:
		set = traffic.KubernetesShare(traffic.Total - *req.Legacy)
	}
	if err := set.Validate(); err != nil || (req.Legacy != nil && req.Kubernetes != nil && *req.Legacy+*req.Kubernetes != traffic.Total) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid weights"})
		return
	}
	a.mu.Lock()
	a.weights[key(r)] = set
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, set)
}

// getStats answers with syntheticRate requests per second over the window, split by
// the current weights, the same error rate and latency distribution on both sides.
func (a *fakeAdmin) getStats(w http.ResponseWriter, r *http.Request) {
	window, err := time.ParseDuration(r.URL.Query().Get("window"))
	if err != nil || window <= 0 {
		window = time.Minute
	}
	weights := a.current(key(r))
	total := int64(window.Seconds() * syntheticRate)
	now := time.Now().UTC()
	snap := proxy.Snapshot{From: now.Add(-window), To: now, Weights: weights,
		Legacy:     side("legacy", total*int64(weights.Legacy)/traffic.Total),
		Kubernetes: side("kubernetes", total*int64(weights.Kubernetes)/traffic.Total),
	}
	writeJSON(w, http.StatusOK, snap)
}

func side(name string, requests int64) proxy.SideStats {
	s := proxy.SideStats{Side: name, Requests: requests}
	if requests == 0 {
		return s
	}
	s.Status.ServerError = requests / errorsPer
	s.Status.Success = requests - s.Status.ServerError
	s.ErrorRate = float64(s.Status.ServerError) / float64(requests)
	left := requests
	for i, b := range latencyShape {
		n := requests * b[1] / 1000
		if i == len(latencyShape)-1 {
			n = left
		}
		left -= n
		if n > 0 {
			s.LatencyBins = append(s.LatencyBins, [2]int64{b[0], n})
		}
	}
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
