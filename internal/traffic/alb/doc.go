// Package alb is a traffic.Router over the AWS Load Balancer Controller's weighted
// forward action: an Ingress annotation that splits a rule between the legacy target
// group (by ARN) and the Kubernetes Service. It must not import internal/migrate.
package alb
