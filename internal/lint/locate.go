package lint

import (
	"os"
	"path/filepath"
	"strings"

	"ferry.dev/ferry/internal/render"
)

// Locate finds where the objects of a manifest directory are written: the file and
// the first line of each object's document. It reads the files the way a directory
// source does (*.yaml, *.yml, *.json, not recursively) and skips what it cannot read:
// rendering reports those errors.
func Locate(dir string) map[ObjectRef]Location {
	out := map[ObjectRef]Location{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return out
	}
	for _, e := range entries {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".yaml", ".yml", ".json":
		default:
			continue
		}
		file := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(file)
		if err != nil || e.IsDir() {
			continue
		}
		for _, doc := range documents(string(data)) {
			objs, err := render.Decode([]byte(doc.text))
			if err != nil {
				continue
			}
			for _, obj := range objs {
				out[RefOf(obj)] = Location{File: file, Line: doc.line}
			}
		}
	}
	return out
}

type document struct {
	text string
	line int // of its first line that is not blank or a comment
}

// documents splits YAML at "---" lines as Kubernetes' YAML reader does.
func documents(data string) []document {
	var docs []document
	var cur strings.Builder
	first := 0
	flush := func() {
		if first > 0 {
			docs = append(docs, document{cur.String(), first})
		}
		cur.Reset()
		first = 0
	}
	for i, line := range strings.Split(data, "\n") {
		if rest, ok := strings.CutPrefix(line, "---"); ok {
			if r := strings.TrimSpace(rest); r == "" || strings.HasPrefix(r, "#") {
				flush()
				continue
			}
		}
		if t := strings.TrimSpace(line); first == 0 && t != "" && !strings.HasPrefix(t, "#") {
			first = i + 1
		}
		cur.WriteString(line + "\n")
	}
	flush()
	return docs
}
