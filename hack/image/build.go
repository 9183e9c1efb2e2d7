package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

const (
	// DefaultSource is where the image's source lives (its source label).
	DefaultSource = "https://github.com/ferry-dev/ferry"
	// DefaultCABundle is Debian's ca-certificates bundle, also where Go looks first on
	// Linux, so the image keeps it at the same path.
	DefaultCABundle = "/etc/ssl/certs/ca-certificates.crt"
	// chartDir is the Helm chart whose default image this is.
	chartDir = "deploy/charts/ferry"
	// versionPackage is where the linker stamps the version and commit.
	versionPackage = "ferry.dev/ferry/internal/version"
)

// Config says what to build and where to put it.
type Config struct {
	// Root is the module's root directory, a git checkout.
	Root string
	// Out is the output directory, relative to Root unless absolute.
	Out string
	// Repository and Tag name the image; empty means the chart's default image.
	Repository, Tag string
	// Source is the org.opencontainers.image.source label.
	Source string
	// Arch is the image's GOARCH (the OS is always linux).
	Arch string
	// CABundle is the PEM file of CA certificates to include.
	CABundle string
}

// Result is what Build made.
type Result struct {
	// Name is repository:tag.
	Name string
	// Digest is the image manifest's digest, sha256:….
	Digest string
	// Version (git describe) and Revision (the commit) are stamped into the binary and
	// the labels; Created (the commit's time, or SOURCE_DATE_EPOCH) into every
	// timestamp.
	Version, Revision string
	Created           time.Time
	// Layout is the OCI image layout directory; Tarball the same image as a
	// docker-load / crane-push tarball.
	Layout, Tarball string
}

// source is the commit being built.
type source struct {
	version, revision string
	created           time.Time
}

// Build compiles the static binary and writes the image.
func Build(ctx context.Context, cfg Config) (Result, error) {
	root, err := filepath.Abs(cfg.Root)
	if err != nil {
		return Result{}, err
	}
	cfg.Root = root
	if !filepath.IsAbs(cfg.Out) {
		cfg.Out = filepath.Join(root, cfg.Out)
	}
	if cfg.Repository == "" || cfg.Tag == "" {
		repo, tag, err := chartImage(filepath.Join(root, chartDir))
		if err != nil {
			return Result{}, err
		}
		if cfg.Repository == "" {
			cfg.Repository = repo
		}
		if cfg.Tag == "" {
			cfg.Tag = tag
		}
	}
	src, err := describe(ctx, root)
	if err != nil {
		return Result{}, err
	}
	ca, err := os.ReadFile(cfg.CABundle)
	if err != nil {
		return Result{}, fmt.Errorf("read the CA certificates (apt-get install ca-certificates, or -ca-bundle FILE): %w", err)
	}
	tmp, err := os.MkdirTemp("", "ferry-image-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(tmp)
	binary := filepath.Join(tmp, "ferry")
	if err := compile(ctx, cfg, src, binary); err != nil {
		return Result{}, err
	}
	exe, err := os.ReadFile(binary)
	if err != nil {
		return Result{}, err
	}
	img, err := assemble(contents{binary: exe, caBundle: ca}, imageMeta{
		arch: cfg.Arch, created: src.created, labels: map[string]string{
			"org.opencontainers.image.source":   cfg.Source,
			"org.opencontainers.image.revision": src.revision,
			"org.opencontainers.image.version":  src.version,
			"org.opencontainers.image.created":  src.created.UTC().Format(time.RFC3339),
			"org.opencontainers.image.title":    "ferry",
		},
	})
	if err != nil {
		return Result{}, fmt.Errorf("assemble the image: %w", err)
	}
	res := Result{Name: cfg.Repository + ":" + cfg.Tag, Version: src.version, Revision: src.revision, Created: src.created,
		Layout: filepath.Join(cfg.Out, "oci"), Tarball: filepath.Join(cfg.Out, "ferry.tar")}
	if res.Digest, err = write(img, res, cfg.Tag); err != nil {
		return Result{}, err
	}
	return res, nil
}

// chartImage reads the chart's default image: values.yaml's image.repository and
// Chart.yaml's appVersion (the chart's tag when image.tag is empty).
func chartImage(dir string) (repository, tag string, err error) {
	var chart struct {
		AppVersion string `json:"appVersion"`
	}
	var values struct {
		Image struct {
			Repository string `json:"repository"`
		} `json:"image"`
	}
	for file, into := range map[string]any{"Chart.yaml": &chart, "values.yaml": &values} {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			return "", "", fmt.Errorf("the chart's default image: %w", err)
		}
		if err := yaml.Unmarshal(data, into); err != nil {
			return "", "", fmt.Errorf("the chart's default image: %s: %w", file, err)
		}
	}
	if chart.AppVersion == "" || values.Image.Repository == "" {
		return "", "", errors.New("the chart names no default image (appVersion in Chart.yaml, image.repository in values.yaml)")
	}
	return values.Image.Repository, chart.AppVersion, nil
}

// describe reads the commit: its version as `git describe` gives it (the Makefile's
// VERSION), its hash and its time, which SOURCE_DATE_EPOCH overrides.
func describe(ctx context.Context, root string) (source, error) {
	git := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", append([]string{"-C", root}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		return strings.TrimSpace(string(out)), nil
	}
	var src source
	var err error
	if src.version, err = git("describe", "--tags", "--always", "--dirty"); err != nil {
		return source{}, err
	}
	if src.revision, err = git("rev-parse", "HEAD"); err != nil {
		return source{}, err
	}
	epoch := os.Getenv("SOURCE_DATE_EPOCH")
	if epoch == "" {
		if epoch, err = git("log", "-1", "--format=%ct", "HEAD"); err != nil {
			return source{}, err
		}
	}
	secs, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil {
		return source{}, fmt.Errorf("SOURCE_DATE_EPOCH is %q, not seconds since 1970", epoch)
	}
	src.created = time.Unix(secs, 0).UTC()
	return src, nil
}

// buildTags are make build's: kustomize without Go plugin loading, which a binary
// without cgo cannot do anyway.
const buildTags = "kustomize_disable_go_plugin_support"

// compile builds the static binary: no cgo, no file system paths, the version and
// commit stamped, symbols stripped. The same commit and toolchain give the same bytes.
func compile(ctx context.Context, cfg Config, src source, out string) error {
	goCmd := os.Getenv("GO")
	if goCmd == "" {
		goCmd = "go"
	}
	ldflags := fmt.Sprintf("-s -w -X %s.Version=%s -X %s.Commit=%s", versionPackage, src.version, versionPackage, src.revision)
	cmd := exec.CommandContext(ctx, goCmd, "build", "-trimpath", "-tags", buildTags, "-ldflags", ldflags, "-o", out, "./cmd/ferry")
	cmd.Dir = cfg.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+cfg.Arch)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build the ferry binary: %w\n%s", err, stderr.String())
	}
	return nil
}
