package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"ferry.dev/ferry/internal/kube"
)

// globalOptions are the kubectl-like flags every command takes.
type globalOptions struct {
	kube   kube.Options
	output string
	stdout io.Writer
	stderr io.Writer
}

// NewRootCommand returns the ferry command tree writing to stdout and stderr.
func NewRootCommand(stdout, stderr io.Writer) *cobra.Command {
	g := &globalOptions{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "ferry",
		Version:       clientVersion(),
		Short:         "Move a legacy web app onto Kubernetes, then deploy and roll it back without fear",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			quietLibraries(cmd)
			warnDeprecated(cmd, g.stderr)
			return validateOutput(g.output)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetVersionTemplate("ferry {{.Version}}\n")
	flags := root.PersistentFlags()
	flags.StringVar(&g.kube.Kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default $KUBECONFIG or ~/.kube/config)")
	flags.StringVar(&g.kube.Context, "context", "", "kubeconfig context to use")
	flags.StringVarP(&g.kube.Namespace, "namespace", "n", "", "namespace to work in (default: the context's)")
	flags.StringVarP(&g.output, "output", "o", "table", "output format for data: table, json or yaml")

	root.AddCommand(newVersionCommand(g), newDevCommand(g),
		newDeployCommand(g), newRollbackCommand(g), newHistoryCommand(g), newStatusCommand(g),
		newLoadtestCommand(g), newMigrateCommand(g))
	root.AddCommand(newLintCommand(g), newImportCommand(g), newInitCommand(g))
	root.AddCommand(newProxyCommand(g), newControllerCommand(g), newDashboardCommand(g))
	root.AddCommand(newDiffCommand(g), newCompletionCommand(g))
	return root
}

// Execute runs the command line args and returns the process exit code, printing any
// error as one line on stderr.
func Execute(args []string, stdout, stderr io.Writer) int {
	root := NewRootCommand(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	if msg := strings.Join(strings.Fields(err.Error()), " "); msg != "" { // empty: the output said it
		fmt.Fprintln(stderr, "ferry: "+msg)
	}
	code := exitCode(err)
	if code == ExitUsage {
		fmt.Fprintln(stderr, "Run 'ferry --help' for usage.")
	}
	return code
}

// exactArgs is cobra.ExactArgs with a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}
