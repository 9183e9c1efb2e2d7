package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"ferry.dev/ferry/internal/release"
)

// diffAgainst are what `ferry diff --against` compares with.
var diffAgainst = []string{"all", "cluster", "revision"}

func newDiffCommand(g *globalOptions) *cobra.Command {
	var o releaseOptions
	var opts release.DeployOptions
	var skipLint bool
	var against string
	cmd := &cobra.Command{
		Use:   "diff [--image REPOSITORY:TAG]",
		Short: "Show what a deploy would change, object by object, against the cluster and the last revision",
		Long: `Show what ` + "`ferry deploy`" + ` would change, object by object, as a unified diff per
object, changing nothing:

  cluster   the live objects beside what the API server makes of the new manifests
            (a server-side dry run of each, so defaults and other field managers
            count), and the objects the deploy would prune
  revision  the latest recorded revision's manifests beside the new ones

Without --image, the latest revision's image is used: the diff then shows what the
manifests alone change. A Secret's values are never printed: a changed value shows
as "` + release.SecretChanged + `".

Exit code 0: nothing would change; 9: something would (as diff and kubectl diff
tell it, with ferry's own number); 1: an error.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !contains(diffAgainst, against) {
				return usageError{fmt.Errorf("unknown --against %q: use all, cluster or revision", against)}
			}
			cfg, err := o.config(cmd, g)
			if err != nil {
				return err
			}
			if !skipLint {
				opts.Check = deployCheck(g, cfg.Def)
			}
			p, err := release.Diff(cmd.Context(), cfg, opts)
			if err != nil {
				return releaseError(cfg, err)
			}
			switch against {
			case "cluster":
				p.Revision = nil
			case "revision":
				p.Cluster = nil
			}
			if err := renderPreview(g, p, against); err != nil {
				return err
			}
			if p.Changed() {
				return exitCodeError{ExitDifferences, silentError{}}
			}
			return nil
		},
	}
	o.addFlags(cmd, releaseFlags{})
	cmd.Flags().StringVar(&opts.Image, "image", "", "the image to compare, REPOSITORY:TAG (default: the latest revision's)")
	cmd.Flags().StringVar(&against, "against", "all", "what to compare with: all, cluster or revision")
	cmd.Flags().BoolVar(&opts.AllowMutableTag, "allow-mutable-tag", false, "allow \"latest\" or no tag")
	cmd.Flags().BoolVar(&o.createNamespace, "create-namespace", false, "compare as a deploy that creates the app's namespace would")
	cmd.Flags().BoolVar(&skipLint, "skip-lint", false, "compare even when the preflight rules (ferry lint) find errors")
	return cmd
}

// deployDryRun is `ferry deploy --dry-run`: the preview of `ferry diff`, ending 0 when
// the API server accepted every object, whatever would change.
func deployDryRun(cmd *cobra.Command, g *globalOptions, cfg release.Config, opts release.DeployOptions) error {
	p, err := release.Diff(cmd.Context(), cfg, opts)
	if err != nil {
		return releaseError(cfg, err)
	}
	if err := renderPreview(g, p, "all"); err != nil {
		return err
	}
	fmt.Fprintln(g.stderr, "dry run: nothing was changed")
	return nil
}

// silentError ends a command with its exit code and no message: the output said it.
type silentError struct{}

func (silentError) Error() string { return "" }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// renderPreview prints a deploy's preview: as JSON or YAML whole, or as a summary
// line per object followed by its diff.
func renderPreview(g *globalOptions, p *release.Preview, against string) error {
	if g.output != "table" {
		return render(g.stdout, g.output, p, nil)
	}
	w := g.stdout
	fmt.Fprintf(w, "App %s (namespace %s), image %s, as revision %d\n", p.App, p.Namespace, p.Image, p.NextRevision)
	for _, n := range p.Notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
	if against != "revision" {
		fmt.Fprintln(w, "\nAgainst the cluster (server-side dry run):")
		writeDiffs(w, p.Cluster)
	}
	if against != "cluster" {
		if p.Last == nil {
			fmt.Fprintln(w, "\nAgainst the last revision: none is recorded")
		} else {
			fmt.Fprintf(w, "\nAgainst revision %d (%s, %s):\n", p.Last.Revision, p.Last.Status, p.Last.Image)
			writeDiffs(w, p.Revision)
		}
	}
	return nil
}

func writeDiffs(w io.Writer, diffs []release.ObjectDiff) {
	counts := map[release.Change]int{}
	for _, d := range diffs {
		counts[d.Change]++
		fmt.Fprintf(w, "  %-10s %s\n", d.Change, d.Object)
		fmt.Fprint(w, d.Diff)
	}
	var parts []string
	for _, c := range []release.Change{release.ChangeCreate, release.ChangeUpdate, release.ChangeReplace, release.ChangeDelete, release.ChangeNone} {
		if counts[c] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[c], c))
		}
	}
	if len(parts) == 0 {
		parts = []string{"no objects"}
	}
	fmt.Fprintf(w, "  (%s)\n", strings.Join(parts, ", "))
}
