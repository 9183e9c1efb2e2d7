package devcluster

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"ferry.dev/ferry/internal/atomicfile"
)

// Files of a background run directory.
const (
	supervisorPIDFile = "supervisor.pid"
	componentsFile    = "components.json"
	readyFile         = "ready"
	supervisorLog     = "supervisor.log"
)

// ErrNotRunning means no background control plane runs in the directory.
var ErrNotRunning = errors.New("no local cluster is running")

// UpConfig says how to start a background control plane.
type UpConfig struct {
	// Dir is the run directory; one control plane per directory.
	Dir string
	// Supervisor is the command that runs the control plane in the foreground until
	// SIGTERM (ferry dev cluster serve …); Up starts it detached in its own session.
	Supervisor []string
	// Timeout bounds the wait for the control plane to become ready.
	Timeout time.Duration
	// Progress receives the supervisor's progress lines while Up waits.
	Progress io.Writer
}

// UpResult says what Up found or started.
type UpResult struct {
	KubeconfigPath string `json:"kubeconfig"`
	Server         string `json:"server"`
	AlreadyRunning bool   `json:"alreadyRunning"`
	SupervisorPID  int    `json:"supervisorPID"`
}

// Up starts a background control plane in cfg.Dir, or reports the one already there.
// A run left behind by a crash (a dead supervisor) is cleaned up first.
func Up(ctx context.Context, cfg UpConfig) (*UpResult, error) {
	if pid, ok := liveSupervisor(cfg.Dir); ok {
		if _, err := os.Stat(filepath.Join(cfg.Dir, readyFile)); err == nil {
			return readyResult(cfg.Dir, pid, true)
		}
		return nil, fmt.Errorf("a local cluster is still starting in %s (pid %d); wait, or run `ferry dev cluster down`", cfg.Dir, pid)
	}
	if err := cleanStale(cfg.Dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, err
	}
	logPath := filepath.Join(cfg.Dir, supervisorLog)
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	defer devNull.Close()
	cmd := exec.Command(cfg.Supervisor[0], cfg.Supervisor[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devNull, logFile, logFile
	// Its own session: the terminal's Ctrl-C and the caller's exit leave it alone.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the cluster supervisor: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	follower := &logFollower{path: logPath, out: cfg.Progress}
	deadline := time.After(cfg.Timeout)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		follower.flush()
		if _, err := os.Stat(filepath.Join(cfg.Dir, readyFile)); err == nil {
			return readyResult(cfg.Dir, cmd.Process.Pid, false)
		}
		select {
		case err := <-exited:
			follower.flush()
			return nil, fmt.Errorf("the local cluster failed to start: %w; see %s", err, logPath)
		case <-ctx.Done():
			_ = Down(cfg.Dir, 10*time.Second)
			return nil, ctx.Err()
		case <-deadline:
			_ = Down(cfg.Dir, 10*time.Second)
			return nil, fmt.Errorf("the local cluster was not ready within %s; see %s", cfg.Timeout, logPath)
		case <-tick.C:
		}
	}
}

// Serve runs a control plane in the foreground for Up: it records its own PID and its
// components' PIDs in dir, marks the run ready, and stops everything when ctx ends or
// a component dies.
func Serve(ctx context.Context, cfg Config) error {
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(cfg.Dir, supervisorPIDFile), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return err
	}
	defer os.Remove(filepath.Join(cfg.Dir, supervisorPIDFile))
	cluster, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	defer cluster.Stop()
	state, err := json.Marshal(runState{Server: cluster.Server, Kubeconfig: cluster.KubeconfigPath, Components: cluster.componentRecords()})
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(cfg.Dir, componentsFile), state, 0o600); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(cfg.Dir, readyFile), nil, 0o600); err != nil {
		return err
	}
	defer os.Remove(filepath.Join(cfg.Dir, readyFile))
	fmt.Fprintln(cfg.Progress, "ready")
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(cfg.Progress, "stopping")
			return nil
		case <-tick.C:
			if err := cluster.Exited(); err != nil {
				return err
			}
		}
	}
}

// Down stops the background control plane in dir: SIGTERM to its supervisor, SIGKILL
// after grace, then any component still alive; finally it removes dir. It returns
// ErrNotRunning when there was nothing to stop (dir is still cleaned).
func Down(dir string, grace time.Duration) error {
	pid, alive := liveSupervisor(dir)
	if alive {
		_ = syscall.Kill(pid, syscall.SIGTERM)
		if !waitGone(pid, grace) {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			_ = syscall.Kill(pid, syscall.SIGKILL)
			waitGone(pid, 5*time.Second)
		}
	}
	if err := cleanStale(dir); err != nil {
		return err
	}
	if !alive {
		return ErrNotRunning
	}
	return nil
}

// runState is what components.json records about a ready run.
type runState struct {
	Server     string            `json:"server"`
	Kubeconfig string            `json:"kubeconfig"`
	Components []componentRecord `json:"components"`
}

type componentRecord struct {
	Name string `json:"name"`
	PID  int    `json:"pid"`
	Path string `json:"path"`
}

func (c *Cluster) componentRecords() []componentRecord {
	var out []componentRecord
	for _, comp := range c.components {
		out = append(out, componentRecord{Name: comp.name, PID: comp.cmd.Process.Pid, Path: comp.cmd.Path})
	}
	return out
}

func readyResult(dir string, pid int, already bool) (*UpResult, error) {
	data, err := os.ReadFile(filepath.Join(dir, componentsFile))
	if err != nil {
		return nil, err
	}
	var st runState
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("read %s: %w", componentsFile, err)
	}
	return &UpResult{KubeconfigPath: st.Kubeconfig, Server: st.Server, AlreadyRunning: already, SupervisorPID: pid}, nil
}

// liveSupervisor returns the supervisor PID recorded in dir and whether that process
// is alive and still a ferry supervisor for dir (not a recycled PID).
func liveSupervisor(dir string) (int, bool) {
	data, err := os.ReadFile(filepath.Join(dir, supervisorPIDFile))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0, false
	}
	return pid, processMatches(pid, dir)
}

// cleanStale kills any recorded component of a dead run that is somehow still alive
// and removes dir.
func cleanStale(dir string) error {
	if data, err := os.ReadFile(filepath.Join(dir, componentsFile)); err == nil {
		var st runState
		if json.Unmarshal(data, &st) == nil {
			for _, c := range st.Components {
				if processMatches(c.PID, c.Path) {
					_ = syscall.Kill(c.PID, syscall.SIGKILL)
					waitGone(c.PID, 5*time.Second)
				}
			}
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove stale run directory: %w", err)
	}
	return nil
}

// processMatches reports whether pid is alive and its command line mentions want.
func processMatches(pid int, want string) bool {
	if pid <= 0 {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	if state, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && isZombie(state) {
		return false
	}
	return strings.Contains(string(cmdline), want)
}

func isZombie(stat []byte) bool {
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}

func waitGone(pid int, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil {
			return true
		}
		if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && isZombie(st) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// logFollower copies the lines appended to a file since the last flush.
type logFollower struct {
	path   string
	out    io.Writer
	offset int64
}

func (f *logFollower) flush() {
	if f.out == nil {
		return
	}
	file, err := os.Open(f.path)
	if err != nil {
		return
	}
	defer file.Close()
	if _, err := file.Seek(f.offset, io.SeekStart); err != nil {
		return
	}
	r := bufio.NewReader(file)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		f.offset += int64(len(line))
		fmt.Fprint(f.out, line)
	}
}
