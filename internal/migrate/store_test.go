package migrate_test

import (
	"path/filepath"
	"testing"

	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/migrate/migratetest"
)

func TestFileStore(t *testing.T) {
	migratetest.TestStore(t, func(t *testing.T) migrate.Store {
		return &migrate.FileStore{Path: filepath.Join(t.TempDir(), ".ferry", "migration-shop.json")}
	})
}
