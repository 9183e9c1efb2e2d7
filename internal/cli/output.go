package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"sigs.k8s.io/yaml"
)

var outputFormats = []string{"table", "json", "yaml"}

func validateOutput(format string) error {
	for _, f := range outputFormats {
		if f == format {
			return nil
		}
	}
	return usageError{fmt.Errorf("unknown output format %q: use table, json or yaml", format)}
}

// render writes v as JSON or YAML, or calls table for the human format.
func render(w io.Writer, format string, v any, table func(tw *tabwriter.Writer)) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "yaml":
		data, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	default:
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		table(tw)
		return tw.Flush()
	}
}
