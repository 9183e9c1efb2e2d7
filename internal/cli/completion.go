package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// completionShells are the shells `ferry completion` writes a script for.
var completionShells = []string{"bash", "zsh", "fish"}

func newCompletionCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print the shell completion script for bash, zsh or fish",
		Long: `Print the shell completion script for bash, zsh or fish on stdout.

  bash:  source <(ferry completion bash)
         (or save it as /etc/bash_completion.d/ferry; needs the bash-completion package)
  zsh:   ferry completion zsh > "${fpath[1]}/_ferry"   (with compinit enabled)
  fish:  ferry completion fish > ~/.config/fish/completions/ferry.fish`,
		Args:      exactArgs(1),
		ValidArgs: completionShells,
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(g.stdout, true)
			case "zsh":
				return root.GenZshCompletion(g.stdout)
			case "fish":
				return root.GenFishCompletion(g.stdout, true)
			}
			return usageError{fmt.Errorf("unknown shell %q: use bash, zsh or fish", args[0])}
		},
	}
}
