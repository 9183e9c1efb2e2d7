package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Flags mean one thing everywhere: the file a command reads is -f/--file, a timeout
// is named for what it bounds, and a list flag is repeatable and comma-separated both
// (pflag's StringSlice), unless its values may hold commas themselves (a header, a
// URL path, a Helm --set), which the flag's help then says. Older names stay as
// aliases.

// deprecatedNote is the annotation of an alias whose use prints a notice.
const deprecatedNote = "ferry.dev/deprecated"

// alias makes name another spelling of the flag canonical of fs, hidden from help:
// the same value, set by either.
func alias(fs *pflag.FlagSet, canonical *pflag.Flag, name string) {
	fs.Var(canonical.Value, name, "the same as --"+canonical.Name)
	if err := fs.MarkHidden(name); err != nil {
		panic(err) // the flag was just defined
	}
}

// deprecatedAlias is an alias whose use prints a notice saying why (warnDeprecated).
func deprecatedAlias(fs *pflag.FlagSet, canonical *pflag.Flag, name, why string) {
	alias(fs, canonical, name)
	fs.Lookup(name).Annotations = map[string][]string{deprecatedNote: {why}}
}

// warnDeprecated prints a line on w for every deprecated alias cmd was given.
// (pflag's own notice would go to stdout, among the data.)
func warnDeprecated(cmd *cobra.Command, w io.Writer) {
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if why := f.Annotations[deprecatedNote]; len(why) > 0 {
			fmt.Fprintf(w, "ferry: warning: --%s is deprecated here: %s\n", f.Name, why[0])
		}
	})
}
