package release

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func obj(kind, name string) *unstructured.Unstructured {
	apiVersion := "v1"
	if kind == "Deployment" {
		apiVersion = "apps/v1"
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiVersion, "kind": kind, "metadata": map[string]any{"name": name, "namespace": "shop"},
	}}
}

func rev(n int, status Status, rollbackOf int, objs ...*unstructured.Unstructured) *Release {
	if len(objs) == 0 {
		objs = []*unstructured.Unstructured{obj("Deployment", "web")}
	}
	return &Release{Record: Record{Revision: n, Status: status, RollbackOf: rollbackOf}, Manifests: objs}
}

func TestRollbackTarget(t *testing.T) {
	for _, tc := range []struct {
		name    string
		history []*Release
		to      int
		want    int
		wantErr string
	}{
		{"after a good deploy: the one before", []*Release{rev(1, StatusSuperseded, 0), rev(2, StatusDeployed, 0)}, 0, 1, ""},
		{"after a failed deploy: the last good", []*Release{rev(1, StatusSuperseded, 0), rev(2, StatusDeployed, 0), rev(3, StatusFailed, 0)}, 0, 2, ""},
		{"after an interrupted deploy: the last good", []*Release{rev(1, StatusDeployed, 0), rev(2, StatusInterrupted, 0)}, 0, 1, ""},
		{"after an automatic rollback: further back", []*Release{rev(1, StatusSuperseded, 0), rev(2, StatusSuperseded, 0), rev(3, StatusFailed, 0), rev(4, StatusDeployed, 2)}, 0, 1, ""},
		{"rolling back twice toggles", []*Release{rev(1, StatusSuperseded, 0), rev(2, StatusSuperseded, 0), rev(3, StatusDeployed, 1)}, 0, 2, ""},
		{"failed revisions are skipped", []*Release{rev(1, StatusSuperseded, 0), rev(2, StatusFailed, 0), rev(3, StatusDeployed, 0)}, 0, 1, ""},
		{"explicit revision, even a failed one", []*Release{rev(1, StatusSuperseded, 0), rev(2, StatusFailed, 0), rev(3, StatusDeployed, 0)}, 2, 2, ""},
		{"explicit unknown revision", []*Release{rev(1, StatusDeployed, 0)}, 9, 0, "revision 9 is not in the history"},
		{"explicit revision without manifests", []*Release{{Record: Record{Revision: 1, Status: StatusDeployed}}}, 1, 0, "no recorded manifests"},
		{"an incomplete revision is never the target", []*Release{rev(1, StatusSuperseded, 0), {Record: Record{Revision: 2, Status: StatusIncomplete}}, rev(3, StatusDeployed, 0)}, 0, 1, ""},
		{"explicit incomplete revision", []*Release{{Record: Record{Revision: 1, Status: StatusIncomplete, Reason: "part 2 of 3 is missing"}}, rev(2, StatusDeployed, 0)}, 1, 0, "revision 1 cannot be rolled back to: part 2 of 3 is missing"},
		{"only one revision", []*Release{rev(1, StatusDeployed, 0)}, 0, 0, "no good revision before"},
		{"empty history", nil, 0, 0, "no revisions yet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := RollbackTarget(tc.history, tc.to)
			if tc.wantErr != "" {
				if !errors.Is(err, ErrNoRevision) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want ErrNoRevision with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got.Revision != tc.want {
				t.Fatalf("target %v (%v), want revision %d", got, err, tc.want)
			}
		})
	}
}

func TestPrunableDeletesOnlyWhatEarlierRevisionsAppliedInReverseOrder(t *testing.T) {
	history := []*Release{
		rev(1, StatusSuperseded, 0, obj("ConfigMap", "old"), obj("Deployment", "web"), obj("Service", "web")),
		rev(2, StatusInterrupted, 0, obj("Deployment", "web"), obj("Deployment", "worker"), obj("Service", "web")),
	}
	next := []*unstructured.Unstructured{obj("Deployment", "web"), obj("Service", "web")}
	var got []string
	for _, r := range Prunable(history, next) {
		got = append(got, r.String())
	}
	// The worker Deployment goes before the ConfigMap it might use.
	if want := "deployment/worker configmap/old"; strings.Join(got, " ") != want {
		t.Fatalf("prunable %v, want %s", got, want)
	}
	if p := Prunable(history, append(next, obj("Deployment", "worker"), obj("ConfigMap", "old"))); len(p) != 0 {
		t.Fatalf("nothing to prune when everything is kept, got %v", p)
	}
}

func TestReplaceJobOnlyWhenFerryAppliedItForTheApp(t *testing.T) {
	ours := map[string]string{LabelManagedBy: ManagedBy, LabelApp: "shop"}
	for _, tc := range []struct {
		name      string
		labels    map[string]string
		immutable []string
		replace   bool
		wantErr   string
	}{
		{"template changed, ours", ours, []string{"spec.template"}, true, ""},
		{"template and completions changed, ours", ours, []string{"spec.completions", "spec.template"}, true, ""},
		{"template changed, no labels", nil, []string{"spec.template"}, false, "this one is not ferry's: delete it yourself"},
		{"template changed, labelled by hand with the app only", map[string]string{LabelApp: "shop"}, []string{"spec.template"}, false, "not ferry's"},
		{"template changed, another app's", map[string]string{LabelManagedBy: ManagedBy, LabelApp: "billing"}, []string{"spec.template"}, false, "this one is app billing's"},
		{"another immutable field: the API server's refusal stands", ours, []string{"spec.selector"}, false, ""},
		{"nothing immutable", ours, nil, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			replace, err := ReplaceJob("db-migrate", tc.labels, "shop", tc.immutable)
			if replace != tc.replace {
				t.Errorf("replace = %v, want %v", replace, tc.replace)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "job/db-migrate: ")):
				t.Errorf("error %v, want job/db-migrate: … %q", err, tc.wantErr)
			}
		})
	}
}

func TestExpiredKeepsTheLimitAndTheCurrent(t *testing.T) {
	var history []*Release
	for i := 1; i <= 6; i++ {
		status := StatusFailed
		if i == 2 {
			status = StatusDeployed // an old current revision: later ones all failed
		}
		history = append(history, rev(i, status, 0))
	}
	var got []string
	for _, r := range Expired(history, 3) {
		got = append(got, fmt.Sprint(r.Revision))
	}
	if strings.Join(got, ",") != "1,3" {
		t.Fatalf("expired %v, want 1,3 (2 is current)", got)
	}
	if Expired(history, 10) != nil {
		t.Fatal("nothing expires under the limit")
	}
}

func TestNextRevisionAndCurrent(t *testing.T) {
	h := []*Release{rev(3, StatusFailed, 0), rev(1, StatusSuperseded, 0), rev(2, StatusDeployed, 0)}
	if NextRevision(h) != 4 || NextRevision(nil) != 1 {
		t.Fatal("NextRevision")
	}
	if c := Current(h); c == nil || c.Revision != 2 {
		t.Fatalf("Current = %v", c)
	}
}

func TestReleaseRoundTripsThroughItsSecretEncoding(t *testing.T) {
	r := rev(7, StatusDeployed, 0, obj("Deployment", "web"))
	unstructured.SetNestedField(r.Manifests[0].Object, int64(100), "spec", "replicas")
	data, err := encodeRelease(r)
	if err != nil {
		t.Fatal(err)
	}
	back, err := decodeRelease(data)
	if err != nil {
		t.Fatal(err)
	}
	replicas, found, err := unstructured.NestedInt64(back.Manifests[0].Object, "spec", "replicas")
	if err != nil || !found || replicas != 100 || back.Revision != 7 || back.Status != StatusDeployed {
		t.Fatalf("round trip lost data: %+v replicas=%d %v", back, replicas, err)
	}
}
