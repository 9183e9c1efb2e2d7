// Package gateway is a traffic.Router over a Gateway API HTTPRoute: the weights of the
// backendRefs to the legacy Service (an ExternalName Service for the legacy host) and
// the Kubernetes Service. It must not import internal/migrate or other routers.
package gateway
