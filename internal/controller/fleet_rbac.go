package controller

// The fleet router (router.proxyFleet) lists the proxy replicas from their Service's
// EndpointSlices at each evaluation, and reads the Service to say when it is missing.
//
// +kubebuilder:rbac:groups=discovery.k8s.io,resources=endpointslices,verbs=list
// +kubebuilder:rbac:groups="",resources=services,verbs=get
