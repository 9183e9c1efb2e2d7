package controller_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"ferry.dev/ferry/api/v1alpha1"
)

// recordEnv names the directory a run records Migration statuses into, for the Argo CD
// health check's tests (deploy/argocd/testdata): FERRY_RECORD_STATUS=$PWD/deploy/argocd/testdata.
const recordEnv = "FERRY_RECORD_STATUS"

// recordStatus writes m, as the API server returned it, to <dir>/<name>.json when the
// run records statuses; otherwise it does nothing.
func recordStatus(t *testing.T, name string, m *v1alpha1.Migration) {
	t.Helper()
	dir := os.Getenv(recordEnv)
	if dir == "" {
		return
	}
	out := map[string]any{"apiVersion": "ferry.dev/v1alpha1", "kind": "Migration", "metadata": map[string]any{"name": m.Name}, "status": m.Status}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".json"), append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
