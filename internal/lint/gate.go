package lint

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ErrBlocked means error-severity findings stopped a deploy.
var ErrBlocked = errors.New("preflight checks failed")

// Gate runs the rules before a deploy: it prints every warning and error to w, one
// line each, and fails with ErrBlocked when any error was found.
func Gate(w io.Writer, objs []*unstructured.Unstructured, cfg Config) error {
	report, err := Run(objs, cfg)
	if err != nil {
		return err
	}
	var blocking []string
	for _, f := range report.Findings {
		if f.Severity < Warning {
			continue
		}
		fmt.Fprintf(w, "  lint %s %s %s: %s\n", f.Severity, f.Rule, f.Object, f.Message)
		if f.Severity == Error {
			blocking = append(blocking, f.Rule+" "+f.Object.String())
		}
	}
	if len(blocking) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %d error%s (%s): fix them, or annotate the object %s: ID, or pass --skip-lint",
		ErrBlocked, len(blocking), plural(len(blocking)), strings.Join(blocking, ", "), AnnotationIgnore)
}
