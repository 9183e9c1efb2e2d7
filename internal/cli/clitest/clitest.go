package clitest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"ferry.dev/ferry/internal/devcluster/devclustertest"
)

// EnvExec, set to "1", makes a test binary act as the ferry binary.
const EnvExec = "FERRY_CLI_TEST_EXEC"

// RunTimeout bounds Run; LineTimeout bounds the waits for a line of output.
const (
	RunTimeout  = 3 * time.Minute
	LineTimeout = time.Minute
)

// IsFerry reports whether this test binary was started by Start or Run to act as
// ferry; TestMain then runs the ferry command with os.Args[1:] and exits.
func IsFerry() bool { return os.Getenv(EnvExec) == "1" }

// command makes the test binary into a ferry command line.
func command(ctx context.Context, tb testing.TB, args []string) *exec.Cmd {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), EnvExec+"=1")
	return cmd
}

// Run runs ferry with args to its end (at most RunTimeout) and returns what it wrote
// to stdout and stderr; err is an *exec.ExitError for a non-zero exit code.
func Run(tb testing.TB, args ...string) (stdout, stderr string, err error) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), RunTimeout)
	defer cancel()
	cmd := command(ctx, tb, args)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// Process is ferry running in the background. Its stderr is read line by line as it
// comes, so a test can wait for a progress line and act on it.
type Process struct {
	tb     testing.TB
	cmd    *exec.Cmd
	stdout lockedBuffer

	mu      sync.Mutex
	lines   []string
	next    int           // the first line the next wait looks at
	changed chan struct{} // closed and replaced when a line arrives or stderr ends
	eof     bool

	exited  chan struct{}
	waitErr error
}

// Start starts ferry with args. The process is killed when the test ends, if it is
// still running.
func Start(tb testing.TB, args ...string) *Process {
	tb.Helper()
	p := &Process{tb: tb, changed: make(chan struct{}), exited: make(chan struct{})}
	p.cmd = command(context.Background(), tb, args)
	p.cmd.Stdout = &p.stdout
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		tb.Fatalf("start ferry %s: %v", strings.Join(args, " "), err)
	}
	go p.read(stderr)
	tb.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
	})
	return p
}

// read collects stderr's lines, then waits for the process: Wait must not be called
// before the pipe is drained.
func (p *Process) read(stderr io.Reader) {
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		p.mu.Lock()
		p.lines = append(p.lines, sc.Text())
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
	}
	p.mu.Lock()
	p.eof = true
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
	p.waitErr = p.cmd.Wait()
	close(p.exited)
}

// WaitForMatch waits for the next stderr line that re matches and returns the match
// and its submatches. It fails the test when the process ends first or when the
// test's patience for LineTimeout runs out (devclustertest.Patience).
func (p *Process) WaitForMatch(re *regexp.Regexp) []string {
	p.tb.Helper()
	_, m := p.waitFor(re)
	return m
}

// WaitForLine waits for the next stderr line containing substr and returns the line.
func (p *Process) WaitForLine(substr string) string {
	p.tb.Helper()
	line, _ := p.waitFor(regexp.MustCompile(regexp.QuoteMeta(substr)))
	return line
}

func (p *Process) waitFor(re *regexp.Regexp) (string, []string) {
	p.tb.Helper()
	// A machine busy with other work slows ferry down; the wait ends at the test
	// binary's deadline, not after a minute of wall clock (a starved run once took
	// longer than that to judge its first step).
	patience := devclustertest.Patience(p.tb, LineTimeout)
	deadline := time.After(patience)
	for {
		p.mu.Lock()
		for ; p.next < len(p.lines); p.next++ {
			if m := re.FindStringSubmatch(p.lines[p.next]); m != nil {
				line := p.lines[p.next]
				p.next++
				p.mu.Unlock()
				return line, m
			}
		}
		eof, changed := p.eof, p.changed
		p.mu.Unlock()
		if eof {
			p.tb.Fatalf("ferry ended before printing a line matching %q; its stderr:\n%s", re, p.Stderr())
		}
		select {
		case <-changed:
		case <-deadline:
			p.tb.Fatalf("ferry printed no line matching %q within %s; its stderr:\n%s", re, patience.Round(time.Second), p.Stderr())
		}
	}
}

// Signal sends sig to the process.
func (p *Process) Signal(sig syscall.Signal) {
	p.tb.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.tb.Fatalf("signal %s: %v", sig, err)
	}
}

// Kill kills the process with SIGKILL and waits until it is gone.
func (p *Process) Kill() {
	p.tb.Helper()
	p.Signal(syscall.SIGKILL)
	<-p.exited
}

// Wait waits up to timeout for the process to end and returns how it ended, as
// exec.Cmd.Wait does; it fails the test when the process is still running.
func (p *Process) Wait(timeout time.Duration) error {
	p.tb.Helper()
	select {
	case <-p.exited:
		return p.waitErr
	case <-time.After(timeout):
		p.tb.Fatalf("ferry still running after %s; its stderr:\n%s", timeout, p.Stderr())
		return nil
	}
}

// Stdout returns what the process has written to stdout so far.
func (p *Process) Stdout() string { return p.stdout.String() }

// Stderr returns the stderr lines read so far.
func (p *Process) Stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.lines) == 0 {
		return ""
	}
	return strings.Join(p.lines, "\n") + "\n"
}

// PID returns the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// String names the process in failure messages.
func (p *Process) String() string {
	return fmt.Sprintf("ferry %s (pid %d)", strings.Join(p.cmd.Args[1:], " "), p.PID())
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(b)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
