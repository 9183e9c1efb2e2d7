package schema

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"time"

	"github.com/invopop/jsonschema"

	"ferry.dev/ferry/internal/app"
	"ferry.dev/ferry/internal/plan"
	"ferry.dev/ferry/internal/traffic/proxy"
)

// module is the module path, under which the doc comments of the types are found.
const module = "ferry.dev/ferry"

// Document is one file kind and its schema.
type Document struct {
	// File is the schema's file name under docs/schemas.
	File string
	// Title names the file kind.
	Title string
	// root is a value of the Go type the file decodes into; pkg the type's package
	// directory, relative to the module's root, for its doc comments.
	root any
	pkg  string
}

// Documents are the file kinds that have a schema.
var Documents = []Document{
	{File: "ferry.schema.json", Title: "ferry.yaml: an app definition", root: &app.Definition{}, pkg: "internal/app"},
	{File: "migration.schema.json", Title: "migration.yaml: a migration plan", root: &plan.Plan{}, pkg: "internal/plan"},
	{File: "proxy.schema.json", Title: "the proxy's configuration (ferry proxy -f FILE)", root: &proxy.Config{}, pkg: "internal/traffic/proxy"},
}

// durationPattern is what time.ParseDuration reads, as the YAML decoder hands it a string.
const durationPattern = `^[-+]?(0|([0-9]*(\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+)$`

// percentPattern is what traffic.ParsePercent reads: 0 to 100 with at most two decimals.
const percentPattern = `^\s*[0-9]{1,3}(\.[0-9]{1,2})?\s*%?\s*$`

// Generate returns each document's schema as indented JSON, with descriptions from
// the Go doc comments of the sources under root, the module's root directory.
func Generate(root string) (map[string][]byte, error) {
	base, err := commentBase(root)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, d := range Documents {
		r := &jsonschema.Reflector{
			FieldNameTag: "yaml",
			// ferry's own validation says what is required, with the valid values; the
			// schema only describes the shape.
			RequiredFromJSONSchemaTags: true,
			DoNotReference:             true,
			// No $id: the schemas are referenced by path from a checkout.
			Anonymous: true,
			Mapper:    mapType,
		}
		if err := r.AddGoComments(base, filepath.Join(root, d.pkg)); err != nil {
			return nil, fmt.Errorf("read the doc comments of %s: %w", d.pkg, err)
		}
		s := r.Reflect(d.root)
		s.Title = d.Title
		relaxStrings(s)
		data, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			return nil, err
		}
		out[d.File] = append(data, '\n')
	}
	return out, nil
}

// commentBase is the import path that, joined with root, names root's packages: the
// comment reader keys each package by base joined with its directory as walked.
func commentBase(root string) (string, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", err
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(abs, wd)
	if err != nil {
		return "", err
	}
	return path.Join(module, filepath.ToSlash(rel)), nil
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	percentType  = reflect.TypeFor[proxy.Percent]()
)

// mapType describes the types that decode from YAML differently from their Go shape.
func mapType(t reflect.Type) *jsonschema.Schema {
	switch t {
	case durationType:
		return &jsonschema.Schema{Type: "string", Pattern: durationPattern,
			Description: "a duration such as 500ms, 30s, 5m or 1h30m", Examples: []any{"30s", "5m"}}
	case percentType:
		return &jsonschema.Schema{OneOf: []*jsonschema.Schema{
			{Type: "string", Pattern: percentPattern},
			{Type: "number", Minimum: json.Number("0"), Maximum: json.Number("100")},
		}, Description: "a percentage from 0 to 100 with at most two decimals, such as 10, 10% or 0.5%"}
	}
	return nil
}

// relaxStrings lets every plain string field take any YAML scalar: the YAML decoder
// reads `weight: 10` or `limit: true` into a string field as "10" and "true", and a
// schema stricter than ferry would mark valid files wrong.
func relaxStrings(s *jsonschema.Schema) {
	if s == nil {
		return
	}
	if s.Type == "string" && s.Pattern == "" && s.Format == "" && len(s.Enum) == 0 {
		s.Type = ""
		s.AnyOf = []*jsonschema.Schema{{Type: "string"}, {Type: "number"}, {Type: "boolean"}}
	}
	if s.Properties != nil {
		for pair := s.Properties.Oldest(); pair != nil; pair = pair.Next() {
			relaxStrings(pair.Value)
		}
	}
	relaxStrings(s.Items)
	relaxStrings(s.AdditionalProperties)
	for _, sub := range s.OneOf {
		relaxStrings(sub)
	}
}
