package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"ferry.dev/ferry/internal/cli/clitest"
	"ferry.dev/ferry/internal/devcluster"
	"ferry.dev/ferry/internal/devcluster/devclustertest"
)

// processesMentioning returns the PIDs of live, non-zombie processes whose command
// line contains s.
func processesMentioning(t *testing.T, s string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []string
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(cmdline), s) {
			continue
		}
		if stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil && strings.Contains(string(stat), ") Z ") {
			continue
		}
		pids = append(pids, e.Name()+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
	}
	return pids
}

func waitNoProcesses(t *testing.T, s string, within time.Duration) {
	t.Helper()
	var left []string
	err := devclustertest.Poll(within, func(context.Context) (bool, error) {
		left = processesMentioning(t, s)
		return len(left) == 0, nil
	})
	if err != nil {
		t.Fatalf("processes left behind: %v", left)
	}
}

func kubectlNodes(t *testing.T, kubeconfig string) []string {
	t.Helper()
	bin, err := devcluster.Binaries(context.Background(), os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(bin, "kubectl"), "--kubeconfig", kubeconfig, "get", "nodes", "--no-headers",
		"-o", "custom-columns=NAME:.metadata.name,READY:.status.conditions[?(@.type==\"Ready\")].status").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl get nodes: %v\n%s", err, out)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

func TestDevClusterUpKubectlDownLeavesNothing(t *testing.T) {
	// The run directory is unique and in every component's command line, so finding
	// it in /proc finds every process of this cluster.
	dir := filepath.Join(t.TempDir(), "cluster")
	stdout, stderr, err := clitest.Run(t, "dev", "cluster", "up", "--dir", dir, "--nodes", "4", "-o", "json")
	if err != nil {
		t.Fatalf("up: %v\n%s", err, stderr)
	}
	t.Cleanup(func() { _, _, _ = clitest.Run(t, "dev", "cluster", "down", "--dir", dir) })
	var res devcluster.UpResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("up output is not JSON: %v\n%s", err, stdout)
	}
	if !strings.Contains(stderr, "kube-apiserver ready") {
		t.Errorf("up showed no progress: %q", stderr)
	}
	nodes := kubectlNodes(t, res.KubeconfigPath)
	if len(nodes) != 4 {
		t.Fatalf("kubectl lists %d nodes, want 4: %v", len(nodes), nodes)
	}
	for _, n := range nodes {
		if !strings.HasPrefix(n, "kwok-node-") || !strings.HasSuffix(n, "True") {
			t.Errorf("node line %q, want a Ready kwok node", n)
		}
	}
	if len(processesMentioning(t, dir)) < 5 {
		t.Errorf("want the supervisor and its components running, found %v", processesMentioning(t, dir))
	}

	stdout, _, err = clitest.Run(t, "dev", "cluster", "up", "--dir", dir, "-o", "json")
	if err != nil {
		t.Fatalf("second up: %v", err)
	}
	var again devcluster.UpResult
	if err := json.Unmarshal([]byte(stdout), &again); err != nil || !again.AlreadyRunning || again.KubeconfigPath != res.KubeconfigPath {
		t.Fatalf("second up = %+v (%v), want the running cluster reported", again, err)
	}
	stdout, _, err = clitest.Run(t, "dev", "cluster", "kubeconfig", "--dir", dir, "--path")
	if err != nil || strings.TrimSpace(stdout) != res.KubeconfigPath {
		t.Fatalf("kubeconfig --path = %q (%v)", stdout, err)
	}

	if _, stderr, err := clitest.Run(t, "dev", "cluster", "down", "--dir", dir); err != nil || !strings.Contains(stderr, "stopped") {
		t.Fatalf("down: %v %s", err, stderr)
	}
	waitNoProcesses(t, dir, 5*time.Second)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("run directory still there after down: %v", err)
	}
}

func TestDevClusterSurvivesACrashedSupervisor(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cluster")
	stdout, stderr, err := clitest.Run(t, "dev", "cluster", "up", "--dir", dir, "--nodes", "2", "-o", "json")
	if err != nil {
		t.Fatalf("up: %v\n%s", err, stderr)
	}
	t.Cleanup(func() { _, _, _ = clitest.Run(t, "dev", "cluster", "down", "--dir", dir) })
	var res devcluster.UpResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	// A crash: the supervisor dies without any chance to clean up.
	if err := syscall.Kill(res.SupervisorPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitNoProcesses(t, dir, 10*time.Second)

	// The stale run is detected and replaced by a working one.
	stdout, stderr, err = clitest.Run(t, "dev", "cluster", "up", "--dir", dir, "--nodes", "2", "-o", "json")
	if err != nil {
		t.Fatalf("up after crash: %v\n%s", err, stderr)
	}
	var again devcluster.UpResult
	if err := json.Unmarshal([]byte(stdout), &again); err != nil || again.AlreadyRunning {
		t.Fatalf("up after crash = %+v (%v), want a fresh cluster", again, err)
	}
	if nodes := kubectlNodes(t, again.KubeconfigPath); len(nodes) != 2 {
		t.Fatalf("nodes after restart: %v", nodes)
	}
	if _, _, err := clitest.Run(t, "dev", "cluster", "down", "--dir", dir); err != nil {
		t.Fatal(err)
	}
	waitNoProcesses(t, dir, 5*time.Second)
	_, stderr, err = clitest.Run(t, "dev", "cluster", "down", "--dir", dir)
	if err != nil || !strings.Contains(stderr, "no local cluster was running") {
		t.Fatalf("second down: %v %q", err, fmt.Sprint(stderr))
	}
}
