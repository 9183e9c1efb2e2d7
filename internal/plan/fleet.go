package plan

import "regexp"

// ProxyFleetConfig names the Service in front of a fleet of ferry proxy replicas
// (a Deployment of several): every ready replica behind it, found through the
// Service's EndpointSlices, gets the same weights through its admin API, and the
// proxy metric source merges their statistics.
type ProxyFleetConfig struct {
	// Namespace holds the Service (default: the kubeconfig's; for a Migration, its
	// own).
	Namespace string `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	// Service is the Service's name.
	Service string `json:"service" yaml:"service"`
	// AdminPort is the name of the Service's port of the admin API (default admin).
	AdminPort string `json:"adminPort,omitempty" yaml:"adminPort,omitempty"`
	// TokenSecretRef names the Secret key holding the admin bearer token, which every
	// replica shares: a Secret in the Service's namespace (for a Migration, in the
	// Migration's).
	TokenSecretRef *SecretKeyRef `json:"tokenSecretRef,omitempty" yaml:"tokenSecretRef,omitempty"`
}

// SecretKeyRef names one key of a Secret.
type SecretKeyRef struct {
	Name string `json:"name" yaml:"name"`
	Key  string `json:"key" yaml:"key"`
}

// portName is a Service port name (an IANA service name): up to 15 lower-case
// letters, digits and inner dashes, with a letter.
var portName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$`)

var hasLetter = regexp.MustCompile(`[a-z]`)

// dnsLabel is a Kubernetes object name of the DNS-1123 label kind (Service names).
var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// validate checks router.proxyFleet's settings.
func (c *ProxyFleetConfig) validate(ps problems) {
	const at = "router.proxyFleet."
	switch {
	case c.Service == "":
		ps.add(at+"service", "required: the name of the Service in front of the proxy replicas")
	case !dnsLabel.MatchString(c.Service):
		ps.add(at+"service", "%q is not a Service name: lower-case letters, digits and dashes", c.Service)
	}
	if c.Namespace != "" && !dnsLabel.MatchString(c.Namespace) {
		ps.add(at+"namespace", "%q is not a namespace name: lower-case letters, digits and dashes", c.Namespace)
	}
	if c.AdminPort != "" && (!portName.MatchString(c.AdminPort) || !hasLetter.MatchString(c.AdminPort)) {
		ps.add(at+"adminPort", "%q is not a port name: up to 15 lower-case letters, digits and dashes, with a letter", c.AdminPort)
	}
	if r := c.TokenSecretRef; r != nil {
		required(ps, at+"tokenSecretRef", [2]string{"name", r.Name}, [2]string{"key", r.Key})
	}
}
