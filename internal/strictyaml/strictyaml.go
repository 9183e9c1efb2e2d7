package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ErrEmpty means the document holds nothing.
var ErrEmpty = errors.New("the file is empty")

// Decode decodes one YAML document into out, a pointer to a struct. A document that
// is not YAML gives an *Error with the parser's one mistake; otherwise every field
// out does not have, every key set twice, every value of the wrong kind and any
// further document (a decoder would silently ignore one, and with it what the user
// meant to configure) is a Problem of one *Error, each with its line, and out holds
// what could be decoded. Empty documents after the first (a trailing ---) are fine.
func Decode(data []byte, out any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return ErrEmpty
		}
		return syntaxError(err)
	}
	if emptyDocument(&doc) {
		return ErrEmpty
	}
	var c checker
	c.check(doc.Content[0], reflect.TypeOf(out).Elem(), "")
	for {
		var next yaml.Node
		err := dec.Decode(&next)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return syntaxError(err)
		}
		if !emptyDocument(&next) {
			c.problems = append(c.problems, Problem{Line: next.Line, yaml: true,
				Msg: "a second YAML document starts here (after ---): ferry reads one document per file; merge them or remove the ---"})
			break
		}
	}
	// The checker found what the decoder would refuse, in ferry's words; what it
	// decodes here is the rest. A refusal the checker missed is still reported.
	err := doc.Content[0].Decode(out)
	switch {
	case len(c.problems) > 0:
		return &Error{Problems: c.problems}
	case err != nil:
		return syntaxError(err)
	}
	return nil
}

// syntaxError is a YAML library error as a one-problem *Error.
func syntaxError(err error) *Error {
	return &Error{Problems: []Problem{{Msg: Clean(err), yaml: true}}}
}

// emptyDocument says a document holds nothing but perhaps comments.
func emptyDocument(doc *yaml.Node) bool {
	if len(doc.Content) == 0 {
		return true
	}
	n := doc.Content[0]
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null" && n.Value == ""
}

// Clean turns a YAML error into one line, without the library's prefixes.
func Clean(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	s = strings.TrimPrefix(s, "unmarshal errors:")
	return strings.Join(strings.Fields(s), " ")
}

// ReadFile reads a configuration file and returns its content and the absolute
// directory its relative paths are relative to; what names the file in errors.
func ReadFile(path, what string) ([]byte, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", what, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, "", err
	}
	return data, filepath.Dir(abs), nil
}
