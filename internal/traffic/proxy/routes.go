package proxy

import (
	"maps"
	"sync"
	"sync/atomic"

	"ferry.dev/ferry/internal/routes"
)

// route is one endpoint template ("GET /users/{id}") the statistics count apart, with
// its Prometheus series resolved once.
type route struct {
	// index is the route's slot in every bucket's per-route counters; 0 is "other".
	index    int
	name     string
	requests [2][6]counter
	duration [2]observer
}

// counter and observer are the parts of Prometheus' series the request path uses.
type (
	counter  interface{ Inc() }
	observer interface{ Observe(float64) }
)

// routeTable maps a request to its route. It admits templates until it holds max of
// them; every request past the cap, and every request answered 4xx with a template
// not yet admitted (scanners and typos must not take the places of real endpoints),
// counts under "other". The lookup of an admitted template takes no lock and does
// not allocate: the template is built in a buffer on the stack and the map is
// replaced, not changed, when a template is added.
type routeTable struct {
	max    int
	byName atomic.Pointer[map[string]*route]
	mu     sync.Mutex // serialises additions
	other  *route
	// resolve gives a new route its Prometheus series.
	resolve func(r *route)
}

func newRouteTable(max int, resolve func(r *route)) *routeTable {
	t := &routeTable{max: max, resolve: resolve, other: &route{index: 0, name: routes.Other}}
	resolve(t.other)
	m := map[string]*route{}
	t.byName.Store(&m)
	return t
}

// lookup returns the route of a request of method to path answered with status.
func (t *routeTable) lookup(method, path []byte, status int) *route {
	var buf [192]byte
	key := routes.AppendEndpoint(buf[:0], method, path)
	m := *t.byName.Load()
	if r, ok := m[string(key)]; ok {
		return r
	}
	if len(m) >= t.max || status >= 400 && status < 500 {
		return t.other
	}
	return t.add(key)
}

func (t *routeTable) add(key []byte) *route {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := *t.byName.Load()
	if r, ok := m[string(key)]; ok {
		return r
	}
	if len(m) >= t.max {
		return t.other
	}
	r := &route{index: len(m) + 1, name: string(key)}
	t.resolve(r)
	next := maps.Clone(m)
	next[r.name] = r
	t.byName.Store(&next)
	return r
}

// names returns every route's name by index (index 0 is "other").
func (t *routeTable) names() []string {
	m := *t.byName.Load()
	out := make([]string, len(m)+1)
	out[0] = t.other.name
	for name, r := range m {
		out[r.index] = name
	}
	return out
}
