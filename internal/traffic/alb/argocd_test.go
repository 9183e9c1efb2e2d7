package alb_test

import (
	"context"
	"encoding/json"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"ferry.dev/ferry/internal/traffic"
	"ferry.dev/ferry/internal/traffic/alb"
)

// gitAction is the action as git holds it: all traffic on legacy.
const gitAction = `{"type":"forward","forwardConfig":{"targetGroups":[{"targetGroupARN":"` + legacyARN + `","weight":100},{"serviceName":"shop","servicePort":"http","weight":0}],"targetGroupStickinessConfig":{"enabled":false}}}`

// argoSync server-side applies the Ingress's annotations as Argo CD does (field manager
// argocd-controller) with the given action and a scheme annotation.
func argoSync(kc kubernetes.Interface, ns, action, scheme string, force bool) error {
	body, _ := json.Marshal(map[string]any{
		"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
		"metadata": map[string]any{"name": "shop", "namespace": ns, "annotations": map[string]string{
			alb.AnnotationPrefix + "split":     action,
			"alb.ingress.kubernetes.io/scheme": scheme,
		}},
	})
	_, err := kc.NetworkingV1().Ingresses(ns).Patch(context.Background(), "shop", types.ApplyPatchType, body,
		metav1.PatchOptions{FieldManager: "argocd-controller", Force: &force})
	return err
}

// Given an Ingress whose action Argo CD applied from git and a migration at 5 %, when
// Argo CD syncs again with ignoreDifferences on ferry's fields and RespectIgnoreDifferences
// (the live action replaces git's), then nothing conflicts, the weights survive and
// git's other annotation changes land; without the settings git's weights conflict or,
// forced, win.
func TestArgoCDSyncKeepsFerrysAction(t *testing.T) {
	kc, ns := setup(t)
	ctx := context.Background()
	if err := argoSync(kc, ns, gitAction, "internet-facing", true); err != nil {
		t.Fatalf("first sync: %v", err)
	}
	r := router(t, kc, func(c *alb.Config) { c.Namespace = ns })
	if err := r.SetWeights(ctx, traffic.KubernetesShare(500)); err != nil {
		t.Fatalf("ferry at 5 %% after Argo CD applied the action: %v", err)
	}
	for _, force := range []bool{true, false} {
		_, _, live := actionWeights(t, kc, ns)
		if err := argoSync(kc, ns, live.Annotations[alb.AnnotationPrefix+"split"], "internal", force); err != nil {
			t.Fatalf("Argo CD sync (force %v) at 5 %%: %v", force, err)
		}
		if l, k, ing := actionWeights(t, kc, ns); l != 95 || k != 5 || ing.Annotations["alb.ingress.kubernetes.io/scheme"] != "internal" {
			t.Fatalf("after Argo CD's sync (force %v): weights %d:%d, scheme %q", force, l, k, ing.Annotations["alb.ingress.kubernetes.io/scheme"])
		}
	}
	if err := r.SetWeights(ctx, traffic.KubernetesShare(1000)); err != nil {
		t.Fatalf("ferry at 10 %% after Argo CD's sync: %v", err)
	}
	if err := argoSync(kc, ns, gitAction, "internal", false); !apierrors.IsConflict(err) {
		t.Fatalf("an unforced apply of git's action: %v, want a conflict with ferry", err)
	}
	if l, k, _ := actionWeights(t, kc, ns); l != 90 || k != 10 {
		t.Fatalf("a refused apply changed the weights to %d:%d", l, k)
	}
}
