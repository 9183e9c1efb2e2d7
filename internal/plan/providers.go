package plan

import (
	"slices"
	"strings"
	"time"
)

// Route53Config names two weighted Route 53 records of one name, one per side.
type Route53Config struct {
	HostedZoneID string `json:"hostedZoneID" yaml:"hostedZoneID"`
	// Name is the records' DNS name; Type narrows them to one record type (default:
	// every type of the name that has both, e.g. A and AAAA).
	Name string `json:"name" yaml:"name"`
	Type string `json:"type,omitempty" yaml:"type,omitempty"`
	// LegacySetIdentifier and KubernetesSetIdentifier pick the two records.
	LegacySetIdentifier     string `json:"legacySetIdentifier" yaml:"legacySetIdentifier"`
	KubernetesSetIdentifier string `json:"kubernetesSetIdentifier" yaml:"kubernetesSetIdentifier"`
	// Region signs the requests (default us-east-1); Endpoint replaces Route 53's.
	Region   string `json:"region,omitempty" yaml:"region,omitempty"`
	Endpoint string `json:"endpoint,omitempty" yaml:"endpoint,omitempty"`
	// Settle is held on top of the records' TTL before a step is judged.
	Settle time.Duration `json:"settle,omitempty" yaml:"settle,omitempty"`
	// SyncTimeout bounds the wait for a change to be INSYNC (default 5m).
	SyncTimeout time.Duration `json:"syncTimeout,omitempty" yaml:"syncTimeout,omitempty"`
}

// GatewayConfig names a Gateway API HTTPRoute and the two Services it splits between.
type GatewayConfig struct {
	// Namespace holds the route and both Services (default: the kubeconfig's).
	Namespace string `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	HTTPRoute string `json:"httpRoute" yaml:"httpRoute"`
	// LegacyService is usually an ExternalName Service for the legacy host.
	LegacyService     string `json:"legacyService" yaml:"legacyService"`
	KubernetesService string `json:"kubernetesService" yaml:"kubernetesService"`
}

// ALBConfig names an Ingress's weighted forward action (AWS Load Balancer Controller).
type ALBConfig struct {
	Namespace string `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	Ingress   string `json:"ingress" yaml:"ingress"`
	// Action is the name in the alb.ingress.kubernetes.io/actions.<name> annotation.
	Action               string `json:"action" yaml:"action"`
	LegacyTargetGroupARN string `json:"legacyTargetGroupARN" yaml:"legacyTargetGroupARN"`
	KubernetesService    string `json:"kubernetesService" yaml:"kubernetesService"`
	// Endpoint replaces Elastic Load Balancing's, which the legacy-capacity guard asks
	// for the legacy target group's health (in the ARN's region).
	Endpoint string `json:"endpoint,omitempty" yaml:"endpoint,omitempty"`
}

// PrometheusConfig points at Prometheus; queries default to the proxy's metrics.
type PrometheusConfig struct {
	Address         string `json:"address" yaml:"address"`
	BearerTokenFile string `json:"bearerTokenFile,omitempty" yaml:"bearerTokenFile,omitempty"`
	// Legacy and Kubernetes are the values of {{.Side}} in the queries.
	Legacy     string            `json:"legacy,omitempty" yaml:"legacy,omitempty"`
	Kubernetes string            `json:"kubernetes,omitempty" yaml:"kubernetes,omitempty"`
	Queries    PrometheusQueries `json:"queries,omitempty" yaml:"queries,omitempty"`
}

// PrometheusQueries are PromQL templates with {{.Side}} and {{.Window}}.
type PrometheusQueries struct {
	Requests string `json:"requests,omitempty" yaml:"requests,omitempty"`
	Errors   string `json:"errors,omitempty" yaml:"errors,omitempty"`
	Latency  string `json:"latency,omitempty" yaml:"latency,omitempty"`
}

// DatadogConfig points at Datadog's metrics query API.
type DatadogConfig struct {
	// Site is the API's base URL (default https://api.datadoghq.com).
	Site string `json:"site,omitempty" yaml:"site,omitempty"`
	// APIKeyEnv and AppKeyEnv name the environment variables holding the keys
	// (default DD_API_KEY and DD_APP_KEY).
	APIKeyEnv  string         `json:"apiKeyEnv,omitempty" yaml:"apiKeyEnv,omitempty"`
	AppKeyEnv  string         `json:"appKeyEnv,omitempty" yaml:"appKeyEnv,omitempty"`
	Legacy     string         `json:"legacy,omitempty" yaml:"legacy,omitempty"`
	Kubernetes string         `json:"kubernetes,omitempty" yaml:"kubernetes,omitempty"`
	Queries    DatadogQueries `json:"queries" yaml:"queries"`
	// LatencyUnit is the latency queries' unit: s (default), ms or us.
	LatencyUnit string `json:"latencyUnit,omitempty" yaml:"latencyUnit,omitempty"`
	// MinInterval spaces the queries of a step (default 1m): the query endpoint is
	// rate-limited per organisation.
	MinInterval time.Duration `json:"minInterval,omitempty" yaml:"minInterval,omitempty"`
}

// DatadogQueries are metric queries with {{.Side}}; Latency maps p50, p99, max … to
// percentile queries.
type DatadogQueries struct {
	Requests string            `json:"requests" yaml:"requests"`
	Errors   string            `json:"errors" yaml:"errors"`
	Latency  map[string]string `json:"latency,omitempty" yaml:"latency,omitempty"`
}

// CronJobsConfig keeps the app's CronJobs suspended during the migration and resumes
// them, with a starting deadline, when it completes.
type CronJobsConfig struct {
	// Namespace holds the CronJobs (default: the kubeconfig's); Selector picks them.
	Namespace               string `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	Selector                string `json:"selector" yaml:"selector"`
	StartingDeadlineSeconds int64  `json:"startingDeadlineSeconds,omitempty" yaml:"startingDeadlineSeconds,omitempty"`
	// LegacyCrontab is the legacy crontab whose entries must stop at that moment.
	LegacyCrontab string `json:"legacyCrontab,omitempty" yaml:"legacyCrontab,omitempty"`
}

// named lists the providers set in a section, by their YAML names.
func named(set map[string]bool) []string {
	var out []string
	for name, ok := range set {
		if ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// required adds a problem for each empty field of section.
func required(ps problems, section string, fields ...[2]string) {
	for _, f := range fields {
		if strings.TrimSpace(f[1]) == "" {
			ps.add(section+"."+f[0], "required")
		}
	}
}

// validateProviders checks the plan names exactly one router and one metric source,
// with the settings each needs.
func (p *Plan) validateProviders(ps problems) {
	r := p.Router
	routers := named(map[string]bool{"proxy": r.Proxy != nil, "proxyFleet": r.ProxyFleet != nil, "route53": r.Route53 != nil, "gateway": r.Gateway != nil, "alb": r.ALB != nil})
	switch len(routers) {
	case 0:
		ps.add("router", "name a router (proxy, proxyFleet, route53, gateway or alb)")
	case 1:
	default:
		ps.add("router", "name exactly one router, not %s", strings.Join(routers, " and "))
	}
	if c := r.Proxy; c != nil {
		if c.Admin == "" {
			ps.add("router.proxy.admin", "required: the proxy's admin URL, e.g. http://127.0.0.1:9901")
		} else {
			ps.httpURL("router.proxy.admin", c.Admin)
		}
	}
	if c := r.ProxyFleet; c != nil {
		c.validate(ps)
	}
	if c := r.Route53; c != nil {
		required(ps, "router.route53", [2]string{"hostedZoneID", c.HostedZoneID}, [2]string{"name", c.Name},
			[2]string{"legacySetIdentifier", c.LegacySetIdentifier}, [2]string{"kubernetesSetIdentifier", c.KubernetesSetIdentifier})
		if c.LegacySetIdentifier != "" && c.LegacySetIdentifier == c.KubernetesSetIdentifier {
			ps.add("router.route53.kubernetesSetIdentifier", "the two set identifiers must differ")
		}
		ps.duration("router.route53.settle", c.Settle)
		ps.duration("router.route53.syncTimeout", c.SyncTimeout)
	}
	if c := r.Gateway; c != nil {
		required(ps, "router.gateway", [2]string{"httpRoute", c.HTTPRoute}, [2]string{"legacyService", c.LegacyService}, [2]string{"kubernetesService", c.KubernetesService})
	}
	if c := r.ALB; c != nil {
		required(ps, "router.alb", [2]string{"ingress", c.Ingress}, [2]string{"action", c.Action},
			[2]string{"legacyTargetGroupARN", c.LegacyTargetGroupARN}, [2]string{"kubernetesService", c.KubernetesService})
	}
	p.validateMetrics(ps)
	if c := p.CronJobs; c != nil {
		required(ps, "cronJobs", [2]string{"selector", c.Selector})
		ps.count("cronJobs.startingDeadlineSeconds", c.StartingDeadlineSeconds)
	}
}

func (p *Plan) validateMetrics(ps problems) {
	m := p.Metrics
	sources := named(map[string]bool{"proxy": m.Proxy != nil, "prometheus": m.Prometheus != nil, "datadog": m.Datadog != nil})
	switch len(sources) {
	case 0:
		ps.add("metrics", "name a metric source (proxy, prometheus or datadog): the gates need one")
	case 1:
	default:
		ps.add("metrics", "name exactly one metric source, not %s", strings.Join(sources, " and "))
	}
	if m.Prometheus != nil {
		required(ps, "metrics.prometheus", [2]string{"address", m.Prometheus.Address})
	}
	if d := m.Datadog; d != nil {
		required(ps, "metrics.datadog.queries", [2]string{"requests", d.Queries.Requests}, [2]string{"errors", d.Queries.Errors})
		if len(d.Queries.Latency) == 0 && !slices.Contains(p.Gates.Disable, "latency") {
			ps.add("metrics.datadog.queries.latency", "name percentile queries (p50, p99, max) or disable the latency gate (gates.disable: [latency])")
		}
		switch d.LatencyUnit {
		case "", "s", "ms", "us":
		default:
			ps.add("metrics.datadog.latencyUnit", "%q: use s, ms or us", d.LatencyUnit)
		}
		ps.duration("metrics.datadog.minInterval", d.MinInterval)
	}
}

// absProviderPaths makes the providers' file paths relative to the plan's directory.
func (p *Plan) absProviderPaths(abs func(string) string) {
	if p.Router.Proxy != nil {
		p.Router.Proxy.TokenFile = abs(p.Router.Proxy.TokenFile)
	}
	if p.Metrics.Prometheus != nil {
		p.Metrics.Prometheus.BearerTokenFile = abs(p.Metrics.Prometheus.BearerTokenFile)
	}
	if p.CronJobs != nil {
		p.CronJobs.LegacyCrontab = abs(p.CronJobs.LegacyCrontab)
	}
}
