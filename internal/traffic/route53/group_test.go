package route53

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

func rec(name, typ, id string, weight *int64) types.ResourceRecordSet {
	r := types.ResourceRecordSet{Name: aws.String(name), Type: types.RRType(typ), Weight: weight, TTL: aws.Int64(60),
		ResourceRecords: []types.ResourceRecord{{Value: aws.String("192.0.2.1")}}}
	if id != "" {
		r.SetIdentifier = aws.String(id)
	}
	return r
}

func TestBuildGroup(t *testing.T) {
	w := aws.Int64
	www := target{name: "www.example.com.", legacy: "legacy", kubernetes: "k8s"}
	for _, tc := range []struct {
		name     string
		t        target
		sets     []types.ResourceRecordSet
		pairs    int
		share    int // kubernetes basis points
		wantErr  string
		notFound bool
	}{
		{"both records", www, []types.ResourceRecordSet{rec("www.example.com.", "A", "k8s", w(1)), rec("www.example.com.", "A", "legacy", w(99))}, 1, 100, "", false},
		{"other names are ignored", www, []types.ResourceRecordSet{rec("api.example.com.", "A", "legacy", w(5)), rec("www.example.com.", "A", "legacy", w(1)), rec("www.example.com.", "A", "k8s", w(1))}, 1, 5000, "", false},
		{"dual stack is one group", www, []types.ResourceRecordSet{rec("www.example.com.", "A", "legacy", w(90)), rec("www.example.com.", "A", "k8s", w(10)), rec("www.example.com.", "AAAA", "k8s", w(10)), rec("www.example.com.", "AAAA", "legacy", w(90))}, 2, 1000, "", false},
		{"a type narrows the group", target{name: "www.example.com.", typ: "AAAA", legacy: "legacy", kubernetes: "k8s"}, []types.ResourceRecordSet{rec("www.example.com.", "A", "legacy", w(90)), rec("www.example.com.", "AAAA", "legacy", w(50)), rec("www.example.com.", "AAAA", "k8s", w(50))}, 1, 5000, "", false},
		{"another record without traffic is fine", www, []types.ResourceRecordSet{rec("www.example.com.", "A", "legacy", w(1)), rec("www.example.com.", "A", "k8s", w(0)), rec("www.example.com.", "A", "old", w(0))}, 1, 0, "", false},
		{"another record with traffic is refused", www, []types.ResourceRecordSet{rec("www.example.com.", "A", "legacy", w(1)), rec("www.example.com.", "A", "k8s", w(0)), rec("www.example.com.", "A", "blue", w(3))}, 0, 0, `other weighted records with traffic: A "blue" (weight 3)`, false},
		{"no records of the name", www, []types.ResourceRecordSet{rec("api.example.com.", "A", "legacy", w(1))}, 0, 0, `no record www.example.com. with set identifier "legacy" or "k8s"`, true},
		{"the kubernetes record is missing", www, []types.ResourceRecordSet{rec("www.example.com.", "A", "legacy", w(1))}, 0, 0, `no record www.example.com. A with set identifier "k8s"`, true},
		{"the legacy record is missing", www, []types.ResourceRecordSet{rec("www.example.com.", "A", "k8s", w(1))}, 0, 0, `no record www.example.com. A with set identifier "legacy"`, true},
		{"a simple record is not weighted", www, []types.ResourceRecordSet{rec("www.example.com.", "A", "legacy", nil), rec("www.example.com.", "A", "k8s", w(0))}, 0, 0, "is not a weighted record", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := buildGroup(tc.t, tc.sets)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				if errors.Is(err, ErrRecordNotFound) != tc.notFound {
					t.Fatalf("error %v: ErrRecordNotFound %v, want %v", err, !tc.notFound, tc.notFound)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(g) != tc.pairs || g.weights().Kubernetes != tc.share {
				t.Fatalf("%d pairs at %d bp, want %d at %d", len(g), g.weights().Kubernetes, tc.pairs, tc.share)
			}
			for _, p := range g {
				if aws.ToString(p.legacy.SetIdentifier) != "legacy" || aws.ToString(p.kubernetes.SetIdentifier) != "k8s" || p.legacy.Type != p.kubernetes.Type {
					t.Fatalf("pair mixed up: %+v", p)
				}
			}
		})
	}
}

func TestChangeBatchKeepsEverythingButTheWeight(t *testing.T) {
	legacy := rec("www.example.com.", "A", "legacy", aws.Int64(100))
	legacy.HealthCheckId, legacy.TTL = aws.String("hc-1"), aws.Int64(30)
	kube := types.ResourceRecordSet{Name: aws.String("www.example.com."), Type: "A", SetIdentifier: aws.String("k8s"), Weight: aws.Int64(0),
		AliasTarget: &types.AliasTarget{DNSName: aws.String("k8s-lb.elb.amazonaws.com."), HostedZoneId: aws.String("Z35"), EvaluateTargetHealth: true}}
	g := group{{legacy: legacy, kubernetes: kube}}
	b := changeBatch(g, 99, 1, "ferry: 1%")
	if len(b.Changes) != 2 || aws.ToString(b.Comment) != "ferry: 1%" {
		t.Fatalf("batch %+v, want two changes with the comment", b)
	}
	l, k := b.Changes[0].ResourceRecordSet, b.Changes[1].ResourceRecordSet
	if b.Changes[0].Action != types.ChangeActionUpsert || aws.ToInt64(l.Weight) != 99 || aws.ToInt64(k.Weight) != 1 {
		t.Fatalf("changes %+v %+v, want UPSERT 99 and 1", l, k)
	}
	if aws.ToString(l.HealthCheckId) != "hc-1" || aws.ToInt64(l.TTL) != 30 || aws.ToString(l.ResourceRecords[0].Value) != "192.0.2.1" || k.AliasTarget == nil || !k.AliasTarget.EvaluateTargetHealth {
		t.Fatalf("the records lost fields: %+v %+v", l, k)
	}
	if aws.ToInt64(g[0].legacy.Weight) != 100 {
		t.Fatal("changeBatch changed the group it was given")
	}
	if g.ttl() != AliasTTL {
		t.Fatalf("ttl %s, want the alias's %s over the record's 30s", g.ttl(), AliasTTL)
	}
}
