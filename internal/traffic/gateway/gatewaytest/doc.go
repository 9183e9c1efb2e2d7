// Package gatewaytest installs the Gateway API's standard CRDs, from the pinned
// sigs.k8s.io/gateway-api module, into a test cluster, and helps tests build HTTPRoutes
// and the Services they name. For tests only; it must not import internal/migrate.
package gatewaytest
