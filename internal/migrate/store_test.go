package migrate_test

import (
	"os"
	"path/filepath"
	"testing"

	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/migrate/migratetest"
)

func newFileStore(t *testing.T) migrate.Store {
	return &migrate.FileStore{Path: filepath.Join(t.TempDir(), ".ferry", "migration-shop.json")}
}

func TestFileStore(t *testing.T) {
	migratetest.TestStore(t, newFileStore)
}

func TestFileStoreReplacesUnreadable(t *testing.T) {
	migratetest.TestStoreReplacesUnreadable(t, newFileStore, func(t *testing.T, s migrate.Store) {
		path := s.(*migrate.FileStore).Path
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data[:len(data)/2], 0o600); err != nil { // a write cut short
			t.Fatal(err)
		}
	})
}
