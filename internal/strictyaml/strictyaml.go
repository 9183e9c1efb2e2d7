package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ErrEmpty means the document holds nothing.
var ErrEmpty = errors.New("the file is empty")

// Decode decodes one YAML document into out, rejecting fields out does not have and
// any further document: a decoder would silently ignore one, and with it what the
// user meant to configure. Empty documents after the first (a trailing ---) are fine.
func Decode(data []byte, out any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil {
		if errors.Is(err, io.EOF) {
			return ErrEmpty
		}
		return errors.New(Clean(err))
	}
	for {
		var next yaml.Node
		err := dec.Decode(&next)
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return errors.New(Clean(err))
		case !emptyDocument(&next):
			return fmt.Errorf("line %d: a second YAML document starts here (after ---): ferry reads one document per file; merge them or remove the ---", next.Line)
		}
	}
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
