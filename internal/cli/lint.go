package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"ferry.dev/ferry/internal/app"
	"ferry.dev/ferry/internal/legacy"
	"ferry.dev/ferry/internal/lint"
	rendering "ferry.dev/ferry/internal/render"
	"ferry.dev/ferry/internal/version"
)

// lintOptions are ferry lint's flags.
type lintOptions struct {
	file        string
	dir         string
	kustomize   string
	chart       string
	values      []string
	set         []string
	releaseName string
	envFiles    []string
	envLists    []string
	capistrano  []string
	containers  []string
	disable     []string
	failOn      string
	listRules   bool
	// fileSet says -f was given.
	fileSet bool
}

func newLintCommand(g *globalOptions) *cobra.Command {
	var o lintOptions
	cmd := &cobra.Command{
		Use:   "lint [-f ferry.yaml | --dir DIR | --kustomize DIR | --helm-chart CHART]",
		Short: "Check the rendered manifests for the traps of moving a legacy app (exit 5 on warnings, 6 on errors)",
		Long: `Check the rendered manifests for the traps of moving a legacy app: CronJobs that fire when
unsuspended, pods that do not shut down gracefully, mutable images, missing environment,
missing requests, limits and disruption budgets. ferry deploy runs the same rules first.

Output: -o table (text), json, yaml or sarif (SARIF 2.1.0).
Exit codes: 0 nothing at or above --fail-on; 5 warnings (or info); 6 errors; 1 unreadable
input, nothing to check, or an app container no workload has; 2 usage.

Switch rules off per object with the annotation
ferry.dev/lint-ignore: FERRY-CRON-003,FERRY-IMG-001, or per run with --disable.`,
		Args: exactArgs(0),
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			quietLibraries(cmd)
			warnDeprecated(cmd, g.stderr)
			if g.output == "sarif" {
				return nil
			}
			return validateOutput(g.output)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.listRules {
				return listRules(g)
			}
			o.fileSet = cmd.Flags().Changed("file")
			if err := o.validate(); err != nil {
				return err
			}
			return o.run(g)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.file, "file", "f", app.FileName, "the app definition whose manifests to check")
	f.StringVar(&o.dir, "dir", "", "check a directory of manifests instead")
	f.StringVar(&o.kustomize, "kustomize", "", "check a kustomization instead")
	f.StringVar(&o.chart, "helm-chart", "", "check a Helm chart instead")
	f.StringSliceVar(&o.values, "values", nil, "values files for --helm-chart (repeatable, or comma-separated)")
	f.StringArrayVar(&o.set, "set", nil, "KEY=VALUE for --helm-chart (repeatable; commas separate pairs as in helm --set)")
	f.StringVar(&o.releaseName, "release-name", "", "the chart's release name (default: the chart's directory name)")
	f.StringSliceVar(&o.envFiles, "env-file", nil, "dotenv files of the legacy app: their variables must reach the app containers (repeatable, or comma-separated)")
	f.StringSliceVar(&o.envLists, "env-list", nil, "files of variable names the legacy app had, one a line or NAME=value as env prints (repeatable, or comma-separated)")
	f.StringSliceVar(&o.capistrano, "capistrano", nil, "Capistrano configs (config/deploy.rb): their linked_files and linked_dirs must be provided (repeatable, or comma-separated)")
	f.StringSliceVar(&o.containers, "container", nil, "containers that run the app (repeatable, or comma-separated; default: ferry.yaml's image.containers, else all)")
	f.StringSliceVar(&o.disable, "disable", nil, "rule IDs not to run (repeatable, or comma-separated; see --list-rules)")
	f.StringVar(&o.failOn, "fail-on", "warning", "the lowest severity that makes the exit code non-zero: error, warning, info, or none (never)")
	// lint's own -o, which takes sarif too; it sets the same value as everyone's -o.
	f.StringVarP(&g.output, "output", "o", "table", "output format: table (text), json, yaml or sarif (SARIF 2.1.0)")
	f.BoolVar(&o.listRules, "list-rules", false, "print the rules and exit")
	return cmd
}

func (o *lintOptions) validate() error {
	sources := 0
	for _, s := range []string{o.dir, o.kustomize, o.chart} {
		if s != "" {
			sources++
		}
	}
	switch {
	case sources > 1:
		return usageError{errors.New("give at most one of --dir, --kustomize and --helm-chart")}
	case sources == 1 && o.fileSet:
		return usageError{errors.New("-f reads the manifests of ferry.yaml: leave it out with --dir, --kustomize or --helm-chart")}
	case o.chart == "" && (len(o.values) > 0 || len(o.set) > 0 || o.releaseName != ""):
		return usageError{errors.New("--values, --set and --release-name go with --helm-chart")}
	}
	if o.failOn != "none" {
		if _, err := lint.ParseSeverity(o.failOn); err != nil {
			return usageError{fmt.Errorf("--fail-on: %w", err)}
		}
	}
	for _, kv := range o.set {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return usageError{fmt.Errorf("--set %q: want KEY=VALUE", kv)}
		}
	}
	return nil
}

// definition is ferry.yaml, or one made of the source flags.
func (o *lintOptions) definition(g *globalOptions) (*app.Definition, error) {
	if o.dir == "" && o.kustomize == "" && o.chart == "" {
		def, err := app.Load(o.file)
		if err != nil {
			return nil, err
		}
		if g.kube.Namespace != "" {
			def.Namespace = g.kube.Namespace
		}
		return def, nil
	}
	def := &app.Definition{Namespace: g.kube.Namespace}
	if def.Namespace == "" {
		def.Namespace = "default"
	}
	abs := func(p string) (string, error) { return filepath.Abs(p) }
	var err error
	switch {
	case o.dir != "":
		def.Manifests.Directory, err = abs(o.dir)
	case o.kustomize != "":
		def.Manifests.Kustomize, err = abs(o.kustomize)
	default:
		h := &app.Helm{Values: o.values, Set: map[string]string{}, ReleaseName: o.releaseName}
		h.Chart, err = abs(o.chart)
		if h.ReleaseName == "" {
			h.ReleaseName = strings.TrimSuffix(filepath.Base(o.chart), ".tgz")
		}
		for _, kv := range o.set {
			k, v, _ := strings.Cut(kv, "=")
			h.Set[k] = v
		}
		def.Manifests.Helm = h
	}
	return def, err
}

func (o *lintOptions) run(g *globalOptions) error {
	def, err := o.definition(g)
	if err != nil {
		return err
	}
	objs, err := rendering.Source(def)
	if errors.Is(err, rendering.ErrNoObjects) {
		return fmt.Errorf("nothing to check: %s", sourceName(def))
	}
	if err != nil {
		return err
	}
	cfg := lint.Config{Namespace: def.Namespace, AppContainers: def.Image.Containers, Disabled: o.disable}
	what := "image.containers of " + o.file
	if len(o.containers) > 0 {
		cfg.AppContainers, what = o.containers, "--container"
	}
	if err := checkAppContainers(objs, cfg.AppContainers, what); err != nil {
		return err
	}
	if cfg.Legacy, err = o.legacyInputs(); err != nil {
		return err
	}
	if dir := def.Manifests.Directory; dir != "" {
		cfg.Locations = lint.Locate(dir)
	}
	report, err := lint.Run(objs, cfg)
	if err != nil {
		return usageError{err}
	}
	if err := writeReport(g, report); err != nil {
		return err
	}
	return lintExit(report, o.failOn)
}

// sourceName says which manifests a definition renders, for errors.
func sourceName(def *app.Definition) string {
	m := def.Manifests
	switch {
	case m.Directory != "":
		return "no manifests (*.yaml, *.yml, *.json) in " + m.Directory
	case m.Kustomize != "":
		return "the kustomization " + m.Kustomize + " renders no objects"
	case m.Helm != nil:
		return "the chart " + m.Helm.Chart + " renders no objects"
	}
	return "no manifests"
}

// checkAppContainers refuses app containers that no workload has: the rules that
// look at the app's containers would pass for want of one, as ferry deploy would
// refuse to set the image on none.
func checkAppContainers(objs []*unstructured.Unstructured, names []string, what string) error {
	if len(names) == 0 {
		return nil
	}
	var have []string
	for _, obj := range objs {
		path := rendering.PodSpecPath(obj.GetKind())
		if path == nil {
			continue
		}
		for _, field := range []string{"containers", "initContainers"} {
			list, _, _ := unstructured.NestedSlice(obj.Object, append(path, field)...)
			for _, item := range list {
				if c, ok := item.(map[string]any); ok {
					if name, _ := c["name"].(string); name != "" && !slices.Contains(have, name) {
						have = append(have, name)
					}
				}
			}
		}
	}
	for _, n := range names {
		if slices.Contains(have, n) {
			return nil
		}
	}
	if len(have) == 0 {
		return fmt.Errorf("%s names %s, but the manifests have no workload with containers", what, strings.Join(names, ", "))
	}
	slices.Sort(have)
	return fmt.Errorf("%s names %s, but no workload has such a container: the containers are %s", what, strings.Join(names, ", "), strings.Join(have, ", "))
}

func writeReport(g *globalOptions, report lint.Report) error {
	cwd, _ := os.Getwd()
	switch g.output {
	case "sarif":
		return lint.WriteSARIF(g.stdout, report, lint.ToolInfo{Name: "ferry", Version: version.Version}, cwd)
	case "json", "yaml":
		return render(g.stdout, g.output, report, nil)
	}
	return lint.WriteText(g.stdout, report, cwd)
}

// lintExit turns the worst finding at or above failOn into exit code 5 or 6.
func lintExit(report lint.Report, failOn string) error {
	worst, found := report.Worst()
	if !found || failOn == "none" {
		return nil
	}
	threshold, _ := lint.ParseSeverity(failOn)
	if worst < threshold {
		return nil
	}
	err := fmt.Errorf("lint found %s", report.Summary)
	if worst == lint.Error {
		return exitCodeError{ExitLintErrors, err}
	}
	return exitCodeError{ExitLintWarnings, err}
}

// legacyInputs reads the legacy environment the env parity rules compare with.
func (o *lintOptions) legacyInputs() (lint.Legacy, error) {
	var out lint.Legacy
	seen := map[string]bool{}
	addVars := func(file string, vars []legacy.Var) {
		for _, v := range vars {
			if !seen[v.Name] {
				seen[v.Name] = true
				out.Vars = append(out.Vars, lint.LegacyVar{Name: v.Name, Source: fmt.Sprintf("%s:%d", file, v.Line)})
			}
		}
	}
	for _, file := range o.envFiles {
		data, err := os.ReadFile(file)
		if err != nil {
			return out, fmt.Errorf("read env file: %w", err)
		}
		vars, _, err := legacy.ParseDotenv(file, data)
		if err != nil {
			return out, err
		}
		addVars(file, vars)
	}
	for _, file := range o.envLists {
		data, err := os.ReadFile(file)
		if err != nil {
			return out, fmt.Errorf("read env list: %w", err)
		}
		vars, err := legacy.ParseNameList(file, data)
		if err != nil {
			return out, err
		}
		addVars(file, vars)
	}
	for _, file := range o.capistrano {
		data, err := os.ReadFile(file)
		if err != nil {
			return out, fmt.Errorf("read Capistrano config: %w", err)
		}
		linked, err := legacy.ParseCapistrano(file, data)
		if err != nil {
			return out, err
		}
		for _, l := range linked {
			out.Linked = append(out.Linked, lint.LegacyPath{Path: l.Path, Dir: l.Dir, Source: fmt.Sprintf("%s:%d", file, l.Line)})
		}
		// The app's files beside the config tell its framework best; plain PHP is
		// left for lint to refine from the jobs' commands.
		if f, _ := legacy.DetectFramework(legacy.FrameworkEvidence{Root: legacy.AppRoot(file), Capistrano: data}); out.Framework == "" && f != legacy.PHP {
			out.Framework = string(f)
		}
	}
	return out, nil
}

func listRules(g *globalOptions) error {
	if g.output == "sarif" {
		return usageError{errors.New("--list-rules prints table, json or yaml")}
	}
	rules := lint.Rules()
	return render(g.stdout, g.output, rules, func(tw *tabwriter.Writer) {
		fmt.Fprintln(tw, "RULE\tSEVERITY\tCATCHES")
		for _, r := range rules {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Severity, r.Title)
		}
	})
}

// deployCheck is ferry deploy's preflight: the lint rules on exactly what is about to
// be applied, warnings printed, errors refusing the deploy.
func deployCheck(g *globalOptions, def *app.Definition) func([]*unstructured.Unstructured) error {
	return func(objs []*unstructured.Unstructured) error {
		return lint.Gate(g.stderr, objs, lint.Config{Namespace: def.Namespace, AppContainers: def.Image.Containers})
	}
}
