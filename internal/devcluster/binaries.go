package devcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// BinaryNames are the executables a control plane needs in its BinDir.
var BinaryNames = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kwok"}

// BuildScript is the path, relative to ferry's source tree, of the script that builds
// the binaries into a cache keyed by version.
const BuildScript = "hack/build-controlplane.sh"

// ErrNoBinaries means the control-plane binaries are neither built nor buildable here.
var ErrNoBinaries = errors.New("control-plane binaries not found")

// Binaries returns the directory that holds the control plane's binaries. In order:
// $FERRY_CONTROLPLANE_BIN; the build script of the ferry source tree around the
// working directory or the running executable, which builds what is missing (minutes
// the first time, with progress on log); the newest complete build in the cache.
func Binaries(ctx context.Context, log io.Writer) (string, error) {
	if dir := os.Getenv("FERRY_CONTROLPLANE_BIN"); dir != "" {
		return dir, complete(dir)
	}
	if script := findBuildScript(); script != "" {
		var stdout bytes.Buffer
		cmd := exec.CommandContext(ctx, "bash", script)
		cmd.Stdout, cmd.Stderr = &stdout, log
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("build the control plane with %s: %w", script, err)
		}
		lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
		dir := lines[len(lines)-1]
		return dir, complete(dir)
	}
	matches, _ := filepath.Glob(filepath.Join(CacheDir(), "controlplane-*", "bin"))
	sort.Sort(sort.Reverse(sort.StringSlice(matches)))
	for _, dir := range matches {
		if complete(dir) == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("%w in %s: run `make controlplane` in a ferry source tree, or set FERRY_CONTROLPLANE_BIN", ErrNoBinaries, CacheDir())
}

// CacheDir is where ferry keeps builds and run directories: $FERRY_CACHE_DIR, else
// $XDG_CACHE_HOME/ferry, else ~/.cache/ferry.
func CacheDir() string {
	if dir := os.Getenv("FERRY_CACHE_DIR"); dir != "" {
		return dir
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "ferry")
}

func complete(dir string) error {
	for _, name := range BinaryNames {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("%w: %s is missing", ErrNoBinaries, filepath.Join(dir, name))
		}
	}
	return nil
}

// findBuildScript looks for the build script above the working directory and above
// the running executable.
func findBuildScript() string {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	for _, dir := range starts {
		for {
			candidate := filepath.Join(dir, BuildScript)
			if _, err := os.Stat(candidate); err == nil {
				return candidate
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return ""
}
