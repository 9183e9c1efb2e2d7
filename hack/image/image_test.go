package main

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

const root = "../.."

// TestTwoBuildsGiveOneDigest builds the image twice from the same commit into two
// directories: the digests must be equal, and the image must be what the chart runs.
func TestTwoBuildsGiveOneDigest(t *testing.T) {
	ctx := context.Background()
	var results []Result
	for range 2 {
		res, err := Build(ctx, Config{Root: root, Out: t.TempDir(), Source: DefaultSource, Arch: runtime.GOARCH, CABundle: DefaultCABundle})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(res.Digest, "sha256:") {
			t.Fatalf("digest %q", res.Digest)
		}
		results = append(results, res)
	}
	if results[0].Digest != results[1].Digest {
		t.Fatalf("two builds of one commit: %s and %s", results[0].Digest, results[1].Digest)
	}
	res := results[0]
	repo, tag, err := chartImage(filepath.Join(root, chartDir))
	if err != nil {
		t.Fatal(err)
	}
	if res.Name != repo+":"+tag {
		t.Errorf("the image is %s, the chart's default image %s:%s", res.Name, repo, tag)
	}
	img := fromLayout(t, res)
	if digest, err := img.Digest(); err != nil || digest.String() != res.Digest {
		t.Fatalf("the layout's image has digest %s (%v), want %s", digest, err, res.Digest)
	}
	config, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("layout", func(t *testing.T) { checkImage(t, res, img) })
	t.Run("tarball", func(t *testing.T) {
		// docker load's format has its own manifest; the config is the same.
		img, err := tarball.ImageFromPath(res.Tarball, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := img.ConfigName(); err != nil || got != config {
			t.Fatalf("the tarball's image config is %s (%v), the layout's %s", got, err, config)
		}
		checkImage(t, res, img)
	})
}

// fromLayout reads the one image of the layout back, checking the name it carries.
func fromLayout(t *testing.T, res Result) v1.Image {
	t.Helper()
	p, err := layout.FromPath(res.Layout)
	if err != nil {
		t.Fatal(err)
	}
	index, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := index.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(manifest.Manifests) != 1 {
		t.Fatalf("the layout holds %d manifests, want 1", len(manifest.Manifests))
	}
	desc := manifest.Manifests[0]
	if desc.Digest.String() != res.Digest || desc.Annotations["io.containerd.image.name"] != res.Name {
		t.Fatalf("the layout's image is %s named %q, want %s named %s", desc.Digest, desc.Annotations["io.containerd.image.name"], res.Digest, res.Name)
	}
	img, err := index.Image(desc.Digest)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// checkImage reads the image as a runtime would: its config, then its files, and
// runs the binary in it.
func checkImage(t *testing.T, res Result, img v1.Image) {
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.User != "65532:65532" || !slices.Equal(cf.Config.Entrypoint, []string{"/ferry"}) || cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
		t.Errorf("user %q, entrypoint %q, platform %s/%s", cf.Config.User, cf.Config.Entrypoint, cf.OS, cf.Architecture)
	}
	for label, want := range map[string]string{
		"org.opencontainers.image.source":   DefaultSource,
		"org.opencontainers.image.revision": res.Revision,
		"org.opencontainers.image.version":  res.Version,
	} {
		if got := cf.Config.Labels[label]; got != want || want == "" {
			t.Errorf("label %s is %q, want %q", label, got, want)
		}
	}
	if !cf.Created.Time.Equal(res.Created) {
		t.Errorf("created %s, want the commit's time %s", cf.Created, res.Created)
	}
	files := extract(t, img)
	passwd := string(files["etc/passwd"].data)
	if !strings.Contains(passwd, "\nnonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd has no nonroot user 65532:\n%s", passwd)
	}
	ca, err := os.ReadFile(DefaultCABundle)
	if err != nil {
		t.Fatal(err)
	}
	if string(files[caPath].data) != string(ca) {
		t.Errorf("/%s is not the machine's CA bundle", caPath)
	}
	for path, f := range files {
		if !f.modTime.Equal(res.Created) {
			t.Errorf("/%s has time %s, want %s", path, f.modTime, res.Created)
		}
	}
	bin := files["ferry"]
	if bin.mode&0o111 == 0 {
		t.Fatalf("/ferry has mode %o, not executable", bin.mode)
	}
	exe := filepath.Join(t.TempDir(), "ferry")
	if err := os.WriteFile(exe, bin.data, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(exe, "version", "--client", "-o", "json").Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		t.Fatalf("ferry version --client: %v: %s", err, exit.Stderr)
	}
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Client struct{ Version, Commit string }
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("ferry version --client -o json: %v\n%s", err, out)
	}
	if v.Client.Version != res.Version || v.Client.Commit != res.Revision {
		t.Errorf("the binary says version %q commit %q, want %q %q", v.Client.Version, v.Client.Commit, res.Version, res.Revision)
	}
}

// file is one regular file or directory of the image's file system.
type file struct {
	data    []byte
	mode    int64
	modTime time.Time
}

// extract reads the image's flattened file system, as a runtime unpacks it.
func extract(t *testing.T, img v1.Image) map[string]file {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	files := map[string]file{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[strings.TrimSuffix(h.Name, "/")] = file{data: data, mode: h.Mode, modTime: h.ModTime}
	}
}
