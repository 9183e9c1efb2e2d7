package gateway_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"ferry.dev/ferry/internal/traffic"
	"ferry.dev/ferry/internal/traffic/gateway"
	"ferry.dev/ferry/internal/traffic/gateway/gatewaytest"
)

// argoManager is the field manager Argo CD's server-side apply syncs as.
const argoManager = "argocd-controller"

// gitRoute returns testdata/httproute-git.yaml as a JSON document in namespace ns,
// changed by edit (a commit to git).
func gitRoute(t *testing.T, ns string, edit func(map[string]any)) map[string]any {
	t.Helper()
	data, err := os.ReadFile("testdata/httproute-git.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := yaml.Unmarshal(data, &obj); err != nil {
		t.Fatal(err)
	}
	obj["metadata"].(map[string]any)["namespace"] = ns
	if edit != nil {
		edit(obj)
	}
	return obj
}

// respectIgnoredWeights does to the git document what Argo CD's RespectIgnoreDifferences
// sync option does with ignoreDifferences on jqPathExpression
// .spec.rules[].backendRefs[].weight: the live values of the ignored fields replace
// git's before the apply.
func respectIgnoredWeights(t *testing.T, c *cluster, git map[string]any) {
	t.Helper()
	live := c.route(t, "shop")
	rules := git["spec"].(map[string]any)["rules"].([]any)
	for i, rule := range rules {
		refs := rule.(map[string]any)["backendRefs"].([]any)
		for j, ref := range refs {
			if i < len(live.Spec.Rules) && j < len(live.Spec.Rules[i].BackendRefs) && live.Spec.Rules[i].BackendRefs[j].Weight != nil {
				ref.(map[string]any)["weight"] = *live.Spec.Rules[i].BackendRefs[j].Weight
			}
		}
	}
}

// argoSync server-side applies obj as Argo CD does: field manager argocd-controller,
// with force unless force is false (Argo CD forces; a plain kubectl apply does not).
func argoSync(c *cluster, obj map[string]any, force bool) error {
	body, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	_, err = c.gw.GatewayV1().HTTPRoutes(c.ns).Patch(context.Background(), "shop", types.ApplyPatchType, body,
		metav1.PatchOptions{FieldManager: argoManager, Force: &force})
	return err
}

// kubeShare is the Kubernetes side's share of rule 0, in basis points.
func kubeShare(t *testing.T, c *cluster) int32 {
	t.Helper()
	return weightsOf(c.route(t, "shop").Spec.Rules[0])["shop"]
}

// Given an HTTPRoute Argo CD syncs from git with server-side apply and a migration that
// holds it at 5 %, when Argo CD syncs again — with the documented settings, so the live
// weights replace git's — then neither side gets a conflict, ferry's weights survive,
// git's other changes land, and ferry can move on.
func TestArgoCDSyncKeepsFerrysWeights(t *testing.T) {
	c := newCluster(t)
	gatewaytest.CreateServices(t, c.kube, c.ns, "legacy", "legacy.shop.example.com", "shop")
	if err := argoSync(c, gitRoute(t, c.ns, nil), true); err != nil {
		t.Fatalf("first sync: %v", err)
	}
	r := c.router(t, "shop", "legacy", "shop")
	ctx := context.Background()
	if err := r.SetWeights(ctx, traffic.KubernetesShare(500)); err != nil {
		t.Fatalf("ferry at 5 %% after Argo CD applied the route: %v", err)
	}
	if owner := rulesOwner(t, c); owner != gateway.FieldManager {
		t.Fatalf("spec.rules owned by %q after ferry's apply, want %q alone", owner, gateway.FieldManager)
	}

	for _, force := range []bool{true, false} {
		git := gitRoute(t, c.ns, func(o map[string]any) {
			o["spec"].(map[string]any)["hostnames"] = []any{"shop.example.com", "www.shop.example.com"}
		})
		respectIgnoredWeights(t, c, git)
		if err := argoSync(c, git, force); err != nil {
			t.Fatalf("Argo CD sync (force %v) at 5 %%: %v", force, err)
		}
		if got := kubeShare(t, c); got != 500 {
			t.Fatalf("Argo CD sync (force %v) set the Kubernetes weight to %d, want ferry's 500", force, got)
		}
		if h := c.route(t, "shop").Spec.Hostnames; len(h) != 2 {
			t.Fatalf("git's new hostname did not land: %v", h)
		}
	}

	if err := r.SetWeights(ctx, traffic.KubernetesShare(1000)); err != nil {
		t.Fatalf("ferry at 10 %% after Argo CD's sync: %v", err)
	}
	git := gitRoute(t, c.ns, nil)
	respectIgnoredWeights(t, c, git)
	if err := argoSync(c, git, true); err != nil {
		t.Fatalf("Argo CD sync at 10 %%: %v", err)
	}
	if got := kubeShare(t, c); got != 1000 {
		t.Fatalf("Argo CD sync after ferry's change set the Kubernetes weight to %d, want 1000", got)
	}
	if w, err := r.Weights(ctx); err != nil || w.Kubernetes != 1000 {
		t.Fatalf("ferry reads %v, %v after the sync", w, err)
	}
}

// Without the settings, git's weights are a conflict for a plain server-side apply and
// win for a forced one (Argo CD's): this is why the README asks for them. spec.rules is
// an atomic list, so whoever applies a weight applies all the rules.
func TestArgoCDSyncWithoutTheSettingsResetsTheWeights(t *testing.T) {
	c := newCluster(t)
	gatewaytest.CreateServices(t, c.kube, c.ns, "legacy", "legacy.shop.example.com", "shop")
	if err := argoSync(c, gitRoute(t, c.ns, nil), true); err != nil {
		t.Fatal(err)
	}
	r := c.router(t, "shop", "legacy", "shop")
	if err := r.SetWeights(context.Background(), traffic.KubernetesShare(500)); err != nil {
		t.Fatal(err)
	}
	if err := argoSync(c, gitRoute(t, c.ns, nil), false); !apierrors.IsConflict(err) {
		t.Fatalf("an unforced apply of git's weights: %v, want a conflict with ferry", err)
	}
	if err := argoSync(c, gitRoute(t, c.ns, nil), true); err != nil {
		t.Fatal(err)
	}
	if got := kubeShare(t, c); got != 0 {
		t.Fatalf("a forced apply of git's weights left %d", got)
	}
	// Leaving the weights out of git does not help: the list is replaced whole and the
	// API server defaults each weight to 1, an even split.
	if err := r.SetWeights(context.Background(), traffic.KubernetesShare(500)); err != nil {
		t.Fatal(err)
	}
	noWeights := gitRoute(t, c.ns, func(o map[string]any) {
		for _, rule := range o["spec"].(map[string]any)["rules"].([]any) {
			for _, ref := range rule.(map[string]any)["backendRefs"].([]any) {
				delete(ref.(map[string]any), "weight")
			}
		}
	})
	if err := argoSync(c, noWeights, true); err != nil {
		t.Fatal(err)
	}
	if got := weightsOf(c.route(t, "shop").Spec.Rules[0]); got["legacy"] != 1 || got["shop"] != 1 {
		t.Fatalf("git without weights left %v", got)
	}
}

// rulesOwner returns the field managers that own spec.rules, joined.
func rulesOwner(t *testing.T, c *cluster) string {
	t.Helper()
	var owners string
	for _, e := range c.route(t, "shop").ManagedFields {
		if e.FieldsV1 == nil {
			continue
		}
		var fields map[string]any
		if err := json.Unmarshal(e.FieldsV1.GetRawBytes(), &fields); err != nil {
			t.Fatal(err)
		}
		spec, _ := fields["f:spec"].(map[string]any)
		if _, ok := spec["f:rules"]; ok {
			if owners != "" {
				owners += ","
			}
			owners += e.Manager
		}
	}
	return owners
}
