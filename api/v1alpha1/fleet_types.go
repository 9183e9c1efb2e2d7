package v1alpha1

// ProxyFleetRouter names the Service in front of a fleet of ferry proxy replicas:
// the controller finds every ready replica through the Service's EndpointSlices and
// sets the same weights on each through its admin API; a step's weight counts as
// applied only when every ready replica confirmed it. The proxy metric source merges
// the replicas' statistics.
type ProxyFleetRouter struct {
	// Namespace holds the Service (default: the Migration's).
	//
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Namespace string `json:"namespace,omitempty"`
	// Service is the Service's name.
	//
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Service string `json:"service"`
	// AdminPort is the name of the Service's port of the proxies' admin API (default
	// admin).
	//
	// +optional
	// +kubebuilder:validation:MaxLength=15
	AdminPort string `json:"adminPort,omitempty"`
	// TokenSecretRef holds the admin bearer token every replica shares, in a Secret
	// of the Migration's namespace.
	//
	// +optional
	TokenSecretRef *SecretKeyRef `json:"tokenSecretRef,omitempty"`
}
