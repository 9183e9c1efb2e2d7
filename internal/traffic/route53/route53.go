package route53

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"ferry.dev/ferry/internal/traffic"
)

// MaxWeight is the largest weight of a Route 53 weighted record.
const MaxWeight = 255

// Defaults of a Config.
const (
	DefaultPollInterval    = 500 * time.Millisecond
	DefaultMaxPollInterval = 5 * time.Second
	// DefaultSyncTimeout bounds the wait for INSYNC: changes usually reach every
	// Route 53 name server within 60 seconds.
	DefaultSyncTimeout = 5 * time.Minute
)

// ErrHostedZoneNotFound means Route 53 has no hosted zone with the configured ID.
var ErrHostedZoneNotFound = errors.New("hosted zone not found")

// API is the part of the Route 53 client the router calls.
type API interface {
	ListResourceRecordSets(ctx context.Context, in *route53.ListResourceRecordSetsInput, opts ...func(*route53.Options)) (*route53.ListResourceRecordSetsOutput, error)
	ChangeResourceRecordSets(ctx context.Context, in *route53.ChangeResourceRecordSetsInput, opts ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error)
	GetChange(ctx context.Context, in *route53.GetChangeInput, opts ...func(*route53.Options)) (*route53.GetChangeOutput, error)
	GetHealthCheckStatus(ctx context.Context, in *route53.GetHealthCheckStatusInput, opts ...func(*route53.Options)) (*route53.GetHealthCheckStatusOutput, error)
}

// Config names the two weighted records of one name in one hosted zone.
type Config struct {
	Client       API
	HostedZoneID string
	// Name is the records' DNS name, e.g. www.example.com.
	Name string
	// Type is the record type (A, AAAA, CNAME); empty means every type of the name
	// that has both records, changed together.
	Type string
	// Legacy and Kubernetes are the records' set identifiers.
	Legacy, Kubernetes string
	// PollInterval is the first wait between GetChange calls, growing to
	// MaxPollInterval; SyncTimeout bounds the wait for INSYNC.
	PollInterval, MaxPollInterval, SyncTimeout time.Duration
	// Settle is held on top of the records' TTL before a step is judged.
	Settle time.Duration
}

// Router shifts traffic by the weights of two weighted records.
type Router struct {
	cfg    Config
	target target
	mu     sync.Mutex
	ttl    time.Duration // the records' longest TTL, as last read
	change string        // the last change not yet seen INSYNC
}

var _ traffic.Settler = (*Router)(nil)

// New checks the configuration; it does not call Route 53.
func New(cfg Config) (*Router, error) {
	switch {
	case cfg.Client == nil:
		return nil, errors.New("route53: no client")
	case cfg.HostedZoneID == "":
		return nil, errors.New("route53: the hosted zone ID is required")
	case cfg.Name == "":
		return nil, errors.New("route53: the record name is required")
	case cfg.Legacy == "" || cfg.Kubernetes == "" || cfg.Legacy == cfg.Kubernetes:
		return nil, errors.New("route53: two different set identifiers are required, one per side")
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.MaxPollInterval <= 0 {
		cfg.MaxPollInterval = DefaultMaxPollInterval
	}
	if cfg.SyncTimeout <= 0 {
		cfg.SyncTimeout = DefaultSyncTimeout
	}
	t := target{name: canonicalName(cfg.Name), typ: cfg.Type, legacy: cfg.Legacy, kubernetes: cfg.Kubernetes}
	return &Router{cfg: cfg, target: t, ttl: AliasTTL}, nil
}

// Split returns the record weights a split maps to and the split they give.
func Split(w traffic.Weights) (legacy, kubernetes int64, effective traffic.Weights) {
	l, k, eff := traffic.IntegerSplit(w.Kubernetes, MaxWeight)
	return int64(l), int64(k), traffic.KubernetesShare(eff)
}

// Weights returns the split the records give now.
func (r *Router) Weights(ctx context.Context) (traffic.Weights, error) {
	g, err := r.read(ctx)
	if err != nil {
		return traffic.Weights{}, err
	}
	return g.weights(), nil
}

// SetWeights changes both records in one batch to the weights nearest to w (see Split)
// and waits until the change is INSYNC on every Route 53 name server.
func (r *Router) SetWeights(ctx context.Context, w traffic.Weights) error {
	if err := w.Validate(); err != nil {
		return err
	}
	g, err := r.read(ctx)
	if err != nil {
		return err
	}
	l, k, eff := Split(w)
	if !g.has(l, k) {
		comment := fmt.Sprintf("ferry: %s (weights %d:%d)", eff, l, k)
		out, err := r.cfg.Client.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
			HostedZoneId: aws.String(r.cfg.HostedZoneID), ChangeBatch: changeBatch(g, l, k, comment),
		})
		if err != nil {
			return fmt.Errorf("route53: change %s: %w", r.target, r.explain(err))
		}
		r.mu.Lock()
		r.change = aws.ToString(out.ChangeInfo.Id)
		r.mu.Unlock()
	}
	return r.waitInSync(ctx)
}

// ApplyTimeout implements traffic.Settler: the wait for INSYNC and a minute for the
// calls and their retries.
func (r *Router) ApplyTimeout() time.Duration { return r.cfg.SyncTimeout + time.Minute }

// SettleTime implements traffic.Settler: the records' TTL, during which resolvers may
// still answer with the previous weights, and the configured extra.
func (r *Router) SettleTime() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ttl + r.cfg.Settle
}

// read lists the records of the name and finds both sides'.
func (r *Router) read(ctx context.Context) (group, error) {
	in := &route53.ListResourceRecordSetsInput{
		HostedZoneId: aws.String(r.cfg.HostedZoneID), StartRecordName: aws.String(r.target.name), MaxItems: aws.Int32(100),
	}
	if r.target.typ != "" {
		in.StartRecordType = types.RRType(r.target.typ)
	}
	var sets []types.ResourceRecordSet
	for {
		out, err := r.cfg.Client.ListResourceRecordSets(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("route53: list %s in hosted zone %s: %w", r.target, r.cfg.HostedZoneID, r.explain(err))
		}
		sets = append(sets, out.ResourceRecordSets...)
		if !out.IsTruncated || canonicalName(aws.ToString(out.NextRecordName)) != r.target.name {
			break
		}
		in.StartRecordName, in.StartRecordType, in.StartRecordIdentifier = out.NextRecordName, out.NextRecordType, out.NextRecordIdentifier
	}
	g, err := buildGroup(r.target, sets)
	if err != nil {
		return nil, fmt.Errorf("route53: hosted zone %s: %w", r.cfg.HostedZoneID, err)
	}
	r.mu.Lock()
	r.ttl = g.ttl()
	r.mu.Unlock()
	return g, nil
}

// waitInSync polls the last change until Route 53 reports it INSYNC.
func (r *Router) waitInSync(ctx context.Context) error {
	r.mu.Lock()
	id := r.change
	r.mu.Unlock()
	if id == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.SyncTimeout)
	defer cancel()
	delay := r.cfg.PollInterval
	for {
		out, err := r.cfg.Client.GetChange(ctx, &route53.GetChangeInput{Id: aws.String(id)})
		if err == nil && out.ChangeInfo.Status == types.ChangeStatusInsync {
			r.mu.Lock()
			if r.change == id {
				r.change = ""
			}
			r.mu.Unlock()
			return nil
		}
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("route53: get change %s: %w", id, r.explain(err))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("route53: change %s accepted but not yet INSYNC: %w", id, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(delay*3/2, r.cfg.MaxPollInterval)
	}
}
