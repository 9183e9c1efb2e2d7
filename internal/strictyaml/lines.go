package strictyaml

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Lines finds where fields are in a YAML document, for errors found after decoding.
type Lines struct {
	root *yaml.Node
}

// NewLines reads the document's tree; a document that does not parse finds no lines.
func NewLines(data []byte) Lines {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
		return Lines{}
	}
	return Lines{root: doc.Content[0]}
}

// Of returns the line of a dotted path such as "steps[1].weight" or
// "gates.errorRate.alpha", or of its deepest parent in the document when the field
// itself is not there (a default); 0 when not even the first part is.
func (l Lines) Of(path string) int {
	n, line := l.root, 0
	for _, part := range strings.Split(path, ".") {
		key, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			key = part[:i]
			idx, _ = strconv.Atoi(part[i+1 : len(part)-1])
		}
		keyNode, value := mapEntry(n, key)
		if value == nil {
			return line
		}
		// A container's own line is its first child's; the key is where it is named.
		line, n = keyNode.Line, value
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line
			}
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}

func mapEntry(n *yaml.Node, key string) (keyNode, value *yaml.Node) {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i], n.Content[i+1]
		}
	}
	return nil, nil
}
