package strictyaml

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Problem is one mistake in a file: the dotted path of the field it is about
// ("steps[1].weight"), its line (0 when unknown) and what is wrong, with the values
// that would be valid.
type Problem struct {
	Path string
	Line int
	Msg  string

	// yaml marks a mistake of the YAML itself, found by Decode.
	yaml bool
}

func (p Problem) String() string {
	switch {
	case p.Path == "" && p.Line > 0:
		return fmt.Sprintf("line %d: %s", p.Line, p.Msg)
	case p.Path == "":
		return p.Msg
	case p.Line > 0:
		return fmt.Sprintf("%s (line %d): %s", p.Path, p.Line, p.Msg)
	}
	return p.Path + ": " + p.Msg
}

// Error is every mistake of a file, in the order of their lines, as one line.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	out := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p.String()
	}
	return strings.Join(out, "; ")
}

// Problems collects the mistakes of one file as its reader finds them: those of its
// YAML (Decode) and those of its values (Add), so that the file reports all of them
// in one run.
type Problems struct {
	data  []byte
	lines Lines
	list  []Problem
}

// NewProblems starts the list of mistakes of the document data.
func NewProblems(data []byte) *Problems {
	return &Problems{data: data, lines: NewLines(data)}
}

// Decode decodes the document into out (see Decode) and records its mistakes. It says
// whether out holds a document whose values are worth checking: not when the file is
// empty or not YAML at all.
func (ps *Problems) Decode(out any) bool {
	err := Decode(ps.data, out)
	if err == nil {
		return true
	}
	ps.AddError(err)
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	for _, p := range e.Problems {
		if p.Line == 0 && p.Path == "" {
			return false // the parser's own message: no document
		}
	}
	return true
}

// Add records a mistake at a field's dotted path; its line is looked up in the
// document (a field left out gets the line of its nearest parent).
func (ps *Problems) Add(path, format string, args ...any) {
	line := 0
	if !strings.Contains(path, " ") {
		line = ps.lines.Of(path)
	}
	ps.list = append(ps.list, Problem{Path: path, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// AddError records the problems of err, an *Error from Decode, or err itself as one
// problem without a field.
func (ps *Problems) AddError(err error) {
	if e, ok := err.(*Error); ok {
		ps.list = append(ps.list, e.Problems...)
		return
	}
	ps.list = append(ps.list, Problem{Msg: err.Error()})
}

// Len is the number of mistakes so far.
func (ps *Problems) Len() int { return len(ps.list) }

// Err returns the mistakes as an *Error, in the order of their lines (those without
// a line last), or nil when there are none. A value mistake on a line whose YAML was
// already wrong is left out: it only repeats the first.
func (ps *Problems) Err() error {
	if len(ps.list) == 0 {
		return nil
	}
	wrongYAML := map[int]bool{}
	for _, p := range ps.list {
		if p.yaml && p.Line > 0 {
			wrongYAML[p.Line] = true
		}
	}
	out := slices.DeleteFunc(slices.Clone(ps.list), func(p Problem) bool { return !p.yaml && wrongYAML[p.Line] })
	slices.SortStableFunc(out, func(a, b Problem) int {
		if (a.Line == 0) != (b.Line == 0) {
			return cmp.Compare(b.Line, a.Line) // the one with a line first
		}
		return cmp.Compare(a.Line, b.Line)
	})
	return &Error{Problems: slices.CompactFunc(out, func(a, b Problem) bool {
		return a == b
	})}
}
