package deploy

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"ferry.dev/ferry/internal/render"
)

// chartDir is the chart under test.
const chartDir = "charts/ferry"

// valuesOf merges value files and --set style assignments as helm install does.
func valuesOf(t *testing.T, files []string, set []string) map[string]any {
	t.Helper()
	opts := values.Options{ValueFiles: files, Values: set}
	vals, err := opts.MergeValues(getter.Providers{})
	if err != nil {
		t.Fatal(err)
	}
	return vals
}

// renderChart renders the chart as `helm install --dry-run` does without a cluster,
// CRDs included; the error is Helm's, schema failures included.
func renderChart(t *testing.T, release, namespace string, vals map[string]any) ([]*unstructured.Unstructured, error) {
	t.Helper()
	chart, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	install := action.NewInstall(&action.Configuration{})
	install.DryRun, install.ClientOnly, install.IncludeCRDs = true, true, true
	install.ReleaseName, install.Namespace = release, namespace
	rel, err := install.Run(chart, vals)
	if err != nil {
		return nil, err
	}
	objs, err := render.Decode([]byte(rel.Manifest))
	if err != nil {
		t.Fatalf("the rendered chart does not decode: %v", err)
	}
	return objs, nil
}

// byName indexes objects by kind/name.
func byName(objs []*unstructured.Unstructured) map[string]*unstructured.Unstructured {
	out := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		out[o.GetKind()+"/"+o.GetName()] = o
	}
	return out
}

// renderCase is one set of values the chart must render.
type renderCase struct {
	name string
	// files and set are the values, as -f and --set give them.
	files, set []string
	// watchOwn sets controller.namespace to the release's namespace.
	watchOwn bool
	// want are kind/name of objects that must be there, not those that must not.
	want, not []string
}

var renderCases = []renderCase{
	{
		name: "default",
		want: []string{
			"CustomResourceDefinition/migrations.ferry.dev", "ServiceAccount/ferry", "ClusterRole/ferry-controller",
			"ClusterRoleBinding/ferry-controller", "Role/ferry-leader-election", "RoleBinding/ferry-leader-election",
			"Deployment/ferry-controller", "PodDisruptionBudget/ferry-controller", "Service/ferry-dashboard",
			"Service/ferry-controller-metrics",
		},
		not: []string{"Deployment/ferry-proxy", "ServiceMonitor/ferry", "Role/ferry-controller"},
	},
	{
		name:  "full",
		files: []string{filepath.Join("testdata", "full-values.yaml")},
		want: []string{
			"Deployment/ferry-controller", "Deployment/ferry-proxy", "Service/ferry-proxy", "Secret/ferry-proxy-admin",
			"ConfigMap/ferry-proxy", "PodDisruptionBudget/ferry-proxy", "ServiceMonitor/ferry", "ClusterRole/ferry-controller",
		},
	},
	{
		name:     "one namespace",
		set:      []string{"dashboard.service.enabled=false"},
		watchOwn: true,
		want:     []string{"Role/ferry-controller", "RoleBinding/ferry-controller", "Role/ferry-leader-election"},
		not:      []string{"ClusterRole/ferry-controller", "ClusterRoleBinding/ferry-controller", "Service/ferry-dashboard"},
	},
}

// render renders a case as release "ferry" in namespace, failing the test on errors,
// and checks the objects it must and must not have.
func (tc renderCase) render(t *testing.T, namespace string) []*unstructured.Unstructured {
	t.Helper()
	set := tc.set
	if tc.watchOwn {
		set = append(slices.Clip(set), "controller.namespace="+namespace)
	}
	objs, err := renderChart(t, "ferry", namespace, valuesOf(t, tc.files, set))
	if err != nil {
		t.Fatal(err)
	}
	got := byName(objs)
	for _, w := range tc.want {
		if got[w] == nil {
			t.Errorf("no %s among %s", w, strings.Join(keys(got), ", "))
		}
	}
	for _, n := range tc.not {
		if got[n] != nil {
			t.Errorf("%s rendered", n)
		}
	}
	return objs
}

func keys(m map[string]*unstructured.Unstructured) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
