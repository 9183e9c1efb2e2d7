package app

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"ferry.dev/ferry/internal/strictyaml"
)

// Defaults applied by Load.
const (
	DefaultHealthTimeout    = 5 * time.Minute
	DefaultHistoryLimit     = 10
	DefaultPreDeployTimeout = 10 * time.Minute
	// FileName is the app definition's conventional name.
	FileName = "ferry.yaml"
)

// ErrInvalid marks every validation error of an app definition.
var ErrInvalid = errors.New("invalid app definition")

// Definition is a parsed and validated ferry.yaml. Paths are absolute.
type Definition struct {
	// App names the app; it labels every object ferry applies (ferry.dev/app).
	App string `yaml:"app"`
	// Namespace is where namespaced objects without one go, and where revisions and
	// the deploy lock are kept.
	Namespace string    `yaml:"namespace"`
	Manifests Manifests `yaml:"manifests"`
	Image     Image     `yaml:"image"`
	Health    Health    `yaml:"health"`
	History   History   `yaml:"history"`
	// PreDeploy, when set, runs a Job that must succeed before any workload changes.
	PreDeploy *PreDeploy `yaml:"preDeploy,omitempty"`

	// Path is the file the definition was read from.
	Path string `yaml:"-"`
}

// Manifests names exactly one manifest source.
type Manifests struct {
	// Directory holds YAML files (*.yaml, *.yml, *.json), read in name order.
	Directory string `yaml:"directory,omitempty"`
	// Kustomize is a kustomization directory.
	Kustomize string `yaml:"kustomize,omitempty"`
	// Helm is a chart rendered with values.
	Helm *Helm `yaml:"helm,omitempty"`
}

// Helm is a Helm chart source.
type Helm struct {
	// Chart is a chart directory or packaged chart (.tgz).
	Chart string `yaml:"chart"`
	// Values are values files, later ones winning.
	Values []string `yaml:"values,omitempty"`
	// Set are values in Helm's --set syntax, applied after the files.
	Set map[string]string `yaml:"set,omitempty"`
	// ReleaseName is the chart's .Release.Name; default the app name.
	ReleaseName string `yaml:"releaseName,omitempty"`
}

// Image says which containers get the image given to ferry deploy.
type Image struct {
	// Containers are container names; every workload container or init container with
	// one of these names gets the image.
	Containers []string `yaml:"containers"`
}

// Health bounds how long a deploy waits for every object to be healthy.
type Health struct {
	Timeout time.Duration `yaml:"timeout,omitempty"`
}

// History bounds how many revisions are kept.
type History struct {
	Limit int `yaml:"limit,omitempty"`
}

// PreDeploy is a Job built from a Deployment's pod template (with the new image) that
// must complete before any workload changes, such as a database migration.
type PreDeploy struct {
	// FromDeployment names the Deployment whose pod template the Job copies.
	FromDeployment string `yaml:"fromDeployment"`
	// Container is the container to run; the others are dropped. Default: the first.
	Container string `yaml:"container,omitempty"`
	// Command replaces the container's command.
	Command []string `yaml:"command"`
	// Timeout bounds the Job.
	Timeout time.Duration `yaml:"timeout,omitempty"`
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// Load reads, validates and completes the definition at path.
func Load(path string) (*Definition, error) {
	data, dir, err := strictyaml.ReadFile(path, "app definition")
	if err != nil {
		return nil, err
	}
	def, err := Parse(data, dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	def.Path = filepath.Join(dir, filepath.Base(path))
	return def, nil
}

// Parse validates a definition whose relative paths are relative to dir. Errors name
// the line of the mistake where the YAML gives one.
func Parse(data []byte, dir string) (*Definition, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalid, strictyaml.Clean(err))
	}
	var def Definition
	if err := strictyaml.Decode(data, &def); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := def.validate(&root); err != nil {
		return nil, err
	}
	def.complete(dir)
	return &def, nil
}

func (d *Definition) validate(root *yaml.Node) error {
	fail := func(path, format string, args ...any) error {
		where := ""
		if line := lineOf(root, path); line > 0 {
			where = fmt.Sprintf("line %d: ", line)
		}
		return fmt.Errorf("%w: %s%s: %s", ErrInvalid, where, path, fmt.Sprintf(format, args...))
	}
	switch {
	case d.App == "":
		return fail("app", "is required")
	case !dnsLabel.MatchString(d.App) || len(d.App) > 40:
		return fail("app", "%q must be a lower-case DNS label of at most 40 characters", d.App)
	case d.Namespace == "":
		return fail("namespace", "is required")
	case !dnsLabel.MatchString(d.Namespace) || len(d.Namespace) > 63:
		return fail("namespace", "%q must be a lower-case DNS label", d.Namespace)
	}
	sources := 0
	for _, set := range []bool{d.Manifests.Directory != "", d.Manifests.Kustomize != "", d.Manifests.Helm != nil} {
		if set {
			sources++
		}
	}
	if sources != 1 {
		return fail("manifests", "name exactly one of directory, kustomize or helm")
	}
	if d.Manifests.Helm != nil && d.Manifests.Helm.Chart == "" {
		return fail("manifests.helm.chart", "is required")
	}
	if len(d.Image.Containers) == 0 {
		return fail("image.containers", "name at least one container that gets the deployed image")
	}
	for _, c := range d.Image.Containers {
		if !dnsLabel.MatchString(c) {
			return fail("image.containers", "%q is not a valid container name", c)
		}
	}
	if d.Health.Timeout < 0 {
		return fail("health.timeout", "must be positive")
	}
	if d.History.Limit < 0 || d.History.Limit == 1 {
		return fail("history.limit", "must be at least 2 (the current revision and one to roll back to), got %d", d.History.Limit)
	}
	if p := d.PreDeploy; p != nil {
		switch {
		case p.FromDeployment == "":
			return fail("preDeploy.fromDeployment", "is required")
		case len(p.Command) == 0:
			return fail("preDeploy.command", "is required")
		case p.Timeout < 0:
			return fail("preDeploy.timeout", "must be positive")
		}
	}
	return nil
}

func (d *Definition) complete(dir string) {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	d.Manifests.Directory = abs(d.Manifests.Directory)
	d.Manifests.Kustomize = abs(d.Manifests.Kustomize)
	if h := d.Manifests.Helm; h != nil {
		h.Chart = abs(h.Chart)
		for i, v := range h.Values {
			h.Values[i] = abs(v)
		}
		if h.ReleaseName == "" {
			h.ReleaseName = d.App
		}
	}
	if d.Health.Timeout == 0 {
		d.Health.Timeout = DefaultHealthTimeout
	}
	if d.History.Limit == 0 {
		d.History.Limit = DefaultHistoryLimit
	}
	if d.PreDeploy != nil && d.PreDeploy.Timeout == 0 {
		d.PreDeploy.Timeout = DefaultPreDeployTimeout
	}
}

// lineOf returns the line of the value (or key) at a dotted path, or 0.
func lineOf(root *yaml.Node, path string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, key := range strings.Split(path, ".") {
		if n.Kind != yaml.MappingNode {
			return line
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				line = n.Content[i].Line
				n = n.Content[i+1]
				found = true
				break
			}
		}
		if !found {
			return line
		}
	}
	return line
}
