package providers

import (
	"context"
	"fmt"

	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"ferry.dev/ferry/internal/plan"
	"ferry.dev/ferry/internal/traffic"
	"ferry.dev/ferry/internal/traffic/alb"
	"ferry.dev/ferry/internal/traffic/gateway"
	"ferry.dev/ferry/internal/traffic/route53"
)

func (b *builder) route53(ctx context.Context, c *plan.Route53Config) (traffic.Router, error) {
	client, err := route53.NewClient(ctx, route53.ClientConfig{Region: c.Region, Endpoint: c.Endpoint})
	if err != nil {
		return nil, fmt.Errorf("router.route53: %w", err)
	}
	return route53.New(route53.Config{
		Client: client, HostedZoneID: c.HostedZoneID, Name: c.Name, Type: c.Type,
		Legacy: c.LegacySetIdentifier, Kubernetes: c.KubernetesSetIdentifier,
		Settle: c.Settle, SyncTimeout: c.SyncTimeout,
	})
}

func (b *builder) gateway(c *plan.GatewayConfig) (traffic.Router, error) {
	kc, ns, err := b.namespace(c.Namespace)
	if err != nil {
		return nil, fmt.Errorf("router.gateway: %w", err)
	}
	gw, err := gatewayclient.NewForConfig(kc.Config)
	if err != nil {
		return nil, fmt.Errorf("router.gateway: %w", err)
	}
	return gateway.New(gateway.Config{Gateway: gw, Kube: kc.Clientset, Namespace: ns, Route: c.HTTPRoute, Legacy: c.LegacyService, Kubernetes: c.KubernetesService})
}

// alb builds the ALB router with an Elastic Load Balancing client for the guard's
// questions about the legacy target group's health; credentials come from the AWS
// chain, the region from the target group's ARN.
func (b *builder) alb(ctx context.Context, c *plan.ALBConfig) (traffic.Router, error) {
	kc, ns, err := b.namespace(c.Namespace)
	if err != nil {
		return nil, fmt.Errorf("router.alb: %w", err)
	}
	elb, err := alb.NewClient(ctx, alb.ClientConfig{TargetGroupARN: c.LegacyTargetGroupARN, Endpoint: c.Endpoint})
	if err != nil {
		return nil, fmt.Errorf("router.alb: %w", err)
	}
	return alb.New(alb.Config{Kube: kc.Clientset, Namespace: ns, Ingress: c.Ingress, Action: c.Action,
		LegacyTargetGroupARN: c.LegacyTargetGroupARN, Service: c.KubernetesService, ELB: elb})
}
