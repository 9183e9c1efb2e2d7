package deploy

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"ferry.dev/ferry/internal/lint"
	"ferry.dev/ferry/internal/traffic/proxy"
)

// TestChartCRDsAreTheGeneratedOnes: crds/ holds exactly config/crd's YAML, which
// `make generate` writes from api/v1alpha1 and `ferry controller` tests install.
func TestChartCRDsAreTheGeneratedOnes(t *testing.T) {
	generated, err := filepath.Glob(filepath.Join("..", "config", "crd", "*.yaml"))
	if err != nil || len(generated) == 0 {
		t.Fatalf("no CRDs in config/crd (%v)", err)
	}
	inChart, err := filepath.Glob(filepath.Join(chartDir, "crds", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	names := func(paths []string) []string {
		var out []string
		for _, p := range paths {
			out = append(out, filepath.Base(p))
		}
		return out
	}
	if !slices.Equal(names(generated), names(inChart)) {
		t.Fatalf("the chart's crds/ holds %v, config/crd %v: cp config/crd/*.yaml %s/crds/", names(inChart), names(generated), chartDir)
	}
	for _, g := range generated {
		want, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(chartDir, "crds", filepath.Base(g)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s/crds/%s differs from config/crd: cp config/crd/*.yaml %s/crds/", chartDir, filepath.Base(g), chartDir)
		}
	}
}

func deploymentOf(t *testing.T, objs []*unstructured.Unstructured, name string) *appsv1.Deployment {
	t.Helper()
	u := byName(objs)["Deployment/"+name]
	if u == nil {
		t.Fatalf("no Deployment %s", name)
	}
	var d appsv1.Deployment
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

// checkRestricted checks the pod against the restricted Pod Security Standard as
// the chart promises it, field by field (the lint rules check the same independently).
func checkRestricted(t *testing.T, spec corev1.PodSpec) {
	t.Helper()
	psc := spec.SecurityContext
	if psc == nil || !ptr.Deref(psc.RunAsNonRoot, false) || ptr.Deref(psc.RunAsUser, 0) != 65532 ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod security context %+v", psc)
	}
	for _, c := range spec.Containers {
		sc := c.SecurityContext
		if sc == nil || ptr.Deref(sc.AllowPrivilegeEscalation, true) || !ptr.Deref(sc.ReadOnlyRootFilesystem, false) ||
			sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
			t.Errorf("container %s: security context %+v", c.Name, sc)
		}
	}
}

// TestChartRenders renders the default, full and one-namespace values and checks
// what the chart promises about each object.
func TestChartRenders(t *testing.T) {
	for _, tc := range renderCases {
		t.Run(tc.name, func(t *testing.T) {
			objs := tc.render(t, "ferry-system")
			d := deploymentOf(t, objs, "ferry-controller")
			c := d.Spec.Template.Spec.Containers[0]
			if tc.name == "default" && ptr.Deref(d.Spec.Replicas, 0) != 2 {
				t.Errorf("%d controller replicas, want 2", ptr.Deref(d.Spec.Replicas, 0))
			}
			if !slices.Contains(c.Args, "--leader-elect") || !slices.Contains(c.Args, "--leader-election-namespace=ferry-system") || c.Args[0] != "controller" {
				t.Errorf("controller args %q", c.Args)
			}
			if tc.watchOwn != slices.Contains(c.Args, "--namespace=ferry-system") {
				t.Errorf("controller args %q (one namespace: %t)", c.Args, tc.watchOwn)
			}
			if tc.name == "default" && c.Image != "ghcr.io/ferry-dev/ferry:0.1.0" {
				t.Errorf("image %s, want make image's ghcr.io/ferry-dev/ferry:<appVersion>", c.Image)
			}
			for _, p := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe} {
				if p == nil || p.HTTPGet == nil || p.HTTPGet.Port.String() != "health" {
					t.Errorf("probe %+v is not on the health port", p)
				}
			}
			if len(c.Resources.Requests) == 0 || c.Resources.Limits.Memory().IsZero() {
				t.Errorf("resources %+v", c.Resources)
			}
			checkRestricted(t, d.Spec.Template.Spec)
			if byName(objs)["Deployment/ferry-proxy"] != nil {
				checkProxy(t, objs)
			}
		})
	}
}

// checkProxy checks the proxy fleet: its Service's admin port, its config (which
// the proxy itself must accept) and the token it reads from the Secret.
func checkProxy(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	objects := byName(objs)
	d := deploymentOf(t, objs, "ferry-proxy")
	if ptr.Deref(d.Spec.Replicas, 0) != 4 || d.Spec.Template.Spec.Containers[0].Args[0] != "proxy" {
		t.Errorf("proxy replicas %d, args %q", ptr.Deref(d.Spec.Replicas, 0), d.Spec.Template.Spec.Containers[0].Args)
	}
	checkRestricted(t, d.Spec.Template.Spec)
	ports, _, _ := unstructured.NestedSlice(objects["Service/ferry-proxy"].Object, "spec", "ports")
	var names []string
	for _, p := range ports {
		names = append(names, p.(map[string]any)["name"].(string))
	}
	if !slices.Contains(names, "admin") {
		t.Errorf("the proxy Service's ports are %v, want one named admin", names)
	}
	data, _, _ := unstructured.NestedString(objects["ConfigMap/ferry-proxy"].Object, "data", "proxy.yaml")
	cfg, err := proxy.ParseConfig([]byte(data))
	if err != nil {
		t.Fatalf("the proxy refuses the rendered config: %v\n%s", err, data)
	}
	if cfg.Listen != ":8080" || cfg.Admin.Listen != ":9090" || len(cfg.Backends.Legacy.Servers) != 2 || cfg.Weights.Kubernetes.BasisPoints != 500 {
		t.Errorf("rendered proxy config %+v", cfg)
	}
	encoded, _, _ := unstructured.NestedString(objects["Secret/ferry-proxy-admin"].Object, "data", "token")
	token, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil || string(token) != "a-test-token-of-some-length" {
		t.Fatalf("admin token %q (%v)", token, err)
	}
	// The token file as the pod mounts it: the proxy starts with it.
	cfg.Admin.TokenFile = filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(cfg.Admin.TokenFile, token, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := proxy.New(cfg); err != nil {
		t.Errorf("the proxy does not start with the rendered config and token: %v", err)
	}
}

// TestChartPassesLint: the chart ferry ships passes ferry lint, pod-security rules
// included, with every set of values: not one finding.
func TestChartPassesLint(t *testing.T) {
	for _, tc := range renderCases {
		t.Run(tc.name, func(t *testing.T) {
			objs := tc.render(t, "ferry-system")
			r, err := lint.Run(objs, lint.Config{Namespace: "ferry-system"})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range r.Findings {
				t.Errorf("%s %s %s: %s", f.Rule, f.Object, f.Field, f.Message)
			}
		})
	}
}

// TestBadValuesFailWithTheSchemasMessage: values.schema.json stops wrong values at
// install, naming the value and what is wrong with it.
func TestBadValuesFailWithTheSchemasMessage(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  []string
		want []string
	}{
		{"no controller", []string{"controller.replicas=0"}, []string{"/controller/replicas", "minimum"}},
		{"misspelt key", []string{"controller.replica=3"}, []string{"/controller", "additional properties 'replica' not allowed"}},
		{"pull policy", []string{"image.pullPolicy=Sometimes"}, []string{"/image/pullPolicy", "IfNotPresent"}},
		{"port as text", []string{"controller.healthPort=health"}, []string{"/controller/healthPort", "want integer"}},
		{"port out of range", []string{"proxy.adminPort=70000"}, []string{"/proxy/adminPort", "maximum"}},
		{"service type", []string{"dashboard.service.type=Internal"}, []string{"/dashboard/service/type", "LoadBalancer"}},
		{"proxy without backends", []string{"proxy.enabled=true"}, []string{"/proxy/config/backends/legacy/servers", "minItems"}},
		{"proxy listener", []string{"proxy.config.listen=:80"}, []string{"/proxy/config", "not"}},
		{"budget", []string{"controller.podDisruptionBudget.maxUnavailable=half"}, []string{"/controller/podDisruptionBudget/maxUnavailable"}},
		{"digest", []string{"image.digest=latest"}, []string{"/image/digest", "does not match pattern"}},
		{"namespace", []string{"controller.namespace=Shop_1"}, []string{"/controller/namespace", "does not match pattern"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := renderChart(t, "ferry", "ferry-system", valuesOf(t, nil, tc.set))
			if err == nil {
				t.Fatalf("--set %s installs", strings.Join(tc.set, ","))
			}
			msg := err.Error()
			if !strings.Contains(msg, "values don't meet the specifications of the schema") {
				t.Errorf("not the schema's message: %s", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("the message lacks %q:\n%s", w, msg)
				}
			}
		})
	}
}

// TestChartRBACIsTheGeneratedRole: what the chart grants the controller — its
// ClusterRole and the leader-election Role — is exactly config/rbac/role.yaml, and
// what it grants the dashboard exactly config/rbac/dashboard/role.yaml, which `make
// generate` writes from the RBAC markers: nothing more, nothing less.
func TestChartRBACIsTheGeneratedRole(t *testing.T) {
	generated := func(path string) []string {
		data, err := os.ReadFile(filepath.Join("..", "config", "rbac", path))
		if err != nil {
			t.Fatal(err)
		}
		var r rbacv1.ClusterRole
		if err := yaml.Unmarshal(data, &r); err != nil {
			t.Fatal(err)
		}
		return permissions(r.Rules)
	}
	objs, err := renderChart(t, "ferry", "ferry-system", valuesOf(t, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	var controller, dashboard []rbacv1.PolicyRule
	for _, o := range objs {
		if o.GetKind() != "ClusterRole" && o.GetKind() != "Role" {
			continue
		}
		var r rbacv1.ClusterRole // a Role's rules have the same shape
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &r); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(o.GetName(), "-dashboard") {
			dashboard = append(dashboard, r.Rules...)
		} else {
			controller = append(controller, r.Rules...)
		}
	}
	for _, c := range []struct {
		what      string
		got, want []string
	}{
		{"the controller", permissions(controller), generated("role.yaml")},
		{"the dashboard", permissions(dashboard), generated(filepath.Join("dashboard", "role.yaml"))},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("the chart grants %s\n%s\nthe generated role\n%s", c.what, strings.Join(c.got, "\n"), strings.Join(c.want, "\n"))
		}
	}
}

// permissions flattens rules to sorted group/resource:verb lines.
func permissions(rules []rbacv1.PolicyRule) []string {
	var out []string
	for _, r := range rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					out = append(out, g+"/"+res+":"+v)
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
