package route53

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"

	"ferry.dev/ferry/internal/traffic"
)

var _ traffic.CapacityReporter = (*Router)(nil)

// HealthyThreshold is the share of Route 53's health checkers that must report a
// check healthy for Route 53 to consider it healthy: more than 18 %.
const HealthyThreshold = 0.18

// LegacyCapacity implements traffic.CapacityReporter from the health checks of the
// legacy records: each distinct health check is one "server", healthy when more than
// HealthyThreshold of Route 53's checkers report success (GetHealthCheckStatus), as
// Route 53 itself decides. Records without a health check tell nothing: when none of
// the legacy records has one, the error wraps traffic.ErrNoCapacity.
func (r *Router) LegacyCapacity(ctx context.Context) (traffic.Capacity, error) {
	g, err := r.read(ctx)
	if err != nil {
		return traffic.Capacity{}, err
	}
	var c traffic.Capacity
	seen := map[string]bool{}
	for _, p := range g {
		id := aws.ToString(p.legacy.HealthCheckId)
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		healthy, err := r.healthy(ctx, id)
		if err != nil {
			return traffic.Capacity{}, err
		}
		c.Servers++
		if healthy {
			c.Healthy++
		}
	}
	if c.Servers == 0 {
		return c, fmt.Errorf("%w: route53: the legacy record %s (%s) has no health check", traffic.ErrNoCapacity, r.target, r.cfg.Legacy)
	}
	return c, nil
}

// healthy asks Route 53's checkers about one health check.
func (r *Router) healthy(ctx context.Context, id string) (bool, error) {
	out, err := r.cfg.Client.GetHealthCheckStatus(ctx, &route53.GetHealthCheckStatusInput{HealthCheckId: aws.String(id)})
	if err != nil {
		return false, fmt.Errorf("route53: health check %s of the legacy record: %w", id, r.explain(err))
	}
	obs := out.HealthCheckObservations
	if len(obs) == 0 {
		return false, nil
	}
	ok := 0
	for _, o := range obs {
		if o.StatusReport != nil && strings.HasPrefix(aws.ToString(o.StatusReport.Status), "Success") {
			ok++
		}
	}
	return float64(ok)/float64(len(obs)) > HealthyThreshold, nil
}
