// Package alb is a traffic.Router over the AWS Load Balancer Controller's weighted
// forward action: an Ingress annotation that splits a rule between the legacy target
// group (by ARN) and the Kubernetes Service. It reports the legacy side's capacity from
// the target group's health in Elastic Load Balancing. It must not import
// internal/migrate or other routers.
package alb
