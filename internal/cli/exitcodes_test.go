package cli

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// exitCodeRow is one exit code and what it means, as the README's table shows it.
type exitCodeRow struct {
	code  int
	means string
}

// TestREADMEExitCodesMatchTheCode keeps the README's "Exit codes" table and the
// constants in exitcodes.go the same table: same codes, same order, and each row's
// text the words after "means" in the constant's comment.
func TestREADMEExitCodesMatchTheCode(t *testing.T) {
	code := exitCodesInSource(t, "exitcodes.go")
	readme := exitCodesInREADME(t, filepath.Join("..", "..", "README.md"))
	if len(code) == 0 || len(readme) == 0 {
		t.Fatalf("exitcodes.go has %d codes, the README %d: both must list them", len(code), len(readme))
	}
	for i := 0; i < len(code) || i < len(readme); i++ {
		var c, r exitCodeRow
		if i < len(code) {
			c = code[i]
		}
		if i < len(readme) {
			r = readme[i]
		}
		if c != r {
			t.Errorf("row %d:\n  exitcodes.go: %d %q\n  README.md:    %d %q", i+1, c.code, c.means, r.code, r.means)
		}
	}
}

// TestExitCodesAreDeclaredInOneFile fails when another file of the package declares an
// Exit… constant, which would not be in the README's table.
func TestExitCodesAreDeclaredInOneFile(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f == "exitcodes.go" || strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range constNames(file) {
			if strings.HasPrefix(name, "Exit") {
				t.Errorf("%s declares %s: exit codes belong in exitcodes.go", f, name)
			}
		}
	}
}

// exitCodesInSource reads the Exit… constants of path with their values and comments.
func exitCodesInSource(t *testing.T, path string) []exitCodeRow {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var rows []exitCodeRow
	for _, decl := range file.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			name := vs.Names[0].Name
			if !strings.HasPrefix(name, "Exit") {
				continue
			}
			if len(vs.Names) != 1 || len(vs.Values) != 1 {
				t.Fatalf("%s: declare one exit code per line, as a number", name)
			}
			lit, ok := vs.Values[0].(*ast.BasicLit)
			if !ok {
				t.Fatalf("%s: declare one exit code per line, as a number", name)
			}
			n, err := strconv.Atoi(lit.Value)
			if err != nil {
				t.Fatalf("%s = %s: %v", name, lit.Value, err)
			}
			doc := strings.Join(strings.Fields(vs.Doc.Text()), " ")
			means, ok := strings.CutPrefix(doc, name+" means ")
			if !ok {
				t.Fatalf("%s: its comment must read %q, not %q", name, name+" means …", doc)
			}
			rows = append(rows, exitCodeRow{n, strings.TrimSuffix(means, ".")})
		}
	}
	return rows
}

// exitCodesInREADME reads the table under the "### Exit codes" heading of path.
func exitCodesInREADME(t *testing.T, path string) []exitCodeRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []exitCodeRow
	inSection, inTable := false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "#"):
			if inSection {
				return rows
			}
			inSection = line == "### Exit codes"
		case !inSection:
		case strings.HasPrefix(line, "|"):
			inTable = true
			cells := strings.Split(strings.Trim(line, "|"), " | ")
			if len(cells) != 2 {
				t.Fatalf("README exit code row %q: want two cells", line)
			}
			n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(cells[0]), "`"))
			if err != nil {
				continue // the header and the separator
			}
			rows = append(rows, exitCodeRow{n, strings.TrimSpace(cells[1])})
		case inTable:
			return rows
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

func constNames(file *ast.File) []string {
	var names []string
	for _, decl := range file.Decls {
		if gd, ok := decl.(*ast.GenDecl); ok && gd.Tok == token.CONST {
			for _, spec := range gd.Specs {
				for _, n := range spec.(*ast.ValueSpec).Names {
					names = append(names, n.Name)
				}
			}
		}
	}
	return names
}
