package release_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"ferry.dev/ferry/internal/app"
	"ferry.dev/ferry/internal/devcluster/devclustertest"
	"ferry.dev/ferry/internal/kube"
	"ferry.dev/ferry/internal/release"
)

func TestMain(m *testing.M) { devclustertest.Main(m) }

// fixture is one app in its own namespace, its manifests in a temporary copy of
// testdata/app that a test may edit between deploys.
type fixture struct {
	t        *testing.T
	dir      string
	client   *kube.Client
	ns       string
	progress bytes.Buffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	client, err := kube.NewForConfig(devclustertest.RESTConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, dir: t.TempDir(), client: client}
	copyDir(t, "testdata/app", f.dir)
	f.ns = devclustertest.Namespace(t, client.Clientset, "release-test")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("progress:\n%s", f.progress.String())
		}
	})
	return f
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// edit rewrites a manifest file, replacing old with new.
func (f *fixture) edit(file, old, new string) {
	f.t.Helper()
	path := filepath.Join(f.dir, "k8s", file)
	data, err := os.ReadFile(path)
	if err != nil {
		f.t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		f.t.Fatalf("%s does not contain %q", file, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) config() release.Config {
	f.t.Helper()
	def, err := app.Load(filepath.Join(f.dir, "ferry.yaml"))
	if err != nil {
		f.t.Fatal(err)
	}
	def.Namespace = f.ns
	return release.Config{Client: f.client, Def: def, Progress: &f.progress, User: "test"}
}

func (f *fixture) deploy(image string, opts ...func(*release.DeployOptions)) (*release.Result, error) {
	o := release.DeployOptions{Image: image}
	for _, fn := range opts {
		fn(&o)
	}
	return release.Deploy(context.Background(), f.config(), o)
}

func (f *fixture) mustDeploy(image string) *release.Result {
	f.t.Helper()
	res, err := f.deploy(image)
	if err != nil {
		f.t.Fatalf("deploy %s: %v", image, err)
	}
	return res
}

func (f *fixture) history() []release.Summary {
	f.t.Helper()
	h, err := release.History(context.Background(), f.config())
	if err != nil {
		f.t.Fatal(err)
	}
	return h
}

// revision returns the recorded release with its manifests.
func (f *fixture) revision(n int) *release.Release {
	f.t.Helper()
	store := &release.SecretStore{Client: f.client.Clientset, Namespace: f.ns}
	all, err := store.List(context.Background(), "shop")
	if err != nil {
		f.t.Fatal(err)
	}
	for _, r := range all {
		if r.Revision == n {
			return r
		}
	}
	f.t.Fatalf("revision %d not recorded", n)
	return nil
}

// ownedKinds are the kinds of the fixture's manifests.
var ownedKinds = []schema.GroupVersionResource{
	{Version: "v1", Resource: "configmaps"}, {Version: "v1", Resource: "services"},
	{Group: "apps", Version: "v1", Resource: "deployments"}, {Group: "batch", Version: "v1", Resource: "cronjobs"},
}

// assertLandedOn checks that the cluster holds exactly revision n's objects: the same
// set of ferry-owned objects, each containing every field the manifest sets, and the
// Deployment fully rolled out.
func (f *fixture) assertLandedOn(n int) {
	f.t.Helper()
	ctx := context.Background()
	rev := f.revision(n)
	want := map[string]*unstructured.Unstructured{}
	for _, obj := range rev.Manifests {
		want[obj.GetKind()+"/"+obj.GetName()] = obj
	}
	var got []string
	for _, gvr := range ownedKinds {
		list, err := f.client.Dynamic.Resource(gvr).Namespace(f.ns).List(ctx, metav1.ListOptions{LabelSelector: release.LabelApp + "=shop"})
		if err != nil {
			f.t.Fatal(err)
		}
		for i := range list.Items {
			live := &list.Items[i]
			key := live.GetKind() + "/" + live.GetName()
			got = append(got, key)
			if manifest, ok := want[key]; ok {
				if diff := subsetDiff(manifest.Object, live.Object, ""); diff != "" {
					f.t.Errorf("%s differs from revision %d: %s", key, n, diff)
				}
			}
		}
	}
	var wantKeys []string
	for k := range want {
		wantKeys = append(wantKeys, k)
	}
	sort.Strings(got)
	sort.Strings(wantKeys)
	if !reflect.DeepEqual(got, wantKeys) {
		f.t.Errorf("live objects %v, want exactly revision %d's %v", got, n, wantKeys)
	}
	d, err := f.client.Clientset.AppsV1().Deployments(f.ns).Get(ctx, "web", metav1.GetOptions{})
	if err == nil && (d.Status.UpdatedReplicas != *d.Spec.Replicas || d.Status.Replicas != *d.Spec.Replicas || d.Status.AvailableReplicas != *d.Spec.Replicas) {
		f.t.Errorf("deployment not rolled out: %+v", d.Status)
	}
}

// subsetDiff describes the first field of want that live lacks or holds differently.
func subsetDiff(want, live any, path string) string {
	switch w := want.(type) {
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: live is %T", path, live)
		}
		for k, v := range w {
			if d := subsetDiff(v, l[k], path+"."+k); d != "" {
				return d
			}
		}
	case []any:
		l, ok := live.([]any)
		if !ok || len(l) != len(w) {
			return fmt.Sprintf("%s: live %v, want %v", path, live, want)
		}
		for i := range w {
			if d := subsetDiff(w[i], l[i], fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
	default:
		if fmt.Sprint(want) != fmt.Sprint(live) {
			return fmt.Sprintf("%s: live %v, want %v", path, live, want)
		}
	}
	return ""
}

func statuses(h []release.Summary) string {
	var out []string
	for _, r := range h {
		out = append(out, fmt.Sprintf("%d:%s", r.Revision, r.Status))
	}
	return strings.Join(out, " ")
}
