package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ErrInvalidConfig wraps every error about the configuration's content.
var ErrInvalidConfig = errors.New("invalid config")

// lineError is a YAML-level problem at a line of the file.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

func errorAt(line int, msg string) error { return &lineError{line: line, msg: msg} }

// LoadConfig reads and validates the YAML config file at path.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseConfig reads a YAML config, rejects unknown fields, applies defaults and
// validates it. Its errors wrap ErrInvalidConfig and name the field and its line.
func ParseConfig(data []byte) (Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return Config{}, fmt.Errorf("%w: %s", ErrInvalidConfig, yamlMessage(err))
	}
	if len(root.Content) == 0 {
		return Config{}, fmt.Errorf("%w: the file is empty", ErrInvalidConfig)
	}
	if root.Content[0].Kind != yaml.MappingNode {
		return Config{}, fmt.Errorf("%w: line %d: want a mapping of settings", ErrInvalidConfig, root.Content[0].Line)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("%w: %s", ErrInvalidConfig, yamlMessage(err))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("%w: the file holds more than one YAML document", ErrInvalidConfig)
	}
	c = c.withDefaults()
	if err := c.validate(); err != nil {
		var fe *fieldError
		if errors.As(err, &fe) {
			if line := lineOf(root.Content[0], fe.path); line > 0 {
				return Config{}, fmt.Errorf("%w: %s (line %d): %s", ErrInvalidConfig, fe.path, line, fe.msg)
			}
		}
		return Config{}, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return c, nil
}

// yamlMessage turns a yaml error into one line that speaks of the file, not Go types.
func yamlMessage(err error) string {
	var le *lineError
	if errors.As(err, &le) {
		return le.Error()
	}
	unknownFieldRE := regexp.MustCompile(`field (\S+) not found in type \S+`)
	yamlTypeRE := regexp.MustCompile("cannot unmarshal !!(\\w+) `([^`]*)` into (\\S+)")
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	var parts []string
	for _, p := range strings.Split(msg, "\n") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		p = unknownFieldRE.ReplaceAllString(p, `unknown field "$1"`)
		p = yamlTypeRE.ReplaceAllStringFunc(p, func(m string) string {
			g := yamlTypeRE.FindStringSubmatch(m)
			return fmt.Sprintf("%q is not a valid %s", g[2], goTypeWord(g[3]))
		})
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

func goTypeWord(t string) string {
	switch {
	case t == "time.Duration":
		return "duration (e.g. 5s, 1m30s)"
	case strings.HasPrefix(t, "int"):
		return "integer"
	case t == "bool":
		return "boolean (true or false)"
	case strings.HasPrefix(t, "[]"):
		return "list"
	case t == "string":
		return "string"
	}
	return "value here"
}

// lineOf finds the line of a dotted path such as "backends.legacy.servers[1]" in the
// YAML tree, or of its deepest existing parent; 0 if nothing matches.
func lineOf(n *yaml.Node, path string) int {
	line := 0
	for _, part := range strings.Split(path, ".") {
		key, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			key = part[:i]
			idx, _ = strconv.Atoi(part[i+1 : len(part)-1])
		}
		next := mapValue(n, key)
		if next == nil {
			return line
		}
		line, n = next.Line, next
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

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			if n.Content[i+1].Kind == yaml.MappingNode || n.Content[i+1].Kind == yaml.SequenceNode {
				// Point at the key for containers: their own line is the first child's.
				n.Content[i+1].Line = n.Content[i].Line
			}
			return n.Content[i+1]
		}
	}
	return nil
}
