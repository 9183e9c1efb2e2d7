package route53

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"ferry.dev/ferry/internal/traffic"
)

// ErrRecordNotFound means the hosted zone has no weighted record of the name with one
// of the two set identifiers.
var ErrRecordNotFound = errors.New("weighted record not found")

// AliasTTL is how long resolvers cache an alias record's answer: Route 53 gives alias
// records the target's TTL, 60 seconds for load balancers.
const AliasTTL = 60 * time.Second

// pair is the legacy and the Kubernetes record of one record type.
type pair struct {
	legacy, kubernetes types.ResourceRecordSet
}

// group is the weighted records of one name for both sides, a pair per record type
// (A and AAAA for a dual-stack name), all changed together.
type group []pair

// weights returns the split the first pair gives; every pair is set alike.
func (g group) weights() traffic.Weights {
	l, k := aws.ToInt64(g[0].legacy.Weight), aws.ToInt64(g[0].kubernetes.Weight)
	return traffic.KubernetesShare(traffic.Share(int(l), int(k)))
}

// has reports whether every pair already carries weights l and k.
func (g group) has(l, k int64) bool {
	for _, p := range g {
		if aws.ToInt64(p.legacy.Weight) != l || aws.ToInt64(p.kubernetes.Weight) != k {
			return false
		}
	}
	return true
}

// ttl is the longest time a resolver may cache any of the records.
func (g group) ttl() time.Duration {
	var d time.Duration
	for _, p := range g {
		for _, r := range []types.ResourceRecordSet{p.legacy, p.kubernetes} {
			ttl := time.Duration(aws.ToInt64(r.TTL)) * time.Second
			if r.AliasTarget != nil {
				ttl = AliasTTL
			}
			d = max(d, ttl)
		}
	}
	return d
}

// target names the records a router manages.
type target struct {
	name, typ          string // typ "" means every type that has both records
	legacy, kubernetes string // set identifiers
}

func (t target) String() string {
	if t.typ == "" {
		return t.name
	}
	return t.name + " " + t.typ
}

// buildGroup finds the target's records among the record sets listed for its name. It
// fails when a side's record is missing or not weighted, or when another record with a
// weight above 0 shares the name and type: the shares would not be what ferry sets.
func buildGroup(t target, sets []types.ResourceRecordSet) (group, error) {
	byType := map[types.RRType]*pair{}
	var order []types.RRType
	var others []string
	for _, s := range sets {
		if canonicalName(aws.ToString(s.Name)) != t.name || (t.typ != "" && string(s.Type) != t.typ) {
			continue
		}
		id := aws.ToString(s.SetIdentifier)
		if id != t.legacy && id != t.kubernetes {
			if s.Weight != nil && *s.Weight > 0 {
				others = append(others, fmt.Sprintf("%s %q (weight %d)", s.Type, id, *s.Weight))
			}
			continue
		}
		if s.Weight == nil {
			return nil, fmt.Errorf("record %s %s %q is not a weighted record", t.name, s.Type, id)
		}
		p := byType[s.Type]
		if p == nil {
			p = &pair{}
			byType[s.Type] = p
			order = append(order, s.Type)
		}
		if id == t.legacy {
			p.legacy = s
		} else {
			p.kubernetes = s
		}
	}
	if len(others) > 0 {
		return nil, fmt.Errorf("%s has other weighted records with traffic: %s; ferry splits between exactly two", t, strings.Join(others, ", "))
	}
	if len(byType) == 0 {
		return nil, fmt.Errorf("%w: no record %s with set identifier %q or %q", ErrRecordNotFound, t, t.legacy, t.kubernetes)
	}
	slices.Sort(order)
	var g group
	for _, typ := range order {
		p := byType[typ]
		missing := t.legacy
		if p.legacy.SetIdentifier != nil {
			missing = t.kubernetes
		}
		if p.legacy.SetIdentifier == nil || p.kubernetes.SetIdentifier == nil {
			return nil, fmt.Errorf("%w: no record %s %s with set identifier %q", ErrRecordNotFound, t.name, typ, missing)
		}
		g = append(g, *p)
	}
	return g, nil
}

// changeBatch sets weights l and k on every pair, as one atomic batch of UPSERTs of the
// records as they are, but for the weight.
func changeBatch(g group, l, k int64, comment string) *types.ChangeBatch {
	b := &types.ChangeBatch{Comment: aws.String(comment)}
	for _, p := range g {
		for _, c := range []struct {
			rec    types.ResourceRecordSet
			weight int64
		}{{p.legacy, l}, {p.kubernetes, k}} {
			rec := c.rec
			rec.Weight = aws.Int64(c.weight)
			b.Changes = append(b.Changes, types.Change{Action: types.ChangeActionUpsert, ResourceRecordSet: &rec})
		}
	}
	return b
}

// canonicalName is a name as Route 53 lists it: lower case, fully qualified, a leading
// wildcard escaped.
func canonicalName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	if strings.HasPrefix(s, "*.") {
		s = `\052` + s[1:]
	}
	return s
}
