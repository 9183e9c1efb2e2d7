package gatewaytest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
	"sigs.k8s.io/yaml"

	"ferry.dev/ferry/internal/kube"
)

// Module is the module whose CRDs are installed; its version is the one go.mod pins.
const Module = "sigs.k8s.io/gateway-api"

// CRDs are the standard channel's CRDs a router test needs.
var CRDs = []string{"gateway.networking.k8s.io_gatewayclasses.yaml", "gateway.networking.k8s.io_gateways.yaml", "gateway.networking.k8s.io_httproutes.yaml"}

// InstallCRDs server-side applies the CRDs to the cluster (again is harmless) and waits
// until the API server serves HTTPRoutes.
func InstallCRDs(tb testing.TB, cfg *rest.Config) {
	tb.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", Module).Output()
	if err != nil {
		tb.Fatalf("find the %s module: %v", Module, err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "standard")
	client, err := kube.NewForConfig(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	for _, name := range CRDs {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			tb.Fatal(err)
		}
		var obj unstructured.Unstructured
		if err := yaml.Unmarshal(data, &obj.Object); err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		if _, err := client.Apply(ctx, &obj, false); err != nil {
			tb.Fatalf("install %s: %v", name, err)
		}
	}
	gw, err := gatewayclient.NewForConfig(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := gw.GatewayV1().HTTPRoutes("default").List(ctx, metav1.ListOptions{Limit: 1})
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("HTTPRoutes not served 30s after installing the CRDs: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
