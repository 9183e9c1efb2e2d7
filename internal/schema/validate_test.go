package schema

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	jsonschema "github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"

	"ferry.dev/ferry/internal/app"
	"ferry.dev/ferry/internal/plan"
	"ferry.dev/ferry/internal/traffic/proxy"
)

// compile compiles the checked-in schema file.
func compile(t *testing.T, file string) *jsonschema.Schema {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "docs", "schemas", file))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(file, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(file)
	if err != nil {
		t.Fatalf("%s does not compile: %v", file, err)
	}
	return s
}

// validate checks a YAML file against s.
func validate(s *jsonschema.Schema, data []byte) error {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		return err
	}
	return s.Validate(inst)
}

// kinds are the file kinds, how to find their files in the repository, and ferry's
// own reading of them.
var kinds = []struct {
	schema string
	// match picks the kind's files by their path relative to the repository's root.
	match func(rel string) bool
	load  func(data []byte, dir string) error
}{
	{"ferry.schema.json", func(rel string) bool { return filepath.Base(rel) == "ferry.yaml" },
		func(data []byte, dir string) error { _, err := app.Parse(data, dir); return err }},
	{"migration.schema.json", func(rel string) bool {
		return filepath.Base(rel) == "migration.yaml" || strings.HasPrefix(rel, filepath.Join("internal", "cli", "testdata", "cluster-plans")+string(filepath.Separator))
	}, func(data []byte, dir string) error { _, err := plan.Parse(data, dir); return err }},
	{"proxy.schema.json", func(rel string) bool {
		return strings.HasPrefix(rel, filepath.Join("internal", "traffic", "proxy", "testdata")+string(filepath.Separator)) && strings.HasSuffix(rel, ".yaml")
	}, func(data []byte, _ string) error { _, err := proxy.ParseConfig(data); return err }},
}

// TestExamplesAndTestdataValidate: every example and testdata file that ferry reads
// without a mistake validates against its schema, so an editor never marks a valid
// file wrong. Files ferry refuses may still pass: the schema describes the shape,
// ferry's own checks the values.
func TestExamplesAndTestdataValidate(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.schema, func(t *testing.T) {
			s := compile(t, k.schema)
			accepted := 0
			err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(repoRoot, path)
				if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != repoRoot || d.Name() == "node_modules") {
					return filepath.SkipDir
				}
				if d.IsDir() || !k.match(rel) {
					return nil
				}
				data, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				if k.load(data, filepath.Dir(path)) != nil {
					return nil
				}
				accepted++
				if err := validate(s, data); err != nil {
					t.Errorf("%s: ferry reads it, the schema rejects it: %v", rel, err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if accepted == 0 {
				t.Fatalf("no file of this kind was found to validate")
			}
			t.Logf("%d files validate", accepted)
		})
	}
}

// TestBrokenFilesAreRejected: an unknown field or a value of the wrong type, which
// ferry refuses, the schema refuses too.
func TestBrokenFilesAreRejected(t *testing.T) {
	read := func(rel string) []byte {
		data, err := os.ReadFile(filepath.Join(repoRoot, rel))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	for _, tc := range []struct {
		name, schema string
		data         []byte
		want         string
	}{
		{"ferry.yaml unknown field", "ferry.schema.json", []byte("app: shop\nreplicas: 3\nmanifests: {directory: k8s}\nimage: {containers: [web]}\n"), "replicas"},
		{"ferry.yaml duration", "ferry.schema.json", []byte("app: shop\nmanifests: {directory: k8s}\nimage: {containers: [web]}\nhealth: {timeout: 1d}\n"), "timeout"},
		{"ferry.yaml list for a string", "ferry.schema.json", []byte("app: [shop]\n"), "app"},
		{"plan unknown field", "migration.schema.json", read("internal/cli/testdata/cluster-plans/unknown-field.yaml"), "speed"},
		{"plan wrong type", "migration.schema.json", read("internal/cli/testdata/cluster-plans/wrong-type.yaml"), "weight"},
		{"plan gate spelled as in the CLI", "migration.schema.json", []byte("name: x\ngates: {error-rate: {alpha: 0.05}}\n"), "error-rate"},
		{"proxy unknown field", "proxy.schema.json", read("internal/traffic/proxy/testdata/bad/unknown-field.yaml"), "server"},
		{"proxy wrong type", "proxy.schema.json", read("internal/traffic/proxy/testdata/bad/wrong-type.yaml"), "maxConnections"},
		{"proxy percentage", "proxy.schema.json", []byte("weights: {legacy: lots}\n"), "legacy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := validate(compile(t, tc.schema), tc.data)
			if err == nil {
				t.Fatalf("the schema accepts:\n%s", tc.data)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("the error does not name %q: %v", tc.want, err)
			}
		})
	}
}
