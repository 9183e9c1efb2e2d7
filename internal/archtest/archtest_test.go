package archtest

import (
	"bufio"
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const module = "ferry.dev/ferry/"

// documented reads the import table of docs/architecture.md: package → ferry imports.
func documented(t *testing.T, root string) map[string][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	row := regexp.MustCompile("^\\| `([^`]+)` \\| (.*) \\|$")
	name := regexp.MustCompile("`([^`]+)`")
	table := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := row.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		imports := []string{}
		for _, n := range name.FindAllStringSubmatch(m[2], -1) {
			imports = append(imports, n[1])
		}
		table[m[1]] = imports
	}
	return table
}

// actual reads every package of the module: package → ferry imports of its non-test
// files.
func actual(t *testing.T, root string) map[string][]string {
	t.Helper()
	graph := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "hack" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		dir := filepath.Dir(path)
		rel, _ := filepath.Rel(root, dir)
		if _, seen := graph[rel]; seen {
			return nil
		}
		pkg, err := build.ImportDir(dir, 0)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		imports := []string{}
		for _, imp := range pkg.Imports {
			if strings.HasPrefix(imp, module) {
				imports = append(imports, strings.TrimPrefix(imp, module))
			}
		}
		slices.Sort(imports)
		graph[rel] = imports
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return graph
}

func TestArchitectureDocumentMatchesTheImportGraph(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	doc, code := documented(t, root), actual(t, root)
	if len(doc) == 0 {
		t.Fatal("docs/architecture.md has no import table")
	}
	for pkg, imports := range code {
		want, ok := doc[pkg]
		if !ok {
			t.Errorf("package %s is missing from docs/architecture.md's import table (it imports %v)", pkg, imports)
			continue
		}
		slices.Sort(want)
		if !slices.Equal(want, imports) {
			t.Errorf("%s imports %v, docs/architecture.md says %v", pkg, imports, want)
		}
	}
	for pkg := range doc {
		if _, ok := code[pkg]; !ok {
			t.Errorf("docs/architecture.md lists %s, which is not a package", pkg)
		}
	}
	for pkg, imports := range code {
		if slices.Contains(imports, "internal/archtest") {
			t.Errorf("%s imports internal/archtest", pkg)
		}
	}
}

// The graph has no arrow back: no package reaches internal/cli or cmd/ferry but the
// binary's main, and the leaves import no ferry package.
func TestNoArrowRunsBackUp(t *testing.T) {
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	code := actual(t, root)
	for pkg, imports := range code {
		for _, imp := range imports {
			if imp == "internal/cli" && pkg != "cmd/ferry" {
				t.Errorf("%s imports internal/cli: only cmd/ferry may", pkg)
			}
		}
	}
	for _, leaf := range []string{"internal/analysis", "internal/atomicfile", "internal/baseline", "internal/cronexpr", "internal/health", "internal/redact", "internal/strictyaml", "internal/traffic", "internal/version"} {
		if imports := code[leaf]; len(imports) > 0 {
			t.Errorf("%s is a leaf but imports %v", leaf, imports)
		}
	}
}

// Every package says in a doc.go what it is for.
func TestEveryPackageHasADocFile(t *testing.T) {
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	for pkg := range actual(t, root) {
		data, err := os.ReadFile(filepath.Join(root, pkg, "doc.go"))
		if err != nil {
			t.Errorf("%s has no doc.go", pkg)
			continue
		}
		if !regexp.MustCompile(`(?m)^// (Package|Command) `).Match(data) {
			t.Errorf("%s/doc.go has no package comment", pkg)
		}
	}
}
