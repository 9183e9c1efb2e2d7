package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"ferry.dev/ferry/internal/golden"
)

// TestHelpTexts compares every command's --help with testdata/help/COMMAND.golden
// (go test ./internal/cli -run TestHelpTexts -update rewrites them), so that a change
// of a flag's name, meaning or valid values shows in review.
func TestHelpTexts(t *testing.T) {
	var walk func(cmd *cobra.Command)
	walk = func(cmd *cobra.Command) {
		if cmd.Hidden {
			return
		}
		path := strings.Fields(cmd.CommandPath())[1:]
		name := strings.Join(append([]string{"ferry"}, path...), "-")
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := run(t, append(path, "--help")...)
			if code != ExitOK || stderr != "" {
				t.Fatalf("--help: exit %d, stderr %q", code, stderr)
			}
			golden.Check(t, filepath.Join("testdata", "help", name+".golden"), stdout)
		})
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(NewRootCommand(nil, nil))
}

// TestFlagsMeanOneThing: the file a command reads is -f/--file, --kubernetes and
// --legacy are URLs wherever they show, a --timeout says what it bounds, and a
// value-listing flag names every value it takes.
func TestFlagsMeanOneThing(t *testing.T) {
	var walk func(cmd *cobra.Command)
	walk = func(cmd *cobra.Command) {
		cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if f.Hidden {
				return
			}
			at := cmd.CommandPath() + " --" + f.Name
			switch f.Name {
			case "config", "plan", "filename":
				t.Errorf("%s: the file a command reads is -f/--file", at)
			case "file":
				if f.Shorthand != "f" {
					t.Errorf("%s has no -f", at)
				}
			case "kubernetes", "legacy":
				if !strings.Contains(f.Usage, "URL") {
					t.Errorf("%s is not a URL: %q", at, f.Usage)
				}
			case "timeout":
				t.Errorf("%s: say what the timeout bounds (--health-timeout, --request-timeout, …)", at)
			}
		})
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(NewRootCommand(nil, nil))

	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"lint", "--help"}, []string{"output format: table (text), json, yaml or sarif", "error, warning, info, or none (never)"}},
		{[]string{"status", "--help"}, []string{"output format for data: table, json or yaml"}},
		{[]string{"loadtest", "--help"}, []string{"auto, combined (nginx, apache) or alb", "--request-timeout"}},
		{[]string{"migrate", "start", "--help"}, []string{"-f, --file string"}},
		{[]string{"proxy", "run", "--help"}, []string{"-f, --file string"}},
		{[]string{"history", "--help"}, []string{"--app string"}},
	} {
		_, stdout, _ := run(t, tc.args...)
		for _, w := range tc.want {
			if !strings.Contains(stdout, w) {
				t.Errorf("ferry %s does not show %q", strings.Join(tc.args, " "), w)
			}
		}
	}
}
