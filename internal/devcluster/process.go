package devcluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

// spawner starts child processes from one goroutine locked to its OS thread. The
// children carry Pdeathsig=SIGKILL, which the kernel delivers when the thread that
// forked them exits: keeping that thread alive for the cluster's whole life means the
// children die with their owner, whether it stops cleanly, crashes or is killed.
type spawner struct {
	requests chan spawnRequest
	done     chan struct{}
}

type spawnRequest struct {
	cmd    *exec.Cmd
	result chan error
}

func newSpawner() *spawner {
	s := &spawner{requests: make(chan spawnRequest), done: make(chan struct{})}
	go func() {
		// Never unlocked: when this goroutine returns, the thread exits, and only then.
		runtime.LockOSThread()
		for {
			select {
			case r := <-s.requests:
				r.result <- r.cmd.Start()
			case <-s.done:
				return
			}
		}
	}()
	return s
}

// start starts cmd as a child that is killed when the spawner's thread exits.
func (s *spawner) start(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	r := spawnRequest{cmd: cmd, result: make(chan error, 1)}
	select {
	case s.requests <- r:
		return <-r.result
	case <-s.done:
		return errors.New("control plane is stopping")
	}
}

func (s *spawner) close() { close(s.done) }

// component is one running control-plane process.
type component struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	err     error
}

func (c *component) wait() {
	c.err = c.cmd.Wait()
	close(c.exited)
}

// running reports whether the process has not exited yet.
func (c *component) running() bool {
	select {
	case <-c.exited:
		return false
	default:
		return true
	}
}

// stop asks the process to stop with SIGTERM and kills it after grace.
func (c *component) stop(grace time.Duration) {
	if !c.running() {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(grace):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

// exitError describes why a component exited early, with the tail of its log.
func (c *component) exitError() error {
	return fmt.Errorf("%s exited: %w; last lines of %s:\n%s", c.name, c.err, c.logPath, tail(c.logPath, 15))
}

// tail returns up to n last lines of the file at path.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(no log)"
	}
	lines := 0
	for i := len(data) - 1; i >= 0; i-- {
		if data[i] == '\n' && i != len(data)-1 {
			lines++
			if lines == n {
				return string(data[i+1:])
			}
		}
	}
	return string(data)
}
