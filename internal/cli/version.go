package cli

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"

	"ferry.dev/ferry/internal/kube"
	"ferry.dev/ferry/internal/version"
)

// DefaultServerVersionTimeout bounds how long `ferry version` waits for the cluster.
const DefaultServerVersionTimeout = 5 * time.Second

// versionOutput is what `ferry version` prints: the client always, the server when it
// answered.
type versionOutput struct {
	Client version.Info `json:"client"`
	Server *serverInfo  `json:"server,omitempty"`
}

// serverInfo is the cluster's version.
type serverInfo struct {
	GitVersion string `json:"gitVersion"`
	Platform   string `json:"platform"`
}

// clientVersion is the one-line version `ferry --version` prints.
func clientVersion() string {
	info := version.Get()
	parts := []string{info.Version}
	if info.Commit != "" {
		parts = append(parts, "commit "+info.Commit)
	}
	if info.GoVersion != "" {
		parts = append(parts, info.GoVersion)
	}
	return strings.Join(parts, ", ")
}

func newVersionCommand(g *globalOptions) *cobra.Command {
	var clientOnly bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print ferry's version and the cluster's",
		Long: `Print ferry's version and, unless --client, the cluster's.

ferry's own version is printed even when the cluster cannot be reached within
--server-timeout; the reason then follows on stderr, as one line, and the exit code
is 1.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if timeout <= 0 {
				return usageError{fmt.Errorf("--server-timeout must be positive, got %s", timeout)}
			}
			out := versionOutput{Client: version.Get()}
			var serverErr error
			if !clientOnly {
				out.Server, serverErr = serverVersion(g.kube, timeout)
			}
			if err := render(g.stdout, g.output, out, func(tw *tabwriter.Writer) {
				fmt.Fprintf(tw, "Client:\t%s\n", clientVersion())
				if out.Server != nil {
					fmt.Fprintf(tw, "Server:\t%s, %s\n", out.Server.GitVersion, out.Server.Platform)
				}
			}); err != nil {
				return err
			}
			return serverErr
		},
	}
	cmd.Flags().BoolVar(&clientOnly, "client", false, "print only ferry's own version, without contacting a cluster")
	cmd.Flags().DurationVar(&timeout, "server-timeout", DefaultServerVersionTimeout, "how long to wait for the cluster's version")
	return cmd
}

// serverVersion asks the cluster for its version, waiting at most timeout.
func serverVersion(opts kube.Options, timeout time.Duration) (*serverInfo, error) {
	client, err := kube.New(opts)
	if err != nil {
		return nil, err
	}
	cfg := rest.CopyConfig(client.Config)
	cfg.Timeout = timeout
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, kube.Explain(client.Config.Host, err)
	}
	sv, err := dc.ServerVersion()
	var netErr net.Error
	switch {
	case errors.As(err, &netErr) && netErr.Timeout():
		return nil, fmt.Errorf("the cluster at %s did not answer within %s", client.Config.Host, timeout)
	case err != nil:
		return nil, kube.Explain(client.Config.Host, err)
	}
	return &serverInfo{GitVersion: sv.GitVersion, Platform: sv.Platform}, nil
}
