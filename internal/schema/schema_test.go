package schema

import (
	"path/filepath"
	"testing"

	"ferry.dev/ferry/internal/golden"
)

var repoRoot = filepath.Join("..", "..")

// TestCheckedInSchemasAreCurrent fails when a type changed and docs/schemas was not
// generated again.
func TestCheckedInSchemasAreCurrent(t *testing.T) {
	generated, err := Generate(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range Documents {
		golden.Check(t, filepath.Join(repoRoot, "docs", "schemas", d.File), string(generated[d.File]))
	}
}
