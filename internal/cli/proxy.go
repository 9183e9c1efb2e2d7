package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"ferry.dev/ferry/internal/traffic"
	"ferry.dev/ferry/internal/traffic/proxy"
)

// EnvProxyToken is the variable the admin client commands read the token from.
const EnvProxyToken = "FERRY_PROXY_TOKEN"

// proxyOptions are the flags shared by the proxy commands.
type proxyOptions struct {
	config string
	admin  string
	token  string
}

func newProxyCommand(g *globalOptions) *cobra.Command {
	o := &proxyOptions{}
	cmd := &cobra.Command{
		Use:   "proxy",
		Short: "The embedded weighted proxy between the legacy backend and Kubernetes",
		Args:  exactArgs(0),
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	f := cmd.PersistentFlags()
	f.StringVarP(&o.config, "file", "f", "", "the proxy's YAML config file (--config is the same)")
	alias(f, f.Lookup("file"), "config")
	f.StringVar(&o.admin, "admin", "", "admin API address of a running proxy (default: admin.listen of --file)")
	f.StringVar(&o.token, "token", "", "admin bearer token (default $"+EnvProxyToken+", or the token in --file)")
	weights := newProxyWeightsCommand(g, o)
	weights.AddCommand(newProxyWeightsSetCommand(g, o))
	cmd.AddCommand(newProxyRunCommand(g, o), newProxyCheckCommand(g, o), weights,
		newProxyStatsCommand(g, o), newProxyBackendsCommand(g, o))
	return cmd
}

func (o *proxyOptions) loadConfig() (proxy.Config, error) {
	if o.config == "" {
		return proxy.Config{}, usageError{errors.New("-f/--file is required: the proxy's YAML config file")}
	}
	return proxy.LoadConfig(o.config)
}

func newProxyRunCommand(g *globalOptions, o *proxyOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "run -f FILE",
		Short: "Run the proxy in the foreground; SIGHUP reloads the config, SIGINT/SIGTERM drain and stop",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := o.loadConfig()
			if err != nil {
				return err
			}
			p, err := proxy.New(cfg)
			if err != nil {
				return err
			}
			p.Logger = slog.New(slog.NewTextHandler(g.stderr, nil))
			return runProxy(cmd.Context(), p, o.config)
		},
	}
}

// runProxy serves until SIGINT or SIGTERM, reloading the config file on SIGHUP.
func runProxy(ctx context.Context, p *proxy.Proxy, path string) error {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(signals)
	if err := p.Open(); err != nil {
		return err
	}
	for {
		var sig os.Signal
		select {
		case sig = <-signals:
		case <-ctx.Done():
			sig = syscall.SIGTERM
		}
		if sig != syscall.SIGHUP {
			p.Logger.Info("draining", "signal", sig.String())
			return p.Close(context.Background())
		}
		cfg, err := proxy.LoadConfig(path)
		if err == nil {
			err = p.Reload(cfg)
		}
		if err != nil {
			p.Logger.Error("reload rejected, the old config keeps serving", "error", err.Error())
		}
	}
}

// checkOutput is what `proxy check` prints: the config's gist, without secrets.
type checkOutput struct {
	Listen     string          `json:"listen"`
	Admin      string          `json:"admin"`
	Weights    traffic.Weights `json:"weights"`
	Legacy     []string        `json:"legacy"`
	Kubernetes []string        `json:"kubernetes"`
}

func newProxyCheckCommand(g *globalOptions, o *proxyOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "check -f FILE",
		Short: "Validate a proxy config file and print what it sets up",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := o.loadConfig()
			if err != nil {
				return err
			}
			p, err := proxy.New(cfg)
			if err != nil {
				return err
			}
			w, _ := p.Weights(cmd.Context())
			cfg = p.Config()
			out := checkOutput{Listen: cfg.Listen, Admin: cfg.Admin.Listen, Weights: w,
				Legacy: cfg.Backends.Legacy.Servers, Kubernetes: cfg.Backends.Kubernetes.Servers}
			return render(g.stdout, g.output, out, func(tw *tabwriter.Writer) {
				fmt.Fprintf(tw, "listen\t%s\n", out.Listen)
				fmt.Fprintf(tw, "admin\t%s\n", out.Admin)
				fmt.Fprintf(tw, "weights\t%s\n", w)
				for _, s := range out.Legacy {
					fmt.Fprintf(tw, "legacy\t%s\n", s)
				}
				for _, s := range out.Kubernetes {
					fmt.Fprintf(tw, "kubernetes\t%s\n", s)
				}
			})
		},
	}
}

// client builds the admin client from --admin/--token, falling back to the config.
func (o *proxyOptions) client() (*proxy.AdminClient, error) {
	addr, token := o.admin, o.token
	if token == "" {
		token = os.Getenv(EnvProxyToken)
	}
	if addr == "" || token == "" {
		if o.config == "" && addr == "" {
			return nil, usageError{errors.New("say which proxy: --admin ADDRESS or -f FILE (its config)")}
		}
		if o.config != "" {
			cfg, err := proxy.LoadConfig(o.config)
			if err != nil {
				return nil, err
			}
			if addr == "" {
				addr = dialable(cfg.Admin.Listen)
			}
			if token == "" {
				token = cfg.Admin.Token
			}
		}
	}
	if !hasScheme(addr) {
		addr = "http://" + addr
	}
	return &proxy.AdminClient{BaseURL: addr, Token: token}, nil
}

// dialable turns a listen address into one to connect to: an unspecified host means
// this machine.
func dialable(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func hasScheme(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

func newProxyWeightsCommand(g *globalOptions, o *proxyOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "weights",
		Short: "Print a running proxy's weights",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			w, err := c.Weights(cmd.Context())
			if err != nil {
				return err
			}
			return renderWeights(g, w)
		},
	}
}

func renderWeights(g *globalOptions, w traffic.Weights) error {
	return render(g.stdout, g.output, w, func(tw *tabwriter.Writer) {
		fmt.Fprintln(tw, "SIDE\tSHARE\tBASIS POINTS")
		fmt.Fprintf(tw, "legacy\t%s\t%d\n", traffic.FormatPercent(w.Legacy), w.Legacy)
		fmt.Fprintf(tw, "kubernetes\t%s\t%d\n", traffic.FormatPercent(w.Kubernetes), w.Kubernetes)
	})
}

func newProxyWeightsSetCommand(g *globalOptions, o *proxyOptions) *cobra.Command {
	var legacy, kubernetes string
	cmd := &cobra.Command{
		Use:   "set --kubernetes-weight PERCENT | --legacy-weight PERCENT",
		Short: "Set a running proxy's weights (percent with up to two decimals; the other side gets the rest)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, err := weightsFromFlags(legacy, kubernetes)
			if err != nil {
				return usageError{err}
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			if err := c.SetWeights(cmd.Context(), w); err != nil {
				return err
			}
			return renderWeights(g, w)
		},
	}
	f := cmd.Flags()
	f.StringVar(&kubernetes, "kubernetes-weight", "", "Kubernetes share in percent, e.g. 10% or 0.5")
	f.StringVar(&legacy, "legacy-weight", "", "legacy share in percent, e.g. 90%")
	// --kubernetes and --legacy are URLs in ferry loadtest.
	deprecatedAlias(f, f.Lookup("kubernetes-weight"), "kubernetes", "use --kubernetes-weight (--kubernetes is a URL in ferry loadtest)")
	deprecatedAlias(f, f.Lookup("legacy-weight"), "legacy", "use --legacy-weight (--legacy is a URL in ferry loadtest)")
	return cmd
}

// weightsFromFlags reads --legacy-weight/--kubernetes-weight percentages into weights.
func weightsFromFlags(legacy, kubernetes string) (traffic.Weights, error) {
	if legacy == "" && kubernetes == "" {
		return traffic.Weights{}, errors.New("give --kubernetes-weight or --legacy-weight (a percentage such as 10%)")
	}
	var w traffic.Weights
	if kubernetes != "" {
		bp, err := traffic.ParsePercent(kubernetes)
		if err != nil {
			return w, fmt.Errorf("--kubernetes-weight: %w", err)
		}
		w = traffic.KubernetesShare(bp)
	}
	if legacy != "" {
		bp, err := traffic.ParsePercent(legacy)
		if err != nil {
			return w, fmt.Errorf("--legacy-weight: %w", err)
		}
		if kubernetes != "" && bp != w.Legacy {
			return w, fmt.Errorf("--legacy-weight %s and --kubernetes-weight %s must add up to 100%%", legacy, kubernetes)
		}
		w = traffic.KubernetesShare(traffic.Total - bp)
	}
	return w, nil
}

func newProxyStatsCommand(g *globalOptions, o *proxyOptions) *cobra.Command {
	var window time.Duration
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Print a running proxy's per-side statistics over a window",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if window <= 0 {
				return usageError{fmt.Errorf("--window must be positive, got %s", window)}
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			s, err := c.Stats(cmd.Context(), window)
			if err != nil {
				return err
			}
			return render(g.stdout, g.output, s, func(tw *tabwriter.Writer) { statsTable(tw, s) })
		},
	}
	cmd.Flags().DurationVar(&window, "window", time.Minute, "how far back to look (whole buckets, up to the retention)")
	return cmd
}

func statsTable(tw *tabwriter.Writer, s proxy.Snapshot) {
	fmt.Fprintf(tw, "window %s – %s, weights %s\n", s.From.Format(time.TimeOnly), s.To.Format(time.TimeOnly), s.Weights)
	fmt.Fprintln(tw, "SIDE\tREQUESTS\t2XX\t3XX\t4XX\t5XX\tERRORS\t5XX RATE\tP50\tP99\tMAX")
	for _, ss := range []proxy.SideStats{s.Legacy, s.Kubernetes} {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%.2f%%\t%s\t%s\t%s\n", ss.Side, ss.Requests,
			ss.Status.Success, ss.Status.Redirect, ss.Status.ClientError, ss.Status.ServerError, ss.Errors,
			100*ss.ErrorRate, micros(ss.Latency.P50), micros(ss.Latency.P99), micros(ss.Latency.Max))
	}
}

func micros(us int64) string {
	return (time.Duration(us) * time.Microsecond).String()
}

func newProxyBackendsCommand(g *globalOptions, o *proxyOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "backends",
		Short: "Print the health of a running proxy's servers",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			bs, err := c.Backends(cmd.Context())
			if err != nil {
				return err
			}
			return render(g.stdout, g.output, bs, func(tw *tabwriter.Writer) {
				fmt.Fprintln(tw, "SIDE\tSERVER\tHEALTHY\tAVAILABLE\tEJECTED UNTIL")
				for _, b := range bs {
					until := "-"
					if b.EjectedUntil != nil {
						until = b.EjectedUntil.Format(time.RFC3339)
					}
					fmt.Fprintf(tw, "%s\t%s\t%v\t%v\t%s\n", b.Side, b.URL, b.Healthy, b.Available, until)
				}
			})
		},
	}
}
