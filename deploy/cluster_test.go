package deploy

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	helmcli "helm.sh/helm/v3/pkg/cli"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensions "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"ferry.dev/ferry/config/crd"
	"ferry.dev/ferry/internal/cli/clitest"
	"ferry.dev/ferry/internal/devcluster/devclustertest"
	"ferry.dev/ferry/internal/kube"
	"ferry.dev/ferry/internal/render"
)

// installCRDs installs ferry's CRDs and the ServiceMonitor stand-in, so that every
// object the chart renders has its kind served.
func installCRDs(t *testing.T, rc *rest.Config) {
	t.Helper()
	ctx := context.Background()
	if err := crd.Install(ctx, rc); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("testdata", "servicemonitor-crd.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var sm apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(data, &sm); err != nil {
		t.Fatal(err)
	}
	client, err := apiextensions.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	crds := client.ApiextensionsV1().CustomResourceDefinitions()
	// A real Prometheus Operator CRD, if one is installed, stays.
	if _, err := crds.Create(ctx, &sm, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	devclustertest.WaitFor(t, 30*time.Second, "the ServiceMonitor CRD to be established", func(ctx context.Context) (bool, error) {
		c, err := crds.Get(ctx, sm.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, cond := range c.Status.Conditions {
			if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
}

// warningLog collects the warnings the API server sends with its answers, such as
// the Pod Security admission's "would violate PodSecurity".
type warningLog struct {
	mu    sync.Mutex
	texts []string
}

func (w *warningLog) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.texts = append(w.texts, text)
}

// take returns the warnings so far and forgets them.
func (w *warningLog) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.texts
	w.texts = nil
	return out
}

// restricted labels the namespace so that the API server's own Pod Security
// admission enforces the restricted level on its pods and warns of workloads that
// break it: an oracle independent of ferry lint's rules.
func restricted(t *testing.T, cs kubernetes.Interface, ns string) {
	t.Helper()
	patch := `{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"restricted","pod-security.kubernetes.io/warn":"restricted"}}}`
	if _, err := cs.CoreV1().Namespaces().Patch(context.Background(), ns, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestChartPassesServerSideDryRun: every object of every set of values is one the
// API server accepts (server-side apply, dryRun=All), CRDs installed first, in a
// namespace at the restricted Pod Security level, without a warning.
func TestChartPassesServerSideDryRun(t *testing.T) {
	rc := devclustertest.RESTConfig(t)
	installCRDs(t, rc)
	warnings := &warningLog{}
	rc.WarningHandlerWithContext = warnings
	kc, err := kube.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range renderCases {
		t.Run(tc.name, func(t *testing.T) {
			ns := devclustertest.Namespace(t, kc.Clientset, "chart")
			restricted(t, kc.Clientset, ns)
			objs := tc.render(t, ns)
			kube.SortForApply(objs)
			warnings.take()
			for _, o := range objs {
				if _, err := kc.Apply(context.Background(), o, true); err != nil {
					t.Errorf("server-side dry run: %v", err)
				}
			}
			for _, w := range warnings.take() {
				t.Errorf("the API server warns: %s", w)
			}
		})
	}
}

// TestPodSecurityRulesAgreeWithTheAPIServer holds ferry lint's pod-security rules
// to the API server's Pod Security admission: what a rule's bad fixtures hold draws
// a "would violate PodSecurity" warning at the restricted level, what its good ones
// hold draws none. FERRY-PSS-008 (read-only root) is no part of the standard.
func TestPodSecurityRulesAgreeWithTheAPIServer(t *testing.T) {
	rc := devclustertest.RESTConfig(t)
	warnings := &warningLog{}
	rc.WarningHandlerWithContext = warnings
	kc, err := kube.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	ns := devclustertest.Namespace(t, kc.Clientset, "pss")
	restricted(t, kc.Clientset, ns)
	fixtures, err := filepath.Glob(filepath.Join("..", "internal", "lint", "testdata", "rules", "FERRY-PSS-00[1-7]", "*", "*.yaml"))
	if err != nil || len(fixtures) == 0 {
		t.Fatalf("no pod-security fixtures (%v)", err)
	}
	for _, file := range fixtures {
		rel, _ := filepath.Rel(filepath.Join("..", "internal", "lint", "testdata", "rules"), file)
		t.Run(rel, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			objs, err := render.Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			warnings.take()
			for _, o := range objs {
				o.SetNamespace(ns)
				if _, err := kc.Apply(context.Background(), o, true); err != nil {
					t.Fatalf("server-side dry run: %v", err)
				}
			}
			var violations []string
			for _, w := range warnings.take() {
				if strings.Contains(w, "would violate PodSecurity") {
					violations = append(violations, w)
				}
			}
			bad := filepath.Base(filepath.Dir(file)) == "bad"
			if bad && len(violations) == 0 {
				t.Errorf("ferry lint finds a violation the API server does not")
			}
			if !bad && len(violations) > 0 {
				t.Errorf("ferry lint passes what the API server warns of: %v", violations)
			}
		})
	}
}

// TestInstalledControllerBecomesReady installs the chart with Helm into the local
// control plane and checks what it made. Its kwok nodes only simulate pods, so the
// controller then runs out of cluster as the chart's ServiceAccount (a token from the
// TokenRequest API) with the args of the installed Deployment: it must win the
// Lease, sync its caches, and answer /readyz, which needs exactly the chart's RBAC.
func TestInstalledControllerBecomesReady(t *testing.T) {
	ctx := context.Background()
	rc := devclustertest.RESTConfig(t)
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	ns := devclustertest.Namespace(t, cs, "ferry-install")
	restricted(t, cs, ns) // the controller's pods are admitted only if they meet it
	release := ns         // unique, and it holds "ferry": the objects' names are the release's

	settings := helmcli.New()
	settings.KubeConfig = devclustertest.Kubeconfig(t)
	settings.SetNamespace(ns)
	cfg := new(action.Configuration)
	if err := cfg.Init(settings.RESTClientGetter(), ns, "secret", t.Logf); err != nil {
		t.Fatal(err)
	}
	chart, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	install := action.NewInstall(cfg)
	install.ReleaseName, install.Namespace = release, ns
	if _, err := install.Run(chart, map[string]any{}); err != nil {
		t.Fatalf("helm install: %v", err)
	}
	t.Cleanup(func() {
		if _, err := action.NewUninstall(cfg).Run(release); err != nil {
			t.Errorf("helm uninstall: %v", err)
		}
	})

	name := release + "-controller"
	d := devclustertest.WatchFor(t, time.Minute, "2 ready controller replicas", devclustertest.Named(cs.AppsV1().RESTClient(), "deployments", ns, name),
		func(d *appsv1.Deployment) bool { return d.Status.ReadyReplicas == 2 })
	for what, get := range map[string]func() error{
		"ServiceAccount": func() error {
			_, err := cs.CoreV1().ServiceAccounts(ns).Get(ctx, release, metav1.GetOptions{})
			return err
		},
		"ClusterRole": func() error { _, err := cs.RbacV1().ClusterRoles().Get(ctx, name, metav1.GetOptions{}); return err },
		"ClusterRoleBinding": func() error {
			_, err := cs.RbacV1().ClusterRoleBindings().Get(ctx, name, metav1.GetOptions{})
			return err
		},
		"PodDisruptionBudget": func() error {
			_, err := cs.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, name, metav1.GetOptions{})
			return err
		},
		"dashboard Service": func() error {
			_, err := cs.CoreV1().Services(ns).Get(ctx, release+"-dashboard", metav1.GetOptions{})
			return err
		},
		"CRD": func() error {
			_, err := apiextensions.NewForConfigOrDie(rc).ApiextensionsV1().CustomResourceDefinitions().Get(ctx, "migrations.ferry.dev", metav1.GetOptions{})
			return err
		},
	} {
		if err := get(); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}

	kubeconfig := serviceAccountKubeconfig(t, cs, rc, ns, d.Spec.Template.Spec.ServiceAccountName)
	health := freeAddress(t)
	var args []string
	for _, a := range d.Spec.Template.Spec.Containers[0].Args {
		switch {
		case strings.HasPrefix(a, "--health-addr="):
			a = "--health-addr=" + health
		case strings.HasPrefix(a, "--metrics-addr="):
			a = "--metrics-addr=0"
		case strings.HasPrefix(a, "--dashboard-addr="):
			a = "--dashboard-addr=" + freeAddress(t) // the pod's port may be taken here
		}
		args = append(args, a)
	}
	ctrl := clitest.Start(t, append(args, "--kubeconfig", kubeconfig)...)
	ctrl.WaitForLine(`"Successfully acquired lease"`)
	ctrl.WaitForLine("Starting workers")
	resp, err := http.Get("http://" + health + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz: %s %s", resp.Status, body)
	}
	lease, err := cs.CoordinationV1().Leases(ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(lease.Items) != 1 || ptr.Deref(lease.Items[0].Spec.HolderIdentity, "") == "" {
		t.Fatalf("leases in %s: %+v (%v)", ns, leaseNames(lease), err)
	}
	if strings.Contains(ctrl.Stderr(), "forbidden") {
		t.Errorf("the controller was refused something the chart's RBAC should allow:\n%s", ctrl.Stderr())
	}
}

func leaseNames(l *coordinationv1.LeaseList) []string {
	if l == nil {
		return nil
	}
	var out []string
	for _, x := range l.Items {
		out = append(out, x.Name)
	}
	return out
}

// serviceAccountKubeconfig writes a kubeconfig that reaches the cluster as the
// ServiceAccount, with a token from the TokenRequest API as a pod would get.
func serviceAccountKubeconfig(t *testing.T, cs kubernetes.Interface, rc *rest.Config, ns, sa string) string {
	t.Helper()
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(context.Background(), sa, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("token of %s/%s: %v", ns, sa, err)
	}
	ca := rc.CAData
	if len(ca) == 0 {
		if ca, err = os.ReadFile(rc.CAFile); err != nil {
			t.Fatal(err)
		}
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = &clientcmdapi.Cluster{Server: rc.Host, CertificateAuthorityData: ca}
	cfg.AuthInfos[sa] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	cfg.Contexts[sa] = &clientcmdapi.Context{Cluster: "test", AuthInfo: sa, Namespace: ns}
	cfg.CurrentContext = sa
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// freeAddress is a loopback address with a port nothing listens on.
func freeAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprintf("127.0.0.1:%d", l.Addr().(*net.TCPAddr).Port)
}
