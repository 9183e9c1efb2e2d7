package fleet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"ferry.dev/ferry/internal/traffic"
	"ferry.dev/ferry/internal/traffic/proxy"
)

// DefaultAdminPort is the name of the Service port of the proxies' admin API when
// Config names none.
const DefaultAdminPort = "admin"

// ErrNoReplica means the Service has no ready replica to set weights on: a split
// applied by nobody is not applied.
var ErrNoReplica = errors.New("no ready replica")

// Config names the Service in front of the proxy replicas.
type Config struct {
	Kube kubernetes.Interface
	// Namespace and Service name the Service; its EndpointSlices (label
	// kubernetes.io/service-name) list the replicas.
	Namespace, Service string
	// AdminPort is the name of the EndpointSlice port of the admin API (default
	// DefaultAdminPort).
	AdminPort string
	// Token is the admin API's bearer token, the same on every replica.
	Token string
	// HTTP is the client for the admin APIs; nil means one with a 10 s timeout.
	HTTP *http.Client
}

// Router sets the same weights on every ready proxy replica behind a Service. It
// looks the replicas up at each call, so one that appears gets the weights at the
// next call (see traffic.Fleet).
type Router struct {
	cfg Config
}

var (
	_ traffic.Fleet            = (*Router)(nil)
	_ traffic.CapacityReporter = (*Router)(nil)
)

// New checks the configuration; it does not call the API server.
func New(cfg Config) (*Router, error) {
	switch {
	case cfg.Kube == nil:
		return nil, errors.New("proxy fleet: no cluster client")
	case cfg.Namespace == "" || cfg.Service == "":
		return nil, errors.New("proxy fleet: the Service's namespace and name are required")
	}
	if cfg.AdminPort == "" {
		cfg.AdminPort = DefaultAdminPort
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	return &Router{cfg: cfg}, nil
}

// String names the fleet by its Service.
func (r *Router) String() string { return "proxy fleet " + r.cfg.Namespace + "/" + r.cfg.Service }

// Replica is one ready proxy behind the Service.
type Replica struct {
	// Name is the replica's Pod (the endpoint's targetRef), else its hostname, else
	// its address.
	Name string
	// Admin is the base URL of its admin API.
	Admin string
}

// String names the replica with its admin address, e.g. "proxy-7d9f (10.0.0.7:9901)".
func (r Replica) String() string {
	addr := strings.TrimPrefix(r.Admin, "http://")
	if r.Name == addr {
		return r.Name
	}
	return r.Name + " (" + addr + ")"
}

// Replicas returns the ready replicas, ordered by name; ErrNoReplica when there is
// none.
func (r *Router) Replicas(ctx context.Context) ([]Replica, error) {
	list, err := r.cfg.Kube.DiscoveryV1().EndpointSlices(r.cfg.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: discoveryv1.LabelServiceName + "=" + r.cfg.Service,
	})
	if err != nil {
		return nil, fmt.Errorf("%s: list its EndpointSlices: %w", r, err)
	}
	replicas := readyReplicas(list.Items, r.cfg.AdminPort)
	if len(replicas) == 0 {
		return nil, r.noReplica(ctx)
	}
	return replicas, nil
}

// noReplica explains an empty fleet: a Service that does not exist is said so.
func (r *Router) noReplica(ctx context.Context) error {
	_, err := r.cfg.Kube.CoreV1().Services(r.cfg.Namespace).Get(ctx, r.cfg.Service, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%s: %w: the Service does not exist", r, ErrNoReplica)
	}
	return fmt.Errorf("%s: %w: its EndpointSlices list no ready endpoint with a port named %s", r, ErrNoReplica, r.cfg.AdminPort)
}

// readyReplicas returns the ready endpoints of slices that have port, each address
// once, ordered by name. An endpoint whose readiness is unknown counts as ready, as
// the EndpointSlice API says.
func readyReplicas(slices_ []discoveryv1.EndpointSlice, port string) []Replica {
	seen := map[string]bool{}
	var out []Replica
	for _, s := range slices_ {
		number := int32(0)
		for _, p := range s.Ports {
			if p.Name != nil && *p.Name == port && p.Port != nil {
				number = *p.Port
			}
		}
		if number == 0 {
			continue
		}
		for _, ep := range s.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			for _, addr := range ep.Addresses {
				hostPort := net.JoinHostPort(addr, strconv.Itoa(int(number)))
				admin := "http://" + hostPort
				if seen[admin] {
					continue
				}
				seen[admin] = true
				name := hostPort
				switch {
				case ep.TargetRef != nil && ep.TargetRef.Name != "":
					name = ep.TargetRef.Name
				case ep.Hostname != nil && *ep.Hostname != "":
					name = *ep.Hostname
				}
				out = append(out, Replica{Name: name, Admin: admin})
			}
		}
	}
	slices.SortFunc(out, func(a, b Replica) int {
		return strings.Compare(a.Name+" "+a.Admin, b.Name+" "+b.Admin)
	})
	return out
}

func (r *Router) client(rep Replica) *proxy.AdminClient {
	return &proxy.AdminClient{BaseURL: rep.Admin, Token: r.cfg.Token, HTTP: r.cfg.HTTP}
}

// SetWeights sets w on every ready replica at once. It returns nil only when every
// one confirmed w; otherwise its error names each replica that did not, and the
// others apply w all the same (a migration records no step as applied until all do).
func (r *Router) SetWeights(ctx context.Context, w traffic.Weights) error {
	if err := w.Validate(); err != nil {
		return err
	}
	return r.each(ctx, "set "+w.String(), func(ctx context.Context, c *proxy.AdminClient) error {
		return c.SetWeights(ctx, w)
	})
}

// EnsureWeights implements traffic.Fleet: it reads each ready replica's weights and
// sets w on those that apply another split.
func (r *Router) EnsureWeights(ctx context.Context, w traffic.Weights) error {
	if err := w.Validate(); err != nil {
		return err
	}
	return r.each(ctx, "set "+w.String(), func(ctx context.Context, c *proxy.AdminClient) error {
		got, err := c.Weights(ctx)
		if err != nil || got == w {
			return err
		}
		return c.SetWeights(ctx, w)
	})
}

// Weights returns the split every ready replica applies; an error when one cannot
// be reached or the replicas disagree (a step not yet applied everywhere).
func (r *Router) Weights(ctx context.Context) (traffic.Weights, error) {
	reps, err := r.Replicas(ctx)
	if err != nil {
		return traffic.Weights{}, err
	}
	weights := make([]traffic.Weights, len(reps))
	err = r.run(ctx, reps, "read the weights", func(ctx context.Context, i int, c *proxy.AdminClient) error {
		var err error
		weights[i], err = c.Weights(ctx)
		return err
	})
	if err != nil {
		return traffic.Weights{}, err
	}
	for i := range weights {
		if weights[i] != weights[0] {
			var each []string
			for j, rep := range reps {
				each = append(each, rep.Name+" "+traffic.FormatPercent(weights[j].Kubernetes))
			}
			return traffic.Weights{}, fmt.Errorf("%s: the replicas apply different weights (kubernetes share: %s)", r, strings.Join(each, ", "))
		}
	}
	return weights[0], nil
}

// Stats returns each ready replica's statistics over the last window; an error
// naming the replicas that could not be read, since gates must judge the whole
// fleet or nothing.
func (r *Router) Stats(ctx context.Context, window time.Duration) ([]proxy.Snapshot, error) {
	return r.stats(ctx, window, (*proxy.AdminClient).Stats)
}

// StatsByRoute is Stats with each side's statistics by route, for the per-endpoint
// gates.
func (r *Router) StatsByRoute(ctx context.Context, window time.Duration) ([]proxy.Snapshot, error) {
	return r.stats(ctx, window, (*proxy.AdminClient).StatsByRoute)
}

func (r *Router) stats(ctx context.Context, window time.Duration, read func(*proxy.AdminClient, context.Context, time.Duration) (proxy.Snapshot, error)) ([]proxy.Snapshot, error) {
	reps, err := r.Replicas(ctx)
	if err != nil {
		return nil, err
	}
	snaps := make([]proxy.Snapshot, len(reps))
	err = r.run(ctx, reps, "read the statistics", func(ctx context.Context, i int, c *proxy.AdminClient) error {
		var err error
		snaps[i], err = read(c, ctx, window)
		return err
	})
	if err != nil {
		return nil, err
	}
	return snaps, nil
}

// LegacyCapacity implements traffic.CapacityReporter: every ready replica's report
// merged (proxy.MergeCapacity: the replicas' loads add up, a server is healthy when
// at least half the replicas see it so). An error when one cannot be read: the guard
// judges the whole fleet or nothing.
func (r *Router) LegacyCapacity(ctx context.Context) (traffic.Capacity, error) {
	reps, err := r.Replicas(ctx)
	if err != nil {
		return traffic.Capacity{}, err
	}
	reports := make([]proxy.CapacityReport, len(reps))
	err = r.run(ctx, reps, "report the legacy side's capacity", func(ctx context.Context, i int, c *proxy.AdminClient) error {
		var err error
		reports[i], err = c.CapacityReport(ctx)
		return err
	})
	if err != nil {
		return traffic.Capacity{}, err
	}
	return proxy.MergeCapacity(reports).Capacity(), nil
}

// each runs call on every ready replica.
func (r *Router) each(ctx context.Context, what string, call func(context.Context, *proxy.AdminClient) error) error {
	reps, err := r.Replicas(ctx)
	if err != nil {
		return err
	}
	return r.run(ctx, reps, what, func(ctx context.Context, _ int, c *proxy.AdminClient) error { return call(ctx, c) })
}

// run calls call on every replica at once and returns one error naming each
// replica that failed, in order.
func (r *Router) run(ctx context.Context, reps []Replica, what string, call func(context.Context, int, *proxy.AdminClient) error) error {
	errs := make([]error, len(reps))
	var wg sync.WaitGroup
	for i, rep := range reps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = call(ctx, i, r.client(rep))
		}()
	}
	wg.Wait()
	var failed []string
	var first error
	for i, err := range errs {
		if err != nil {
			failed = append(failed, fmt.Sprintf("replica %s: %v", reps[i], err))
			if first == nil {
				first = err
			}
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return &replicaError{msg: fmt.Sprintf("%s: %d of %d replicas could not %s: %s", r, len(failed), len(reps), what, strings.Join(failed, "; ")), err: first}
}

// replicaError is the error of a call that some replicas failed; it names each of
// them and unwraps to the first replica's error.
type replicaError struct {
	msg string
	err error
}

func (e *replicaError) Error() string { return e.msg }
func (e *replicaError) Unwrap() error { return e.err }
