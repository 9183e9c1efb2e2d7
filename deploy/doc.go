// Package deploy holds how ferry is installed: the Helm chart in charts/ferry (the
// CRDs, the controller, optionally the proxy fleet and a ServiceMonitor). Its Go files
// are the chart's tests; it exports nothing and no ferry package imports it.
package deploy
