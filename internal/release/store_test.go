package release_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"ferry.dev/ferry/internal/devcluster/devclustertest"
	"ferry.dev/ferry/internal/release"
)

// storeFixture is a SecretStore in a namespace of its own on the test cluster.
type storeFixture struct {
	t      *testing.T
	client kubernetes.Interface
	ns     string
	store  *release.SecretStore
}

func newStoreFixture(t *testing.T) *storeFixture {
	t.Helper()
	client, err := kubernetes.NewForConfig(devclustertest.RESTConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	ns := devclustertest.Namespace(t, client, "release-store")
	return &storeFixture{t: t, client: client, ns: ns, store: &release.SecretStore{Client: client, Namespace: ns}}
}

// secrets returns the namespace's Secrets matching selector, by name.
func (f *storeFixture) secrets(selector string) []corev1.Secret {
	f.t.Helper()
	list, err := f.client.CoreV1().Secrets(f.ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		f.t.Fatal(err)
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	return list.Items
}

// parts returns the part Secrets of a revision.
func (f *storeFixture) parts(revision int) []corev1.Secret {
	return f.secrets(fmt.Sprintf("%s=%d,%s", release.LabelRevision, revision, release.LabelPart))
}

func (f *storeFixture) list() []*release.Release {
	f.t.Helper()
	h, err := f.store.List(context.Background(), "shop")
	if err != nil {
		f.t.Fatal(err)
	}
	sort.Slice(h, func(i, j int) bool { return h[i].Revision < h[j].Revision })
	return h
}

func (f *storeFixture) mustCreate(r *release.Release) {
	f.t.Helper()
	if err := f.store.Create(context.Background(), r); err != nil {
		f.t.Fatal(err)
	}
}

// randomBase64 is n random bytes, base64-encoded: data no compression shrinks much.
func randomBase64(n int, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return base64.StdEncoding.EncodeToString(b)
}

// bigConfigMaps are count ConfigMaps of 900 KiB of random binary data each (a
// ConfigMap holds at most 1 MiB): recorded, they compress to about count × 0.9 MiB.
func bigConfigMaps(count int, seed uint64) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for i := range count {
		out = append(out, &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata":   map[string]any{"name": fmt.Sprintf("blob-%d", i), "namespace": "shop"},
			"binaryData": map[string]any{"blob": randomBase64(900<<10, seed*100+uint64(i))},
		}})
	}
	return out
}

func revision(n int, status release.Status, manifests []*unstructured.Unstructured) *release.Release {
	return &release.Release{Record: release.Record{
		App: "shop", Revision: n, Status: status, Kind: release.KindDeploy, Image: "shop/web:v" + strconv.Itoa(n),
		Started: time.Date(2025, 3, 1, 10, n, 0, 0, time.UTC),
	}, Manifests: manifests}
}

func sameManifests(t *testing.T, got, want []*unstructured.Unstructured) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		t.Fatalf("manifests read back differ from those recorded (%d bytes, want %d)", len(g), len(w))
	}
}

func TestAnOldRevisionSecretStillReads(t *testing.T) {
	t.Parallel()
	f := newStoreFixture(t)
	ctx := context.Background()
	data, err := os.ReadFile("testdata/revision-secret-v1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var old corev1.Secret
	if err := yaml.Unmarshal(data, &old); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.CoreV1().Secrets(f.ns).Create(ctx, &old, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	h := f.list()
	if len(h) != 1 || h[0].Revision != 4 || h[0].Status != release.StatusSuperseded || h[0].Image != "shop/web:v4" ||
		len(h[0].Manifests) != 1 || h[0].Manifests[0].GetName() != "web-env" {
		t.Fatalf("read %+v", h)
	}
	h[0].Status = release.StatusDeployed
	if err := f.store.Update(ctx, h[0]); err != nil {
		t.Fatal(err)
	}
	all := f.secrets("")
	if len(all) != 1 || len(all[0].Data) != 1 || all[0].Data["release"] == nil || all[0].Labels[release.LabelStatus] != "deployed" {
		t.Fatalf("after an update the revision should still be one Secret in the old format: %+v", all)
	}
	if h := f.list(); h[0].Status != release.StatusDeployed || len(h[0].Manifests) != 1 {
		t.Fatalf("read after update %+v", h[0])
	}
}

func TestASmallRevisionIsOneSecret(t *testing.T) {
	t.Parallel()
	f := newStoreFixture(t)
	f.mustCreate(revision(1, release.StatusPending, bigConfigMaps(1, 1)))
	all := f.secrets("")
	if len(all) != 1 || all[0].Name != "ferry.release.v1.shop.v1" || all[0].Type != release.SecretType || len(all[0].Data) != 1 || all[0].Data["release"] == nil {
		t.Fatalf("a revision that fits in one Secret should be stored as before, got %d Secrets: %+v", len(all), all)
	}
}

func TestABigRevisionIsSplitAndReadBackWhole(t *testing.T) {
	t.Parallel()
	f := newStoreFixture(t)
	ctx := context.Background()
	manifests := bigConfigMaps(3, 1)
	f.mustCreate(revision(1, release.StatusPending, manifests))

	parts := f.parts(1)
	if len(parts) < 3 {
		t.Fatalf("%d part Secrets, want at least 3 for about 2.7 MiB", len(parts))
	}
	for _, p := range parts {
		if p.Type != release.PartSecretType || len(p.Data["part"]) > corev1.MaxSecretSize {
			t.Fatalf("part %s: type %s, %d bytes", p.Name, p.Type, len(p.Data["part"]))
		}
	}
	heads := f.secrets("!" + release.LabelPart)
	if len(heads) != 1 || heads[0].Name != "ferry.release.v1.shop.v1" || heads[0].Data["release"] != nil {
		t.Fatalf("want one head Secret without a whole release, got %+v", heads)
	}

	h := f.list()
	if len(h) != 1 || h[0].Revision != 1 || h[0].Status != release.StatusPending {
		t.Fatalf("list %+v, want revision 1 once", h)
	}
	sameManifests(t, h[0].Manifests, manifests)

	// A status change rewrites the head only.
	h[0].Status, h[0].Reason = release.StatusDeployed, "fine"
	if err := f.store.Update(ctx, h[0]); err != nil {
		t.Fatal(err)
	}
	for i, p := range f.parts(1) {
		if p.ResourceVersion != parts[i].ResourceVersion {
			t.Errorf("part %s was rewritten by a status change", p.Name)
		}
	}
	h = f.list()
	if len(h) != 1 || h[0].Status != release.StatusDeployed || h[0].Reason != "fine" {
		t.Fatalf("after update %+v", h[0].Record)
	}
	sameManifests(t, h[0].Manifests, manifests)

	if err := f.store.Create(ctx, revision(1, release.StatusPending, bigConfigMaps(3, 2))); err == nil || !strings.Contains(err.Error(), "already recorded") {
		t.Fatalf("second create of revision 1: %v", err)
	}
	if got := len(f.parts(1)); got != len(parts) {
		t.Fatalf("a refused create left %d parts, want the %d of the recorded revision", got, len(parts))
	}

	if err := f.store.Delete(ctx, "shop", 1); err != nil {
		t.Fatal(err)
	}
	if left := f.secrets(""); len(left) != 0 {
		t.Fatalf("delete left %d Secrets", len(left))
	}
}

func TestARevisionWithADamagedPartIsIncomplete(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		damage func(f *storeFixture, part *corev1.Secret)
		want   string
	}{
		{"a part deleted", func(f *storeFixture, part *corev1.Secret) {
			if err := f.client.CoreV1().Secrets(f.ns).Delete(context.Background(), part.Name, metav1.DeleteOptions{}); err != nil {
				f.t.Fatal(err)
			}
		}, "is missing"},
		{"a part altered", func(f *storeFixture, part *corev1.Secret) {
			part.Data["part"][100] ^= 0xff
			if _, err := f.client.CoreV1().Secrets(f.ns).Update(context.Background(), part, metav1.UpdateOptions{}); err != nil {
				f.t.Fatal(err)
			}
		}, "does not match its digest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newStoreFixture(t)
			ctx := context.Background()
			f.mustCreate(revision(1, release.StatusSuperseded, bigConfigMaps(3, 1)))
			f.mustCreate(revision(2, release.StatusDeployed, bigConfigMaps(1, 2)))
			parts := f.parts(1)
			tc.damage(f, &parts[1])

			h := f.list()
			if len(h) != 2 {
				t.Fatalf("list has %d revisions, want 2", len(h))
			}
			bad := h[0]
			want := fmt.Sprintf("recorded manifests incomplete: part 2 of %d (Secret %s) %s; it was recorded as superseded", len(parts), parts[1].Name, tc.want)
			if bad.Status != release.StatusIncomplete || bad.Reason != want || bad.Manifests != nil {
				t.Fatalf("revision 1: %s %q with %d manifests, want incomplete %q", bad.Status, bad.Reason, len(bad.Manifests), want)
			}
			if _, err := release.RollbackTarget(h, 1); !errors.Is(err, release.ErrNoRevision) || !strings.Contains(err.Error(), want) {
				t.Fatalf("rollback target 1: %v", err)
			}
			if err := f.store.Update(ctx, bad); err == nil {
				t.Fatal("an incomplete revision was rewritten")
			}
			if err := f.store.Delete(ctx, "shop", 1); err != nil {
				t.Fatal(err)
			}
			if left := f.secrets(release.LabelRevision + "=1"); len(left) != 0 {
				t.Fatalf("delete left %d Secrets of revision 1", len(left))
			}
		})
	}
}

func TestACrashBetweenPartsLeavesNoRevision(t *testing.T) {
	t.Parallel()
	f := newStoreFixture(t)
	ctx := context.Background()
	f.mustCreate(revision(1, release.StatusDeployed, bigConfigMaps(1, 1)))
	f.mustCreate(revision(2, release.StatusPending, bigConfigMaps(3, 2)))
	// What a crash after the parts and before the head leaves: parts no head names.
	if err := f.client.CoreV1().Secrets(f.ns).Delete(ctx, "ferry.release.v1.shop.v2", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	orphans := len(f.parts(2))

	h := f.list()
	if len(h) != 1 || h[0].Revision != 1 {
		t.Fatalf("list %d revisions, want only revision 1", len(h))
	}
	if release.NextRevision(h) != 2 {
		t.Fatalf("next revision %d, want 2", release.NextRevision(h))
	}

	// The next write of that number does not trip over the leftovers.
	manifests := bigConfigMaps(3, 3)
	f.mustCreate(revision(2, release.StatusPending, manifests))
	h = f.list()
	if len(h) != 2 || h[1].Revision != 2 || h[1].Status != release.StatusPending {
		t.Fatalf("list after the retry: %d revisions", len(h))
	}
	sameManifests(t, h[1].Manifests, manifests)
	if got := len(f.parts(2)); got <= orphans {
		t.Fatalf("%d parts, want the %d leftovers and the new ones", got, orphans)
	}

	// Pruning the revision removes the leftovers with it.
	if err := f.store.Delete(ctx, "shop", 2); err != nil {
		t.Fatal(err)
	}
	if left := f.secrets(release.LabelRevision + "=2"); len(left) != 0 {
		t.Fatalf("delete left %d Secrets of revision 2", len(left))
	}
}

// countingGets counts the GET requests of single Secrets that pass through it.
type countingGets struct {
	rt   http.RoundTripper
	gets *atomic.Int32
}

func (c countingGets) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/secrets/") {
		c.gets.Add(1)
	}
	return c.rt.RoundTrip(r)
}

func TestAnUpdateWritesWithoutReadingFirstUnlessTheSecretChanged(t *testing.T) {
	t.Parallel()
	f := newStoreFixture(t)
	ctx := context.Background()
	var gets atomic.Int32
	cfg := devclustertest.RESTConfig(t)
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return countingGets{rt, &gets} }
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	store := &release.SecretStore{Client: client, Namespace: f.ns}
	small, split := revision(1, release.StatusPending, bigConfigMaps(1, 1)), revision(2, release.StatusPending, bigConfigMaps(2, 2))
	for _, r := range []*release.Release{small, split} {
		if err := store.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
		r.Status = release.StatusDeployed
		if err := store.Update(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if n := gets.Load(); n != 0 {
		t.Errorf("updates of revisions this store wrote read them first: %d GETs", n)
	}

	// Someone else changes revision 1: the update reads it again and still lands.
	sec, err := f.client.CoreV1().Secrets(f.ns).Get(ctx, "ferry.release.v1.shop.v1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sec.Annotations = map[string]string{"touched": "by hand"}
	if _, err := f.client.CoreV1().Secrets(f.ns).Update(ctx, sec, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	small.Status = release.StatusSuperseded
	if err := store.Update(ctx, small); err != nil {
		t.Fatalf("update after a change by someone else: %v", err)
	}
	if n := gets.Load(); n != 1 {
		t.Errorf("an update over a changed Secret read it %d times, want once", n)
	}

	h := f.list()
	if len(h) != 2 || h[0].Status != release.StatusSuperseded || h[1].Status != release.StatusDeployed {
		t.Fatalf("read back %s", statusesOf(h))
	}
	sameManifests(t, h[0].Manifests, small.Manifests)
	sameManifests(t, h[1].Manifests, split.Manifests)
	if len(f.parts(2)) < 2 {
		t.Fatalf("revision 2 should be split, has %d parts", len(f.parts(2)))
	}
}

func statusesOf(h []*release.Release) string {
	var out []string
	for _, r := range h {
		out = append(out, fmt.Sprintf("%d:%s", r.Revision, r.Status))
	}
	return strings.Join(out, " ")
}
