package strictyaml

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// checker walks a document beside the Go type it is decoded into and records, each
// at its line, every field the type does not have (with those it has), every key set
// twice and every value of the wrong kind (with the kind wanted): the YAML library
// stops at none of these and names Go types in its messages.
type checker struct {
	problems []Problem
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

func (c *checker) add(path string, line int, format string, args ...any) {
	c.problems = append(c.problems, Problem{Path: path, Line: line, Msg: fmt.Sprintf(format, args...), yaml: true})
}

func (c *checker) check(n *yaml.Node, t reflect.Type, path string) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // left out: the default
	}
	if t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) {
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			c.add(path, n.Line, "%s", strings.TrimPrefix(Clean(err), fmt.Sprintf("line %d: ", n.Line)))
		}
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		c.check(n, t.Elem(), path)
	case reflect.Interface:
	case reflect.Struct:
		c.checkStruct(n, t, path)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			c.add(path, n.Line, "want a mapping, not %s", describe(n))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			c.check(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value))
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			c.add(path, n.Line, "want a list, not %s", describe(n))
			return
		}
		for i, item := range n.Content {
			c.check(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	default:
		want := kindWord(t)
		if n.Kind != yaml.ScalarNode {
			c.add(path, n.Line, "want %s, not %s", want, describe(n))
			return
		}
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			if _, num := strconv.ParseFloat(n.Value, 64); t == durationType && num == nil {
				c.add(path, n.Line, "%q is not %s: a number needs a unit, such as %ss or %sm", n.Value, want, n.Value, n.Value)
				return
			}
			c.add(path, n.Line, "%q is not %s", n.Value, want)
		}
	}
}

func (c *checker) checkStruct(n *yaml.Node, t reflect.Type, path string) {
	fields := yamlFields(t)
	if n.Kind != yaml.MappingNode {
		c.add(path, n.Line, "want a mapping%s, not %s", validHere(fields, ""), describe(n))
		return
	}
	seen := map[string]int{}
	kept := n.Content[:0:0]
	defer func() { n.Content = kept }() // without the repeated keys, which stop a decoder
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		at := join(path, k.Value)
		if k.ShortTag() == "!!merge" { // <<: *defaults, checked where the anchor is
			kept = append(kept, k, v)
			continue
		}
		if first, ok := seen[k.Value]; ok {
			c.add(at, k.Line, "set twice (first at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		kept = append(kept, k, v)
		f := slices.IndexFunc(fields, func(f field) bool { return f.name == k.Value })
		if f < 0 {
			c.add(at, k.Line, "unknown field%s", validHere(fields, k.Value))
			continue
		}
		c.check(v, fields[f].typ, at)
	}
}

// field is a struct field as YAML names it.
type field struct {
	name string
	typ  reflect.Type
}

// yamlFields lists the fields of t under their YAML names, in order, with those of
// inlined structs.
func yamlFields(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		switch {
		case tag == "-":
			continue
		case strings.Contains(","+opts+",", ",inline,"):
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				out = append(out, yamlFields(ft)...)
			}
			continue
		case name == "":
			name = strings.ToLower(f.Name)
		}
		out = append(out, field{name, f.Type})
	}
	return out
}

// validHere lists the fields a mapping takes, and the likeliest one meant by got.
func validHere(fields []field, got string) string {
	if len(fields) == 0 {
		return " (this takes no settings)"
	}
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	if got != "" {
		if guess := closest(got, names); guess != "" {
			return fmt.Sprintf(" (did you mean %s? valid here: %s)", guess, strings.Join(names, ", "))
		}
	}
	return " (valid here: " + strings.Join(names, ", ") + ")"
}

// closest returns the name within two edits of got (ignoring case), if one is.
func closest(got string, names []string) string {
	best, bestDist := "", 3
	for _, n := range names {
		if d := editDistance(strings.ToLower(got), strings.ToLower(n)); d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

var durationType = reflect.TypeFor[time.Duration]()

// kindWord says in words what a value of t looks like.
func kindWord(t reflect.Type) string {
	if t == durationType {
		return "a valid duration (e.g. 5s, 1m30s)"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number of 0 or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	}
	return "text"
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Value)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
