package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"

	"ferry.dev/ferry/internal/kube"
	"ferry.dev/ferry/internal/version"
)

type versionOutput struct {
	Client version.Info `json:"client"`
	Server *struct {
		GitVersion string `json:"gitVersion"`
		Platform   string `json:"platform"`
	} `json:"server,omitempty"`
}

func newVersionCommand(g *globalOptions) *cobra.Command {
	var clientOnly bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print ferry's version and the cluster's",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := versionOutput{Client: version.Get()}
			if !clientOnly {
				client, err := kube.New(g.kube)
				if err != nil {
					return err
				}
				cfg := rest.CopyConfig(client.Config)
				cfg.Timeout = 15 * time.Second
				dc, err := discovery.NewDiscoveryClientForConfig(cfg)
				if err != nil {
					return err
				}
				sv, err := dc.ServerVersion()
				if err != nil {
					return kube.Explain(client.Config.Host, err)
				}
				out.Server = &struct {
					GitVersion string `json:"gitVersion"`
					Platform   string `json:"platform"`
				}{sv.GitVersion, sv.Platform}
			}
			return render(g.stdout, g.output, out, func(tw *tabwriter.Writer) {
				fmt.Fprintf(tw, "Client:\t%s\t%s\t%s\n", out.Client.Version, out.Client.Commit, out.Client.GoVersion)
				if out.Server != nil {
					fmt.Fprintf(tw, "Server:\t%s\t%s\n", out.Server.GitVersion, out.Server.Platform)
				}
			})
		},
	}
	cmd.Flags().BoolVar(&clientOnly, "client", false, "print only ferry's own version, without contacting a cluster")
	return cmd
}
