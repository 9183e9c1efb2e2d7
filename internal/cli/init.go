package cli

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"ferry.dev/ferry/internal/atomicfile"
	"ferry.dev/ferry/internal/legacy"
	"ferry.dev/ferry/internal/plan"
)

// initOptions are ferry init's flags.
type initOptions struct {
	app, image, healthPath string
	port                   int
	capistrano, crontab    string
	env, timeZone          string
	force                  bool
}

func newInitCommand(g *globalOptions) *cobra.Command {
	var o initOptions
	cmd := &cobra.Command{
		Use:   "init DIR --app NAME --image REPOSITORY:TAG [--capistrano deploy.rb] [--crontab FILE] [--env .env]",
		Short: "Write ferry.yaml, a kustomize base (Deployment, Service, PodDisruptionBudget, ConfigMap, Secret, suspended CronJobs) and migration.yaml from what the legacy servers had",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInit(g, args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.app, "app", "", "the app's name: names the Deployment, Service and the rest (required)")
	f.StringVar(&o.image, "image", "", "the image the app runs (required; ferry deploy replaces it on each release)")
	f.IntVar(&o.port, "port", 8080, "the port the app listens on")
	f.StringVar(&o.healthPath, "health-path", "/healthz", "the path that answers 200 when the app can serve")
	f.StringVar(&o.capistrano, "capistrano", "", "the legacy servers' Capistrano config (config/deploy.rb): where the app lived, its linked files, its framework")
	f.StringVar(&o.crontab, "crontab", "", "the legacy servers' crontab: every entry becomes a suspended CronJob")
	f.StringVar(&o.env, "env", "", "the legacy servers' .env: plain variables become a ConfigMap, secret-looking ones a Secret (written mode 0600)")
	f.StringVar(&o.timeZone, "time-zone", "", "the IANA zone the legacy cron ran in, such as Asia/Tokyo (with --crontab)")
	f.BoolVar(&o.force, "force", false, "overwrite files that already exist")
	return cmd
}

// initFile is one file ferry init writes.
type initFile struct {
	path string
	data []byte
	perm os.FileMode
}

func runInit(g *globalOptions, dir string, o initOptions) error {
	switch {
	case o.app == "":
		return usageError{errors.New("--app is required: the app's name")}
	case o.image == "":
		return usageError{errors.New("--image is required: the image the app runs")}
	}
	if err := validateName(o.app); err != nil {
		return usageError{errors.New(strings.Replace(err.Error(), "--name", "--app", 1))}
	}
	ns := g.kube.Namespace
	if ns == "" {
		ns = o.app
	}
	var base []*unstructured.Unstructured
	var secrets []*unstructured.Unstructured
	evidence := legacy.FrameworkEvidence{}
	work := legacy.WorkloadConfig{Name: o.app, Namespace: ns, Image: o.image, Container: legacy.DefaultContainer, Port: o.port, HealthPath: o.healthPath}

	var configMaps, secretNames []string
	if o.env != "" {
		cm, secret, vars, err := initEnv(o.env, o.app, ns)
		if err != nil {
			return err
		}
		evidence.Vars = vars
		base = append(base, cm)
		work.ConfigMap, configMaps = cm.GetName(), []string{cm.GetName()}
		if secret != nil {
			secrets = append(secrets, secret)
			work.Secret, secretNames = secret.GetName(), []string{secret.GetName()}
		}
	}
	if o.capistrano != "" {
		data, err := os.ReadFile(o.capistrano)
		if err != nil {
			return fmt.Errorf("read Capistrano config: %w", err)
		}
		linked, err := legacy.ParseCapistrano(o.capistrano, data)
		if err != nil {
			return err
		}
		evidence.Root, evidence.Capistrano = legacy.AppRoot(o.capistrano), data
		for _, l := range linked {
			evidence.Linked = append(evidence.Linked, l.Path)
		}
		if to := legacy.DeployTo(data); to != "" {
			work.AppDir = path.Join(to, "current")
		}
	}
	var cronJobs []*unstructured.Unstructured
	var notes []legacy.Note
	if o.crontab != "" {
		jobs, cronSecret, cronNotes, commands, err := initCrontab(o, ns, configMaps, secretNames)
		if err != nil {
			return err
		}
		cronJobs, notes, evidence.Commands = jobs, cronNotes, commands
		if cronSecret != nil {
			secrets = append(secrets, cronSecret)
		}
	}
	framework, why := legacy.DetectFramework(evidence)
	work.Framework = framework
	workload, err := legacy.Workload(work)
	if err != nil {
		return usageError{err}
	}
	files, err := initFiles(dir, o.app, ns, workload, base, secrets, cronJobs)
	if err != nil {
		return err
	}
	if !o.force {
		for _, f := range files {
			if _, err := os.Stat(f.path); err == nil {
				return usageError{fmt.Errorf("%s exists: pass --force to overwrite it", f.path)}
			}
		}
	}
	for _, f := range files {
		if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
			return fmt.Errorf("write %s: %w", f.path, err)
		}
		if err := atomicfile.Write(f.path, f.data, f.perm); err != nil {
			return fmt.Errorf("write %s: %w", f.path, err)
		}
		fmt.Fprintf(g.stderr, "wrote %s\n", f.path)
	}
	printNotes(g.stderr, notes)
	if framework != legacy.Unknown {
		fmt.Fprintf(g.stderr, "framework: %s (%s)\n", framework, why)
	}
	if len(secrets) > 0 {
		fmt.Fprintf(g.stderr, "the Secrets in %s hold the legacy values (mode 0600): keep them out of version control\n", filepath.Join(dir, "k8s"))
	}
	fmt.Fprintf(g.stderr, "next: ferry lint %s, then ferry deploy -f %s\n", filepath.Join(dir, "ferry.yaml"), filepath.Join(dir, "ferry.yaml"))
	return nil
}

// initEnv imports the .env file as ferry import env does: NAME-env and NAME-secrets.
func initEnv(file, app, ns string) (cm, secret *unstructured.Unstructured, names []string, err error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read env file: %w", err)
	}
	vars, _, err := legacy.ParseDotenv(file, data)
	if err != nil {
		return nil, nil, nil, err
	}
	cfg := legacy.EnvConfig{ConfigMap: app + "-env", Secret: app + "-secrets", Namespace: ns}
	placed := legacy.Split(vars, cfg)
	cm, secret, err = legacy.EnvObjects(vars, placed, cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(legacy.SecretKeys(placed)) == 0 {
		secret = nil
	}
	for _, v := range vars {
		names = append(names, v.Name)
	}
	return cm, secret, names, nil
}

// initCrontab imports the crontab as ferry import crontab does: suspended CronJobs that
// read the app's ConfigMap and Secret, and the Secret of the crontab's own secret-looking
// variables, if any.
func initCrontab(o initOptions, ns string, configMaps, secrets []string) (jobs []*unstructured.Unstructured, secret *unstructured.Unstructured, notes []legacy.Note, commands []string, err error) {
	data, err := os.ReadFile(o.crontab)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("read crontab: %w", err)
	}
	tab, err := legacy.ReadCrontab(o.crontab, data, legacy.DetectUserColumn)
	if errors.Is(err, legacy.ErrUserColumnUnclear) {
		return nil, nil, nil, nil, usageError{err}
	}
	if err != nil {
		return nil, nil, nil, nil, err
	}
	cfg := legacy.CronJobConfig{Image: o.image, Container: legacy.DefaultContainer, TimeZone: o.timeZone, Namespace: ns,
		NamePrefix: o.app + "-", ConfigMaps: configMaps, Secrets: secrets, CPU: "250m", Memory: "512Mi",
		StartingDeadline: legacy.DefaultStartingDeadline, ActiveDeadline: legacy.DefaultActiveDeadline}
	jobs, notes, err = legacy.CronJobs(tab, cfg)
	var inFile *legacy.PositionError
	if err != nil && !errors.As(err, &inFile) {
		return nil, nil, nil, nil, usageError{err} // --time-zone missing or wrong
	}
	if err != nil {
		return nil, nil, nil, nil, err
	}
	secret, placed, err := legacy.CronSecret(tab, cfg)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if len(placed) == 0 {
		secret = nil
	}
	for _, j := range tab.Jobs {
		commands = append(commands, j.Command)
	}
	return jobs, secret, notes, commands, nil
}

// initFiles lays out what ferry init writes under dir.
func initFiles(dir, app, ns string, workload, base, secrets, cronJobs []*unstructured.Unstructured) ([]initFile, error) {
	k8s := filepath.Join(dir, "k8s")
	var files []initFile
	var resources []string
	add := func(name string, objs []*unstructured.Unstructured, perm os.FileMode) error {
		if len(objs) == 0 {
			return nil
		}
		var b strings.Builder
		if err := writeYAML(&b, objs); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		files = append(files, initFile{filepath.Join(k8s, name), []byte(b.String()), perm})
		resources = append(resources, name)
		return nil
	}
	for _, f := range []struct {
		name string
		objs []*unstructured.Unstructured
		perm os.FileMode
	}{
		{"deployment.yaml", workload[:1], 0o644}, {"service.yaml", workload[1:2], 0o644}, {"pdb.yaml", workload[2:], 0o644},
		{"configmap.yaml", base, 0o644}, {"secret.yaml", secrets, 0o600}, {"cronjobs.yaml", cronJobs, 0o644},
	} {
		if err := add(f.name, f.objs, f.perm); err != nil {
			return nil, err
		}
	}
	kustomization := "# The kustomize base ferry init wrote; ferry deploy renders it (ferry.yaml's manifests.kustomize).\n" +
		"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
	for _, r := range resources {
		kustomization += "  - " + r + "\n"
	}
	files = append(files, initFile{filepath.Join(k8s, "kustomization.yaml"), []byte(kustomization), 0o644})

	ferryYAML := fmt.Sprintf(`# %s's definition for ferry: where its manifests are, which containers run the
# release image. See the README's "ferry.yaml" section.
app: %s
namespace: %s
manifests:
  kustomize: k8s
image:
  containers: [%s]
health:
  timeout: 5m
history:
  limit: 10
`, app, app, ns, legacy.DefaultContainer)
	files = append(files, initFile{filepath.Join(dir, "ferry.yaml"), []byte(ferryYAML), 0o644})

	var steps strings.Builder
	for _, w := range plan.DefaultWeights {
		fmt.Fprintf(&steps, "  - weight: %s%%\n", w)
	}
	migration := fmt.Sprintf(`# How %s's traffic moves from the legacy servers: ferry migrate start -f migration.yaml.
# The default ladder; each step holds until the gates pass. Pick the router that sits
# in front of both sides (see docs/migration-and-gates.md).
name: %s
steps:
%srouter:
  proxy: {admin: "http://127.0.0.1:9901", tokenFile: /etc/ferry/admin-token}
metrics:
  proxy: {}
`, app, app, steps.String())
	if len(cronJobs) > 0 {
		migration += fmt.Sprintf(`# The CronJobs stay suspended until the migration completes, then resume.
cronJobs:
  namespace: %s
  selector: app.kubernetes.io/component=cron
`, ns)
	}
	files = append(files, initFile{filepath.Join(dir, "migration.yaml"), []byte(migration), 0o644})
	return files, nil
}
