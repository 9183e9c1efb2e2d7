package proxy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseConfig feeds the parser arbitrary bytes: it must never panic, every error
// must wrap ErrInvalidConfig and fit on one line, and every accepted config must be
// valid and keep its weights in range.
func FuzzParseConfig(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	bad, _ := filepath.Glob(filepath.Join("testdata", "bad", "*.yaml"))
	for _, name := range append(files, bad...) {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("error %v does not wrap ErrInvalidConfig", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		if err := c.validate(); err != nil {
			t.Fatalf("accepted config fails validation on a second look: %v", err)
		}
		w, err := c.Weights.resolve()
		if err != nil || w.Validate() != nil {
			t.Fatalf("accepted config has bad weights %+v: %v", w, err)
		}
		if len(c.Backends.Legacy.Servers) == 0 || len(c.Backends.Kubernetes.Servers) == 0 {
			t.Fatal("accepted config without servers")
		}
	})
}
