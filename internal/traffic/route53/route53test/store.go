package route53test

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// zone is one hosted zone: its record sets as the API lists them, and as name servers
// answer once changes are in sync.
type zone struct {
	id, name string
	sets     []RecordSet
	served   []RecordSet
}

// change is a submitted change batch, in sync SyncDelay after it was submitted.
type change struct {
	id        string
	zone      *zone
	submitted time.Time
	comment   string
	after     []RecordSet // the zone's record sets with this change applied
	insync    bool
}

// canonicalName is how Route 53 stores names: lower case, fully qualified, with a
// leading wildcard escaped.
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

// sortKey orders record sets as ListResourceRecordSets does: by name with its labels
// reversed, then type, then set identifier.
func sortKey(name, typ, id string) string {
	labels := strings.Split(strings.TrimSuffix(name, "."), ".")
	slices.Reverse(labels)
	return strings.Join(labels, ".") + "\x00" + typ + "\x00" + id
}

func setKey(s RecordSet) string { return sortKey(s.Name, s.Type, s.SetIdentifier) }

func (z *zone) sort() {
	slices.SortFunc(z.sets, func(a, b RecordSet) int { return strings.Compare(setKey(a), setKey(b)) })
}

func (z *zone) index(s RecordSet) int {
	return slices.IndexFunc(z.sets, func(o RecordSet) bool { return setKey(o) == setKey(s) })
}

// apply validates a change batch as a whole and returns the record sets with it applied,
// or the messages of an InvalidChangeBatch.
func (z *zone) apply(req *changeRequest) ([]RecordSet, []string) {
	next := &zone{name: z.name, sets: slices.Clone(z.sets)}
	var msgs []string
	seen := map[string]bool{}
	for _, c := range req.Changes {
		s := c.Set
		s.Name = canonicalName(s.Name)
		if msg := next.validate(s); msg != "" {
			msgs = append(msgs, msg)
			continue
		}
		if seen[setKey(s)] {
			msgs = append(msgs, fmt.Sprintf("The request contains an invalid set of changes for a resource record set '%s %s'", s.Type, s.Name))
			continue
		}
		seen[setKey(s)] = true
		i := next.index(s)
		switch c.Action {
		case "CREATE":
			if i >= 0 {
				msgs = append(msgs, fmt.Sprintf("Tried to create resource record set [name='%s', type='%s', set-identifier='%s'] but it already exists", s.Name, s.Type, s.SetIdentifier))
				continue
			}
			next.sets = append(next.sets, s)
		case "UPSERT":
			if i >= 0 {
				next.sets[i] = s
			} else {
				next.sets = append(next.sets, s)
			}
		case "DELETE":
			if i < 0 || !equal(next.sets[i], s) {
				msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set [name='%s', type='%s', set-identifier='%s'] but it was not found", s.Name, s.Type, s.SetIdentifier))
				continue
			}
			next.sets = slices.Delete(next.sets, i, i+1)
		default:
			msgs = append(msgs, fmt.Sprintf("Invalid action %q", c.Action))
		}
	}
	next.sort()
	return next.sets, msgs
}

// validate checks one record set against the zone and the rules of weighted records.
func (z *zone) validate(s RecordSet) string {
	if s.Name != z.name && !strings.HasSuffix(s.Name, "."+z.name) {
		return fmt.Sprintf("RRSet with DNS name %s is not permitted in zone %s", s.Name, z.name)
	}
	switch s.Type {
	case "A", "AAAA", "CNAME", "TXT", "MX", "NS", "SOA", "SRV", "CAA", "PTR", "SPF", "NAPTR", "DS":
	default:
		return fmt.Sprintf("Invalid type %q for resource record set %s", s.Type, s.Name)
	}
	if s.Weight != nil && (*s.Weight < 0 || *s.Weight > 255) {
		return fmt.Sprintf("Invalid weight %d for resource record set %s: weights are 0 to 255", *s.Weight, s.Name)
	}
	if (s.Weight != nil) != (s.SetIdentifier != "") {
		return fmt.Sprintf("Invalid resource record set %s: a weighted record needs both a SetIdentifier and a Weight", s.Name)
	}
	if s.Alias == nil && (s.TTL == nil || len(s.Values) == 0) {
		return fmt.Sprintf("Invalid resource record set %s: TTL and ResourceRecords are required", s.Name)
	}
	return ""
}

func equal(a, b RecordSet) bool {
	return a.Name == b.Name && a.Type == b.Type && a.SetIdentifier == b.SetIdentifier &&
		ptrEq(a.Weight, b.Weight) && ptrEq(a.TTL, b.TTL) && slices.Equal(a.Values, b.Values) &&
		a.HealthCheckID == b.HealthCheckID && ((a.Alias == nil) == (b.Alias == nil)) && (a.Alias == nil || *a.Alias == *b.Alias)
}

func ptrEq(a, b *int64) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }

// list returns up to maxItems record sets from the first at or after the start key, and the
// key of the next one when more remain.
func (z *zone) list(name, typ, id string, maxItems int) (page []RecordSet, next *RecordSet) {
	start := ""
	if name != "" {
		start = sortKey(canonicalName(name), typ, id)
	}
	for i, s := range z.sets {
		if setKey(s) < start {
			continue
		}
		if len(page) == maxItems {
			return page, &z.sets[i]
		}
		page = append(page, s)
	}
	return page, nil
}
