package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"ferry.dev/ferry/internal/atomicfile"
	"ferry.dev/ferry/internal/legacy"
)

func newImportCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Turn what the legacy servers had into manifests: crontabs into CronJobs, .env files into a ConfigMap and a Secret",
		Args:  exactArgs(0),
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newImportCrontabCommand(g), newImportEnvCommand(g))
	return cmd
}

// importCrontabOptions are ferry import crontab's flags.
type importCrontabOptions struct {
	cfg       legacy.CronJobConfig
	system    bool
	noSystem  bool
	secretOut string
}

func newImportCrontabCommand(g *globalOptions) *cobra.Command {
	var o importCrontabOptions
	var file string
	cmd := &cobra.Command{
		Use:   "crontab FILE --image REPOSITORY:TAG --time-zone ZONE",
		Short: "Print a suspended CronJob with safe defaults for every crontab entry, and what could not map; write variables that look secret as a Secret only to --secret-out",
		Args:  rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := inputFile(args, file)
			if err != nil {
				return err
			}
			o.cfg.Namespace = g.kube.Namespace
			return importCrontab(g, path, o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&file, "file", "f", "", "the crontab to read (or give it as the argument)")
	f.BoolVar(&o.system, "system", false, "the file has a user column, as /etc/crontab and /etc/cron.d/* do (default: decided from the path, a header comment or the entries; unclear files are refused)")
	f.BoolVar(&o.noSystem, "no-system", false, "the file has no user column, as crontab -l prints")
	f.StringVar(&o.cfg.Image, "image", "", "the image the jobs run (required; ferry deploy replaces it on containers named in ferry.yaml)")
	f.StringVar(&o.cfg.Container, "container", legacy.DefaultContainer, "the jobs' container name: use one of ferry.yaml's image.containers so deploys set the release image")
	f.StringVar(&o.cfg.TimeZone, "time-zone", "", "the IANA zone the legacy cron ran in, such as Asia/Tokyo (required unless every entry follows a CRON_TZ line)")
	f.StringVar(&o.cfg.NamePrefix, "name-prefix", "", "a prefix for every CronJob name")
	f.DurationVar(&o.cfg.StartingDeadline, "starting-deadline", legacy.DefaultStartingDeadline, "how late a missed run may still start")
	f.DurationVar(&o.cfg.ActiveDeadline, "active-deadline", legacy.DefaultActiveDeadline, "the longest a run may take (never more than the time between runs)")
	f.StringSliceVar(&o.cfg.ConfigMaps, "env-from-configmap", nil, "ConfigMaps whose keys every job gets as variables (repeatable, or comma-separated)")
	f.StringSliceVar(&o.cfg.Secrets, "env-from-secret", nil, "Secrets whose keys every job gets as variables (repeatable, or comma-separated)")
	f.StringVar(&o.cfg.Secret, "secret-name", "", "the Secret the jobs read the crontab's secret-looking variables from (default "+legacy.DefaultCronSecret+", after --name-prefix)")
	f.StringVar(&o.secretOut, "secret-out", "", "write that Secret's manifest, values included, to this file (mode 0600); nothing else ever shows the values")
	f.StringVar(&o.cfg.CPU, "cpu", "", "each job's CPU request, such as 250m")
	f.StringVar(&o.cfg.Memory, "memory", "", "each job's memory request and limit, such as 512Mi")
	return cmd
}

// crontabImport is ferry import crontab's -o json output: the CronJobs and, of the
// Secret of the variables that look secret, only its keys.
type crontabImport struct {
	Objects []*unstructured.Unstructured `json:"objects"`
	Secret  *secretSummary               `json:"secret,omitempty"`
	Notes   []legacy.Note                `json:"notes"`
}

func importCrontab(g *globalOptions, file string, o importCrontabOptions) error {
	if o.cfg.Image == "" {
		return usageError{errors.New("--image is required: the image the jobs run")}
	}
	if o.cfg.StartingDeadline < 10*time.Second || o.cfg.ActiveDeadline < time.Second {
		return usageError{errors.New("--starting-deadline must be at least 10s and --active-deadline at least 1s")}
	}
	columns := legacy.DetectUserColumn
	switch {
	case o.system && o.noSystem:
		return usageError{errors.New("give --system or --no-system, not both")}
	case o.system:
		columns = legacy.WithUserColumn
	case o.noSystem:
		columns = legacy.WithoutUserColumn
	}
	if o.cfg.Secret != "" && (!dnsName(o.cfg.Secret) || len(o.cfg.Secret) > 253) {
		return usageError{fmt.Errorf("--secret-name %q must be a lower-case DNS name", o.cfg.Secret)}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read crontab: %w", err)
	}
	tab, err := legacy.ReadCrontab(file, data, columns)
	if errors.Is(err, legacy.ErrUserColumnUnclear) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	objs, notes, err := legacy.CronJobs(tab, o.cfg)
	var inFile *legacy.PositionError
	if err != nil && !errors.As(err, &inFile) {
		return usageError{err} // a flag is missing or wrong
	}
	if err != nil {
		return err
	}
	secret, placed, err := legacy.CronSecret(tab, o.cfg)
	if err != nil {
		return err
	}
	var sum *secretSummary
	if secret != nil {
		sum = &secretSummary{Name: secret.GetName(), Namespace: o.cfg.Namespace, Keys: placed}
		if o.secretOut != "" {
			if err := writeSecretFile(o.secretOut, secret); err != nil {
				return err
			}
			sum.File = o.secretOut
		}
	}
	if g.output == "json" {
		return render(g.stdout, "json", crontabImport{Objects: nonNil(objs), Secret: sum, Notes: nonNilNotes(notes)}, nil)
	}
	if err := writeYAML(g.stdout, objs); err != nil {
		return err
	}
	skipped := printNotes(g.stderr, notes)
	fmt.Fprintf(g.stderr, "%d CronJob%s from %d entr%s of %s, %d skipped; all suspended until cutover\n",
		len(objs), plural(len(objs)), len(tab.Jobs), map[bool]string{true: "y", false: "ies"}[len(tab.Jobs) == 1], file, skipped)
	if sum != nil {
		printSecretSummary(g.stderr, *sum)
	}
	return nil
}

// printSecretSummary says which variables went to a Secret and where it was written,
// never their values.
func printSecretSummary(w io.Writer, sum secretSummary) {
	keys := make([]string, 0, len(sum.Keys))
	for _, p := range sum.Keys {
		keys = append(keys, p.Name)
	}
	sort.Strings(keys)
	what := fmt.Sprintf("Secret %s: %d variable%s (%s), values not shown", sum.Name, len(keys), plural(len(keys)), strings.Join(keys, ", "))
	switch {
	case len(keys) == 0:
		fmt.Fprintf(w, "Secret %s: no variable looks secret; nothing written\n", sum.Name)
	case sum.File == "":
		fmt.Fprintf(w, "%s: pass --secret-out FILE to write it\n", what)
	default:
		fmt.Fprintf(w, "%s: written to %s (mode 0600; keep it out of version control)\n", what, sum.File)
	}
}

// importEnvOptions are ferry import env's flags.
type importEnvOptions struct {
	cfg       legacy.EnvConfig
	name      string
	secretOut string
}

func newImportEnvCommand(g *globalOptions) *cobra.Command {
	var o importEnvOptions
	var file string
	cmd := &cobra.Command{
		Use:   "env FILE [--name NAME] [--secret-out FILE]",
		Short: "Print a ConfigMap of a .env file's plain variables; write its secret ones as a Secret only to --secret-out",
		Args:  rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := inputFile(args, file)
			if err != nil {
				return err
			}
			o.cfg.Namespace = g.kube.Namespace
			return importEnv(g, path, o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&file, "file", "f", "", "the .env file to read (or give it as the argument)")
	f.StringVar(&o.name, "name", "app", "names the objects: NAME-env (ConfigMap) and NAME-secrets (Secret)")
	f.StringVar(&o.secretOut, "secret-out", "", "write the Secret manifest, values included, to this file (mode 0600); nothing else ever shows the values")
	f.StringSliceVar(&o.cfg.Secrets, "secret", nil, "variables to put in the Secret whatever their names (repeatable, or comma-separated)")
	f.StringSliceVar(&o.cfg.Config, "configmap", nil, "variables to put in the ConfigMap whatever their names (repeatable, or comma-separated)")
	// --config names a config file everywhere else.
	deprecatedAlias(f, f.Lookup("configmap"), "config", "use --configmap (--config names a config file elsewhere)")
	return cmd
}

// envImport is ferry import env's -o json output: the ConfigMap, and of the Secret
// only its keys.
type envImport struct {
	ConfigMap *unstructured.Unstructured `json:"configMap"`
	Secret    secretSummary              `json:"secret"`
	Notes     []legacy.Note              `json:"notes"`
}

type secretSummary struct {
	Name      string             `json:"name"`
	Namespace string             `json:"namespace,omitempty"`
	Keys      []legacy.Placement `json:"keys"`
	File      string             `json:"file,omitempty"`
}

func importEnv(g *globalOptions, file string, o importEnvOptions) error {
	if err := validateName(o.name); err != nil {
		return usageError{err}
	}
	o.cfg.ConfigMap, o.cfg.Secret = o.name+"-env", o.name+"-secrets"
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read env file: %w", err)
	}
	vars, notes, err := legacy.ParseDotenv(file, data)
	if err != nil {
		return err
	}
	placed := legacy.Split(vars, o.cfg)
	cm, secret, err := legacy.EnvObjects(vars, placed, o.cfg)
	if err != nil {
		return err
	}
	keys := legacy.SecretKeys(placed)
	if o.secretOut != "" && len(keys) > 0 {
		if err := writeSecretFile(o.secretOut, secret); err != nil {
			return err
		}
	}
	if g.output == "json" {
		sum := secretSummary{Name: o.cfg.Secret, Namespace: o.cfg.Namespace, Keys: secretPlacements(placed)}
		if len(keys) > 0 {
			sum.File = o.secretOut
		}
		return render(g.stdout, "json", envImport{ConfigMap: cm, Secret: sum, Notes: nonNilNotes(notes)}, nil)
	}
	if err := writeYAML(g.stdout, []*unstructured.Unstructured{cm}); err != nil {
		return err
	}
	printNotes(g.stderr, notes)
	fmt.Fprintf(g.stderr, "ConfigMap %s: %d variable%s (printed above)\n", o.cfg.ConfigMap, len(vars)-len(keys), plural(len(vars)-len(keys)))
	sum := secretSummary{Name: o.cfg.Secret, Keys: secretPlacements(placed)}
	if len(keys) > 0 {
		sum.File = o.secretOut
	}
	printSecretSummary(g.stderr, sum)
	return nil
}

func secretPlacements(placed []legacy.Placement) []legacy.Placement {
	out := []legacy.Placement{}
	for _, p := range placed {
		if p.Secret {
			out = append(out, p)
		}
	}
	return out
}

func validateName(name string) error {
	if !dnsName(name) || len(name) > 200 {
		return fmt.Errorf("--name %q must be a lower-case DNS name", name)
	}
	return nil
}

func dnsName(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// writeSecretFile writes the Secret manifest to path with mode 0600, all or nothing,
// into a directory that exists: a mistyped path is an error, not a new directory.
func writeSecretFile(path string, secret *unstructured.Unstructured) error {
	data, err := yaml.Marshal(secret.Object)
	if err != nil {
		return fmt.Errorf("write secret: %w", err)
	}
	if _, err := os.Stat(filepath.Dir(path)); err != nil {
		return fmt.Errorf("write secret: %w", err)
	}
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return fmt.Errorf("write secret: %w", err)
	}
	return nil
}

// writeYAML writes objects as one multi-document YAML stream.
func writeYAML(w io.Writer, objs []*unstructured.Unstructured) error {
	var b strings.Builder
	for i, obj := range objs {
		data, err := yaml.Marshal(obj.Object)
		if err != nil {
			return err
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(data)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// printNotes writes one line per note and returns how many were skipped entries.
func printNotes(w io.Writer, notes []legacy.Note) int {
	skipped := 0
	for _, n := range notes {
		fmt.Fprintln(w, n.String())
		if n.Kind == legacy.Skipped {
			skipped++
		}
	}
	return skipped
}

func nonNil(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	if objs == nil {
		return []*unstructured.Unstructured{}
	}
	return objs
}

func nonNilNotes(notes []legacy.Note) []legacy.Note {
	if notes == nil {
		return []legacy.Note{}
	}
	return notes
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// inputFile is the file a command reads: its argument or -f, one of the two.
func inputFile(args []string, file string) (string, error) {
	switch {
	case len(args) == 1 && file != "":
		return "", usageError{errors.New("give the file as the argument or with -f, not both")}
	case len(args) == 1:
		return args[0], nil
	case file != "":
		return file, nil
	}
	return "", usageError{errors.New("which file? give it as the argument or with -f")}
}
