package fleettest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"ferry.dev/ferry/internal/traffic"
	"ferry.dev/ferry/internal/traffic/proxy"
)

// Token is the admin bearer token of every test replica.
const Token = "fleet-test-token"

// AdminPort is the name of the admin port in the test EndpointSlices.
const AdminPort = "admin"

// Address returns this machine's first non-loopback IPv4 address. The API server
// refuses loopback addresses in EndpointSlices, so the replicas' admin APIs listen
// here.
func Address(tb testing.TB) string {
	tb.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		tb.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	tb.Fatal("this machine has no non-loopback IPv4 address for the replicas' admin APIs")
	return ""
}

// Replica is one proxy of a test fleet.
type Replica struct {
	Name  string
	Proxy *proxy.Proxy
	// Admin is the address (host:port) of the front of its admin API, on Address.
	Admin string

	mu   sync.Mutex
	sets []traffic.Weights
}

// StartReplica opens a proxy named name in front of the legacy and kubernetes
// servers, with one-second statistics buckets and all traffic on legacy, and a
// recording front of its admin API on Address.
func StartReplica(tb testing.TB, name, legacy, kubernetes string) *Replica {
	tb.Helper()
	cfg := proxy.Config{
		Listen: "127.0.0.1:0",
		Admin:  proxy.AdminConfig{Listen: "127.0.0.1:0", Token: Token},
		Sticky: proxy.StickyConfig{Disabled: true},
		Backends: proxy.BackendsConfig{
			Legacy:     proxy.PoolConfig{Servers: []string{legacy}},
			Kubernetes: proxy.PoolConfig{Servers: []string{kubernetes}},
		},
		Stats: proxy.StatsConfig{Bucket: time.Second},
	}
	cfg.Weights.Kubernetes = proxy.PercentOf(0)
	p, err := proxy.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if err := p.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Close(context.Background()) })
	r := &Replica{Name: name, Proxy: p}
	ln, err := net.Listen("tcp", net.JoinHostPort(Address(tb), "0"))
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: r.front("http://" + p.AdminAddr()), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { _ = srv.Close() })
	r.Admin = ln.Addr().String()
	return r
}

// front forwards every request to the admin API at base and records the weights of
// each PUT /v1/weights the proxy confirmed.
func (r *Replica) front(base string) http.Handler {
	client := &http.Client{Timeout: 10 * time.Second}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		out, err := http.NewRequestWithContext(req.Context(), req.Method, base+req.URL.RequestURI(), req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		out.Header = req.Header.Clone()
		resp, err := client.Do(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if req.Method == http.MethodPut && req.URL.Path == proxy.PathWeights && resp.StatusCode == http.StatusOK {
			var set traffic.Weights
			if json.Unmarshal(body, &set) == nil {
				r.mu.Lock()
				r.sets = append(r.sets, set)
				r.mu.Unlock()
			}
		}
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, bytes.NewReader(body))
	})
}

// Sets returns every split set through the admin API and confirmed, in order.
func (r *Replica) Sets() []traffic.Weights {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]traffic.Weights(nil), r.sets...)
}

// Client is an admin API client of the replica, through its front.
func (r *Replica) Client() *proxy.AdminClient {
	return &proxy.AdminClient{BaseURL: "http://" + r.Admin, Token: Token}
}

// URL is the replica's user-facing URL, for load.
func (r *Replica) URL() string { return "http://" + r.Proxy.Addr() + "/" }

// Unreachable returns an address on Address where nothing listens.
func Unreachable(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(Address(tb), "0"))
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Service creates a Service without a selector named name, with the admin port: the
// test publishes its EndpointSlices itself.
func Service(tb testing.TB, kube kubernetes.Interface, ns, name string) {
	tb.Helper()
	_, err := kube.CoreV1().Services(ns).Create(context.Background(), &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: AdminPort, Port: 9901}}},
	}, metav1.CreateOptions{})
	if err != nil {
		tb.Fatal(err)
	}
}

// Publish creates or replaces the EndpointSlice named after the replica that lists
// it as a ready endpoint of service at admin (host:port), its Pod named replica.
func Publish(tb testing.TB, kube kubernetes.Interface, ns, service, replica, admin string) {
	tb.Helper()
	host, portText, err := net.SplitHostPort(admin)
	if err != nil {
		tb.Fatal(err)
	}
	port, err := net.LookupPort("tcp", portText)
	if err != nil {
		tb.Fatal(err)
	}
	name, number, ready := AdminPort, int32(port), true
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: service + "-" + replica, Labels: map[string]string{
			discoveryv1.LabelServiceName: service, discoveryv1.LabelManagedBy: "fleettest.ferry.dev",
		}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &name, Port: &number}},
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  []string{host},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready},
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: replica},
		}},
	}
	ctx := context.Background()
	slices := kube.DiscoveryV1().EndpointSlices(ns)
	if _, err := slices.Create(ctx, slice, metav1.CreateOptions{}); apierrors.IsAlreadyExists(err) {
		old, err := slices.Get(ctx, slice.Name, metav1.GetOptions{})
		if err != nil {
			tb.Fatal(err)
		}
		slice.ResourceVersion = old.ResourceVersion
		if _, err := slices.Update(ctx, slice, metav1.UpdateOptions{}); err != nil {
			tb.Fatal(err)
		}
	} else if err != nil {
		tb.Fatal(err)
	}
}

// Withdraw deletes the EndpointSlice of replica.
func Withdraw(tb testing.TB, kube kubernetes.Interface, ns, service, replica string) {
	tb.Helper()
	err := kube.DiscoveryV1().EndpointSlices(ns).Delete(context.Background(), service+"-"+replica, metav1.DeleteOptions{})
	if err != nil {
		tb.Fatal(err)
	}
}

// SetReady marks the endpoint of replica ready or not.
func SetReady(tb testing.TB, kube kubernetes.Interface, ns, service, replica string, ready bool) {
	tb.Helper()
	ctx := context.Background()
	slices := kube.DiscoveryV1().EndpointSlices(ns)
	s, err := slices.Get(ctx, service+"-"+replica, metav1.GetOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	for i := range s.Endpoints {
		s.Endpoints[i].Conditions.Ready = &ready
	}
	if _, err := slices.Update(ctx, s, metav1.UpdateOptions{}); err != nil {
		tb.Fatal(err)
	}
}
