package proxy

import (
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoNameShadowsAStandardPackage: no top-level identifier of this package is named
// after a top-level standard package (runtime, errors, time…), which would hide the
// package from every file here and mislead readers.
func TestNoNameShadowsAStandardPackage(t *testing.T) {
	std := topLevelStdPackages(t)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range topLevelNames(f) {
			if std[id.Name] {
				t.Errorf("%s: %s shadows the standard package %q", fset.Position(id.Pos()), id.Name, id.Name)
			}
		}
	}
}

// topLevelStdPackages lists the packages directly under GOROOT/src.
func topLevelStdPackages(t *testing.T) map[string]bool {
	t.Helper()
	root := build.Default.GOROOT
	if root == "" { // a -trimpath test binary does not know where it was built from
		out, err := exec.Command("go", "env", "GOROOT").Output()
		if err != nil {
			t.Fatalf("go env GOROOT: %v", err)
		}
		root = strings.TrimSpace(string(out))
	}
	src := filepath.Join(root, "src")
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatalf("read the standard library's sources: %v", err)
	}
	std := map[string]bool{}
	for _, e := range entries {
		switch e.Name() {
		case "cmd", "internal", "vendor", "testdata":
			continue
		}
		if e.IsDir() {
			std[e.Name()] = true
		}
	}
	if !std["runtime"] || !std["errors"] {
		t.Fatalf("found no standard packages under %s", src)
	}
	return std
}

func topLevelNames(f *ast.File) []*ast.Ident {
	var out []*ast.Ident
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				out = append(out, d.Name)
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					out = append(out, s.Name)
				case *ast.ValueSpec:
					out = append(out, s.Names...)
				}
			}
		}
	}
	return out
}
