package legacy

import "fmt"

// NoteKind says what a note asks of the user.
type NoteKind string

// Note kinds.
const (
	// Skipped means an entry could not be mapped and produced nothing.
	Skipped NoteKind = "skipped"
	// Review means an entry was mapped but may not behave as it did on the server.
	Review NoteKind = "review"
)

// Note is something an import could not carry over faithfully, at a place in the input.
// Its message never quotes a value that may be secret.
type Note struct {
	File string `json:"file"`
	// Line is where the note applies; for a note on several entries alike, the first.
	Line int `json:"line"`
	// Lines are the entries a note on several alike applies to.
	Lines   []int    `json:"lines,omitempty"`
	Kind    NoteKind `json:"kind"`
	Message string   `json:"message"`
}

// String is the note as a line: FILE:LINE: KIND: MESSAGE.
func (n Note) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", n.File, n.Line, n.Kind, n.Message)
}

// PositionError is bad input at a line of a file. Its message never quotes a value
// that may be secret.
type PositionError struct {
	File string
	Line int
	Err  error
}

// Error is FILE:LINE: what is wrong.
func (e *PositionError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }

// Unwrap returns the error without its position.
func (e *PositionError) Unwrap() error { return e.Err }

func positionError(file string, line int, format string, args ...any) error {
	return &PositionError{File: file, Line: line, Err: fmt.Errorf(format, args...)}
}
