package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"ferry.dev/ferry/internal/devcluster/devclustertest"
)

func TestVersionClientOnly(t *testing.T) {
	code, stdout, stderr := run(t, "version", "--client", "-o", "yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var out versionOutput
	if err := yaml.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("output is not YAML: %v\n%s", err, stdout)
	}
	if out.Client.Version == "" || !strings.HasPrefix(out.Client.GoVersion, "go1.") || out.Server != nil {
		t.Errorf("unexpected version output %+v", out)
	}
}

func TestVersionReportsTheServer(t *testing.T) {
	code, stdout, stderr := run(t, "version", "-o", "json", "--kubeconfig", devclustertest.Kubeconfig(t))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var out versionOutput
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, stdout)
	}
	if out.Server == nil || out.Server.GitVersion != "v1.36.3" {
		t.Fatalf("server version %+v, want v1.36.3", out.Server)
	}
	code, stdout, _ = run(t, "version", "--kubeconfig", devclustertest.Kubeconfig(t))
	if code != 0 || !strings.Contains(stdout, "Server:") || !strings.Contains(stdout, "v1.36.3") {
		t.Fatalf("table output %q (exit %d)", stdout, code)
	}
}
