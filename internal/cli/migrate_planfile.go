package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"

	"ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/strictyaml"
)

// clusterPlan is a plan file read for the cluster: the plan's own keys, with each
// secret named by a secretKeyRef to a Secret in the Migration's namespace instead of
// a file, an environment variable or an inline URL.
type clusterPlan struct {
	Name string `json:"name,omitempty"`
	// State is the local state file of `ferry migrate start`; a Migration keeps its
	// state in its status, so it is read and left out.
	State                  string `json:"state,omitempty"`
	v1alpha1.MigrationSpec `json:",inline"`
}

// localOnly are the plan's settings a Migration cannot carry, by path, with what to
// do instead. A path ending in [] is checked on each item of a list; "scalar" marks a
// field refused only when it holds a value, not a secretKeyRef.
var localOnly = []struct {
	path, instead string
	scalar        bool
}{
	{"router.proxy.tokenFile", secretInstead("the proxy's admin token", "router.proxy.tokenSecretRef"), false},
	{"metrics.prometheus.bearerTokenFile", secretInstead("the Prometheus bearer token", "metrics.prometheus.bearerTokenSecretRef"), false},
	{"metrics.datadog.apiKeyEnv", secretInstead("the Datadog API key", "metrics.datadog.apiKeySecretRef"), false},
	{"metrics.datadog.appKeyEnv", secretInstead("the Datadog application key", "metrics.datadog.appKeySecretRef"), false},
	{"notify[].slack", secretInstead("a Slack webhook URL", "slack"), true},
	{"notify[].webhook", secretInstead("a webhook URL", "webhook"), true},
	{"gates.latency.baseline", "the controller cannot read a file of this machine: run a plan with a baseline with `ferry migrate start`", false},
	{"gates.latency.tolerance", "goes with gates.latency.baseline, which a Migration cannot carry", false},
	{"cronJobs", "a Migration does not suspend CronJobs: run this plan with `ferry migrate start`", false},
}

func secretInstead(what, field string) string {
	return fmt.Sprintf("%s is a secret, and a Migration holds secrets only by reference: put it in a Secret and name it with a secretKeyRef, %s: {name: SECRET, key: KEY}", what, field)
}

// parseClusterPlan reads a plan file for `ferry migrate apply`. It refuses, all in one
// error with their lines, the settings a Migration cannot carry: inline secrets above
// all. The API server checks the rest when the Migration is applied.
func parseClusterPlan(data []byte) (*clusterPlan, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %s", errInvalidPlan, strictyaml.Clean(err))
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%w: %w", errInvalidPlan, strictyaml.ErrEmpty)
	}
	var problems []string
	for _, lo := range localOnly {
		for _, at := range find(doc.Content[0], lo.path) {
			if lo.scalar && at.node.Kind != yaml.ScalarNode {
				continue
			}
			problems = append(problems, fmt.Sprintf("%s (line %d): %s", at.path, at.line, lo.instead))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", errInvalidPlan, strings.Join(problems, "; "))
	}
	var p clusterPlan
	if err := decodeStrict(doc.Content[0], &p); err != nil {
		return nil, fmt.Errorf("%w: %s", errInvalidPlan, err)
	}
	return &p, nil
}

var errInvalidPlan = errors.New("cannot apply the plan")

// found is a field of a YAML document: its path, line and value.
type found struct {
	path string
	line int
	node *yaml.Node
}

// find returns the fields at path (dotted keys; "key[]" goes into each item of a
// list).
func find(n *yaml.Node, path string) []found {
	key, rest, more := strings.Cut(path, ".")
	name, each := strings.CutSuffix(key, "[]")
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value != name {
			continue
		}
		var items []found
		if each {
			if v.Kind != yaml.SequenceNode {
				return nil
			}
			for j, item := range v.Content {
				items = append(items, found{fmt.Sprintf("%s[%d]", name, j), item.Line, item})
			}
		} else {
			items = []found{{name, k.Line, v}}
		}
		if !more {
			return items
		}
		var out []found
		for _, it := range items {
			for _, f := range find(it.node, rest) {
				f.path = it.path + "." + f.path
				out = append(out, f)
			}
		}
		return out
	}
	return nil
}

// decodeStrict decodes a YAML document by the JSON field names of v, refusing
// unknown fields. Step weights are read as text, so that weight: 10 is "10".
func decodeStrict(doc *yaml.Node, v any) error {
	for _, w := range find(doc, "steps[].weight") {
		if w.node.Kind == yaml.ScalarNode {
			w.node.Tag = "!!str"
		}
	}
	var raw any
	if err := doc.Decode(&raw); err != nil {
		return errors.New(strictyaml.Clean(err))
	}
	data, err := json.Marshal(raw)
	if err != nil {
		return errors.New("keys must be text") // a mapping with keys JSON cannot hold
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typ):
		field := strings.TrimPrefix(typ.Field, "MigrationSpec.")
		return fmt.Errorf("%s: %s where %s is wanted", field, jsonKinds[typ.Value], goKind(typ.Type))
	case err != nil:
		return errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

var jsonKinds = map[string]string{"array": "a list", "object": "a mapping", "number": "a number", "string": "text", "bool": "true or false"}

func goKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "text (or a duration such as 30s)"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a list"
	case reflect.Struct, reflect.Map, reflect.Pointer:
		return "a mapping"
	}
	return "a number"
}
