package plan

import (
	"reflect"
	"testing"
)

// Every field of the schema has a json tag equal to its yaml tag, so that a custom
// resource reusing the types reads the same as a plan file.
func TestJSONTagsEqualYAMLTags(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || typ.PkgPath() != reflect.TypeFor[Plan]().PkgPath() || seen[typ] {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			y, hasYAML := f.Tag.Lookup("yaml")
			j, hasJSON := f.Tag.Lookup("json")
			if !hasYAML || !hasJSON || y != j {
				t.Errorf("%s.%s: yaml %q, json %q; want both, equal", typ.Name(), f.Name, y, j)
			}
			walk(f.Type)
		}
	}
	walk(reflect.TypeFor[Plan]())
	if len(seen) < 10 {
		t.Fatalf("walked only %d types of the schema", len(seen))
	}
}
