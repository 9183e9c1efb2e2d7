package kube

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
)

// Defaults for client rate limits: client-go's 5 QPS / burst 10 makes watching a
// rollout of hundreds of pods crawl.
const (
	DefaultQPS   = 100
	DefaultBurst = 200
)

// Options are the kubectl-style connection options.
type Options struct {
	// Kubeconfig is an explicit kubeconfig path; empty means $KUBECONFIG or ~/.kube/config.
	Kubeconfig string
	// Context overrides the kubeconfig's current context.
	Context string
	// Namespace overrides the context's namespace.
	Namespace string
}

// Client is a connection to one cluster.
type Client struct {
	Config    *rest.Config
	Clientset kubernetes.Interface
	Dynamic   dynamic.Interface
	// Mapper maps kinds to resources, discovering the API lazily and once.
	Mapper meta.RESTMapper
	// Namespace is the namespace to work in: the flag, else the context's, else "default".
	Namespace string
}

// New loads the kubeconfig and returns a client. It does not contact the cluster.
func New(opts Options) (*Client, error) {
	if opts.Kubeconfig != "" {
		if _, err := os.Stat(opts.Kubeconfig); err != nil {
			return nil, fmt.Errorf("kubeconfig %s: %w", opts.Kubeconfig, errors.Unwrap(err))
		}
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = opts.Kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: opts.Context}
	overrides.Context.Namespace = opts.Namespace
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	cfg, err := loader.ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, errors.New("no kubeconfig found: pass --kubeconfig, set KUBECONFIG, or start a local cluster with `ferry dev cluster up`")
		}
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	ns, _, err := loader.Namespace()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	c, err := NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	c.Namespace = ns
	return c, nil
}

// NewForConfig returns a client for cfg with ferry's rate limits, working in the
// "default" namespace.
func NewForConfig(cfg *rest.Config) (*Client, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = DefaultQPS, DefaultBurst
	// Typed clients speak protobuf: listing hundreds of pods costs the API server a
	// fraction of what JSON does. The dynamic client needs JSON.
	typed := rest.CopyConfig(cfg)
	typed.ContentType = "application/vnd.kubernetes.protobuf"
	typed.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cs, err := kubernetes.NewForConfig(typed)
	if err != nil {
		return nil, fmt.Errorf("build client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("build client: %w", err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(cs.Discovery()))
	return &Client{Config: cfg, Clientset: cs, Dynamic: dyn, Mapper: mapper, Namespace: "default"}, nil
}

// Explain turns an error from talking to the cluster into one line that says what
// went wrong: unreachable, refused, unauthorized or the API's own message.
func Explain(server string, err error) error {
	if err == nil {
		return nil
	}
	var urlErr *url.Error
	var netErr *net.OpError
	switch {
	case errors.As(err, &netErr) && netErr.Op == "dial":
		return fmt.Errorf("cannot reach the cluster at %s: %w", server, APIError{netErr.Err})
	case errors.As(err, &urlErr):
		return fmt.Errorf("cannot talk to the cluster at %s: %w", server, APIError{urlErr.Err})
	}
	return APIError{err}
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
