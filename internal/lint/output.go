package lint

import (
	"fmt"
	"io"
	"path/filepath"
)

// WriteText writes one line per finding, a summary, and how to fix each rule that
// fired. Paths are shown relative to base when below it.
func WriteText(w io.Writer, r Report, base string) error {
	for _, f := range r.Findings {
		where := f.Object.String()
		if f.Object.Namespace != "" {
			where += " (" + f.Object.Namespace + ")"
		}
		if f.Location != nil {
			where = relative(base, f.Location.File) + lineSuffix(f.Location.Line) + ": " + where
		}
		if _, err := fmt.Fprintf(w, "%s: %s %s: %s\n", where, f.Severity, f.Rule, f.Message); err != nil {
			return err
		}
	}
	if _, err := fmt.Fprintf(w, "%s in %d object%s\n", r.Summary, r.Summary.Objects, plural(r.Summary.Objects)); err != nil {
		return err
	}
	fired := r.Fired()
	if len(fired) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nHow to fix:")
	for _, rule := range fired {
		if _, err := fmt.Fprintf(w, "  %s %s: %s\n", rule.ID, rule.Title, rule.Fix); err != nil {
			return err
		}
	}
	return nil
}

// String counts the findings: "1 error, 3 warnings, 1 info".
func (s Summary) String() string {
	return fmt.Sprintf("%d error%s, %d warning%s, %d info", s.Errors, plural(s.Errors), s.Warnings, plural(s.Warnings), s.Info)
}

func lineSuffix(line int) string {
	if line == 0 {
		return ""
	}
	return fmt.Sprintf(":%d", line)
}

// relative shows path relative to base when it is below base.
func relative(base, path string) string {
	if base == "" {
		return path
	}
	rel, err := filepath.Rel(base, path)
	if err != nil || rel == ".." || len(rel) > 2 && rel[:3] == "../" {
		return path
	}
	return rel
}
