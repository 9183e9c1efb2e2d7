package schema

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// envUpdate rewrites docs/schemas: FERRY_UPDATE_GOLDEN=1 go test ./internal/schema.
const envUpdate = "FERRY_UPDATE_GOLDEN"

var repoRoot = filepath.Join("..", "..")

// TestCheckedInSchemasAreCurrent fails when a type changed and docs/schemas was not
// generated again.
func TestCheckedInSchemasAreCurrent(t *testing.T) {
	generated, err := Generate(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range Documents {
		path := filepath.Join(repoRoot, "docs", "schemas", d.File)
		if os.Getenv(envUpdate) != "" {
			if err := os.WriteFile(path, generated[d.File], 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		have, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v: run %s=1 go test ./internal/schema", err, envUpdate)
		}
		if !bytes.Equal(have, generated[d.File]) {
			t.Errorf("%s is stale: run %s=1 go test ./internal/schema", path, envUpdate)
		}
	}
}
