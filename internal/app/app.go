package app

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"time"

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

// Parse validates a definition whose relative paths are relative to dir. Its error
// wraps ErrInvalid and names every mistake, each with its field, its line and what
// would be valid.
func Parse(data []byte, dir string) (*Definition, error) {
	var def Definition
	ps := strictyaml.NewProblems(data)
	if ps.Decode(&def) {
		def.validate(ps)
	}
	if err := ps.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	def.complete(dir)
	return &def, nil
}

const wantDNSLabel = "lower-case letters, digits and '-', starting and ending with a letter or digit"

// validate adds every mistake of the definition to ps.
func (d *Definition) validate(ps *strictyaml.Problems) {
	switch {
	case d.App == "":
		ps.Add("app", "required: the app's name, a DNS label such as shop-web")
	case !dnsLabel.MatchString(d.App) || len(d.App) > 40:
		ps.Add("app", "%q is not a name ferry can use: want at most 40 %s", d.App, wantDNSLabel)
	}
	switch {
	case d.Namespace == "":
		ps.Add("namespace", "required: the namespace the app runs in")
	case !dnsLabel.MatchString(d.Namespace) || len(d.Namespace) > 63:
		ps.Add("namespace", "%q is not a namespace name: want at most 63 %s", d.Namespace, wantDNSLabel)
	}
	sources := 0
	for _, set := range []bool{d.Manifests.Directory != "", d.Manifests.Kustomize != "", d.Manifests.Helm != nil} {
		if set {
			sources++
		}
	}
	if sources != 1 {
		ps.Add("manifests", "name exactly one of directory, kustomize or helm (found %d)", sources)
	}
	if d.Manifests.Helm != nil && d.Manifests.Helm.Chart == "" {
		ps.Add("manifests.helm.chart", "required: a chart directory or a packaged chart (.tgz)")
	}
	if len(d.Image.Containers) == 0 {
		ps.Add("image.containers", "name at least one container that gets the deployed image")
	}
	for i, c := range d.Image.Containers {
		if !dnsLabel.MatchString(c) {
			ps.Add(fmt.Sprintf("image.containers[%d]", i), "%q is not a container name: want %s", c, wantDNSLabel)
		}
	}
	if d.Health.Timeout < 0 {
		ps.Add("health.timeout", "%s is negative: want a duration such as 90s or 5m", d.Health.Timeout)
	}
	if d.History.Limit < 0 || d.History.Limit == 1 {
		ps.Add("history.limit", "must be at least 2 (the current revision and one to roll back to), got %d", d.History.Limit)
	}
	if p := d.PreDeploy; p != nil {
		if p.FromDeployment == "" {
			ps.Add("preDeploy.fromDeployment", "required: the Deployment whose pod template the Job copies")
		}
		if len(p.Command) == 0 {
			ps.Add("preDeploy.command", "required: the command the Job runs, a list such as [bin/rails, db:migrate]")
		}
		if p.Timeout < 0 {
			ps.Add("preDeploy.timeout", "%s is negative: want a duration such as 10m", p.Timeout)
		}
	}
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
