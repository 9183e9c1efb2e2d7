package alb

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"ferry.dev/ferry/internal/awserr"
	"ferry.dev/ferry/internal/redact"
	"ferry.dev/ferry/internal/traffic"
)

// TargetHealthAPI is the part of the Elastic Load Balancing v2 client the router
// calls.
type TargetHealthAPI interface {
	// DescribeTargetHealth returns the health of every target registered with a
	// target group.
	DescribeTargetHealth(ctx context.Context, in *elb.DescribeTargetHealthInput, opts ...func(*elb.Options)) (*elb.DescribeTargetHealthOutput, error)
}

// ErrNoSuchTargetGroup means Elastic Load Balancing has no target group with the
// legacy target group's ARN (in the ARN's region, or at the configured endpoint).
var ErrNoSuchTargetGroup = errors.New("no such target group")

var _ traffic.CapacityReporter = (*Router)(nil)

// LegacyCapacity implements traffic.CapacityReporter from the health Elastic Load
// Balancing reports for the targets registered with the legacy target group
// (DescribeTargetHealth): each target is one server, healthy as countsAs decides. A
// target group whose targets all have health checks disabled tells nothing: the error
// wraps traffic.ErrNoCapacity. One without targets can take no traffic, which is an
// error of its own (a guard holds on it), not a capacity of nothing known.
func (r *Router) LegacyCapacity(ctx context.Context) (traffic.Capacity, error) {
	if r.cfg.ELB == nil {
		return traffic.Capacity{}, fmt.Errorf("%w: alb: no Elastic Load Balancing client to ask for the legacy target group's health", traffic.ErrNoCapacity)
	}
	arn := r.cfg.LegacyTargetGroupARN
	out, err := r.cfg.ELB.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)})
	if err != nil {
		return traffic.Capacity{}, fmt.Errorf("alb: target health of the legacy target group %s: %w", targetGroupName(arn), r.explain(err))
	}
	c, unchecked := capacityOf(out.TargetHealthDescriptions)
	switch {
	case c.Servers == 0 && unchecked > 0:
		return c, fmt.Errorf("%w: alb: the legacy target group %s has health checks disabled", traffic.ErrNoCapacity, targetGroupName(arn))
	case c.Servers == 0:
		return c, fmt.Errorf("alb: the legacy target group %s has no registered targets", targetGroupName(arn))
	}
	return c, nil
}

// capacityOf counts the targets whose health tells something, and those of them that
// can take traffic now; unchecked counts the targets with health checks disabled.
func capacityOf(descs []types.TargetHealthDescription) (c traffic.Capacity, unchecked int) {
	for _, d := range descs {
		switch countsAs(d) {
		case targetHealthy:
			c.Servers++
			c.Healthy++
		case targetUnhealthy:
			c.Servers++
		case targetUnchecked:
			unchecked++
		}
	}
	return c, unchecked
}

// targetVerdict is what a target's reported health says about the legacy side.
type targetVerdict int

const (
	targetUnhealthy targetVerdict = iota
	targetHealthy
	targetUnchecked
)

// countsAs decides what a target's health says. A registered target is a server
// that carried its part of the traffic before the migration; it can take its part of
// an abort only when the load balancer routes to it now:
//
//   - healthy: it passes its health checks, unless a zonal shift keeps the load
//     balancer's traffic out of its Availability Zone;
//   - initial (being registered, or not yet through its first checks): not yet: the
//     load balancer does not route to it until it passes, within a few health-check
//     intervals, so a guard holds a step up that long rather than count a server
//     whose checks may still fail;
//   - unhealthy, unhealthy.draining, draining (being deregistered) and unused (its
//     Availability Zone not enabled, the target group on no load balancer, the
//     instance stopped): no;
//   - unavailable: with Target.HealthCheckDisabled the load balancer routes to the
//     target without checking it, so its health tells nothing and it is left out
//     (the Route 53 router's record without a health check); for any other reason
//     (Elb.InternalError) its health is unknown, and unknown is never healthy;
//   - any state this client does not know: no.
func countsAs(d types.TargetHealthDescription) targetVerdict {
	h := d.TargetHealth
	if h == nil {
		return targetUnhealthy
	}
	switch h.State {
	case types.TargetHealthStateEnumHealthy:
		if o := d.AdministrativeOverride; o != nil && (o.State == types.TargetAdministrativeOverrideStateEnumZonalShiftActive ||
			o.State == types.TargetAdministrativeOverrideStateEnumZonalShiftDelegatedToDns) {
			return targetUnhealthy
		}
		return targetHealthy
	case types.TargetHealthStateEnumUnavailable:
		if h.Reason == types.TargetHealthReasonEnumHealthCheckDisabled {
			return targetUnchecked
		}
	}
	return targetUnhealthy
}

// explain turns an SDK error into a short one: the service's code and message, or
// the transport's error, without the SDK's operation and request ID preamble, and with
// a configured endpoint's credentials redacted from the URL the transport names.
func (r *Router) explain(err error) error {
	err = redact.Error(err)
	var notFound *types.TargetGroupNotFoundException
	switch {
	case errors.As(err, &notFound):
		return fmt.Errorf("%w: %s", ErrNoSuchTargetGroup, r.cfg.LegacyTargetGroupARN)
	}
	return awserr.Short(err)
}
