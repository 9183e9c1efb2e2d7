package alb

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

// ClientConfig says how to reach Elastic Load Balancing.
type ClientConfig struct {
	// Region signs the requests and picks the endpoint; empty means the region of
	// TargetGroupARN, and without one the AWS configuration's (AWS_REGION, …).
	Region string
	// TargetGroupARN is the target group the client will ask about, whose region is
	// the default.
	TargetGroupARN string
	// Endpoint, when set, replaces Elastic Load Balancing's endpoint (an
	// ELBv2-compatible API).
	Endpoint string
	// Credentials, when set, replace the default chain (environment, shared files,
	// instance role).
	Credentials aws.CredentialsProvider
	// MaxAttempts bounds the attempts of a throttled or failed call (default: the
	// SDK's, 3).
	MaxAttempts int
}

// NewClient loads the AWS configuration (credentials are resolved on the first call)
// and returns an Elastic Load Balancing v2 client.
func NewClient(ctx context.Context, cfg ClientConfig) (*elb.Client, error) {
	if cfg.Region == "" {
		cfg.Region = RegionOf(cfg.TargetGroupARN)
	}
	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.MaxAttempts > 0 {
		opts = append(opts, config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = cfg.MaxAttempts })
		}))
	}
	if cfg.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(cfg.Credentials))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	return elb.NewFromConfig(awsCfg, func(o *elb.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	}), nil
}

// RegionOf returns the region of an ARN, arn:aws:elasticloadbalancing:REGION:…, or ""
// when it names none.
func RegionOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return parts[3]
}

// targetGroupName returns the name in a target group ARN, …:targetgroup/NAME/ID, or
// the ARN itself.
func targetGroupName(arn string) string {
	_, rest, ok := strings.Cut(arn, ":targetgroup/")
	if !ok {
		return arn
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}
