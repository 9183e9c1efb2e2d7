package route53

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/route53"
)

// Defaults of a ClientConfig. Route 53 allows five requests a second per account and
// answers PriorRequestNotComplete while a change to the same zone is in progress: both
// are retried with jittered exponential backoff, patiently.
const (
	DefaultRegion      = "us-east-1"
	DefaultMaxAttempts = 10
	DefaultMaxBackoff  = 20 * time.Second
)

// ClientConfig says how to reach Route 53.
type ClientConfig struct {
	// Region signs the requests; Route 53 is global and signs in us-east-1.
	Region string
	// Endpoint, when set, replaces Route 53's endpoint (a Route 53–compatible API).
	Endpoint string
	// Credentials, when set, replace the default chain (environment, shared files,
	// instance role).
	Credentials aws.CredentialsProvider
	// MaxAttempts and MaxBackoff bound the retries of throttled calls.
	MaxAttempts int
	MaxBackoff  time.Duration
	// Backoff, when set, replaces the jittered exponential backoff.
	Backoff retry.BackoffDelayer
}

// NewClient loads the AWS configuration (credentials are resolved on the first call)
// and returns a Route 53 client that retries throttled calls.
func NewClient(ctx context.Context, cfg ClientConfig) (*route53.Client, error) {
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(cfg.Region),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts, o.MaxBackoff = cfg.MaxAttempts, cfg.MaxBackoff
				// The client-side retry quota would give up on a long throttling spell
				// that patient backoff rides out.
				o.RateLimiter = ratelimit.None
				if cfg.Backoff != nil {
					o.Backoff = cfg.Backoff
				}
			})
		}),
	}
	if cfg.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(cfg.Credentials))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	return route53.NewFromConfig(awsCfg, func(o *route53.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	}), nil
}
