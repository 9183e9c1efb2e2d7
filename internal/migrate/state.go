package migrate

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"ferry.dev/ferry/internal/analysis"
	"ferry.dev/ferry/internal/traffic"
)

// Phase is where a migration stands.
type Phase string

// Phases. Aborting is recorded before the weights go back to legacy, so a run killed
// in between finishes the abort when it starts again.
const (
	PhaseRunning   Phase = "running"
	PhasePaused    Phase = "paused"
	PhaseAborting  Phase = "aborting"
	PhaseAborted   Phase = "aborted"
	PhaseCompleted Phase = "completed"
)

// Done reports whether the migration has ended.
func (p Phase) Done() bool { return p == PhaseAborted || p == PhaseCompleted }

// State is a migration's record: written before every action it takes.
type State struct {
	Name  string `json:"name"`
	Phase Phase  `json:"phase"`
	// Step is the index of the current step in the plan.
	Step        int       `json:"step"`
	StepStarted time.Time `json:"stepStarted"`
	// Target is the weight the current step (or an abort) calls for; Applied is the
	// weight the router last confirmed. Applied never exceeds the current step's.
	Target  traffic.Weights `json:"target"`
	Applied traffic.Weights `json:"applied"`
	// Gates are the latest verdicts of the current step.
	Gates []analysis.Result `json:"gates,omitempty"`
	// Sample is the latest window the gates judged.
	Sample *analysis.Sample `json:"sample,omitempty"`
	// Reference is what the final step compares with: with all traffic on Kubernetes
	// there is no live legacy side, so the Kubernetes side as it was at the previous
	// step — already judged against legacy then — stands in for it.
	Reference *analysis.Side `json:"reference,omitempty"`
	Reason    string         `json:"reason,omitempty"`
	Started   time.Time      `json:"started"`
	Updated   time.Time      `json:"updated"`
	Events    []Event        `json:"events,omitempty"`
}

// Event is one line of a migration's log.
type Event struct {
	Time    time.Time `json:"time"`
	Message string    `json:"message"`
}

// maxEvents bounds the log kept in the state.
const maxEvents = 200

func (s *State) log(now time.Time, format string, args ...any) {
	s.Events = append(s.Events, Event{Time: now, Message: fmt.Sprintf(format, args...)})
	if len(s.Events) > maxEvents {
		s.Events = s.Events[len(s.Events)-maxEvents:]
	}
}

// Request is a manual action asked of a running migration from another process.
type Request struct {
	Action string    `json:"action"` // pause, resume, promote, abort
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

// ErrNoMigration means no state is recorded for the plan.
var ErrNoMigration = errors.New("no migration recorded")

// ErrRunnerActive means another process runs the migration.
var ErrRunnerActive = errors.New("the migration is being run by another process")

// FileStore keeps a migration's state in a local JSON file (embedded mode), written
// atomically; a lock file marks the process that runs it, and a request file carries
// manual actions to it.
type FileStore struct {
	Path string
}

// Load returns the recorded state, or ErrNoMigration.
func (f *FileStore) Load() (*State, error) {
	data, err := os.ReadFile(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoMigration
	}
	if err != nil {
		return nil, fmt.Errorf("read migration state: %w", err)
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("migration state %s is corrupt: %w", f.Path, err)
	}
	return &s, nil
}

// Save writes the state atomically (write, fsync, rename).
func (f *FileStore) Save(s *State) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(f.Path, data)
}

// Lock marks this process as the migration's runner until unlock is called. It fails
// with ErrRunnerActive when another live process holds it; a crashed runner's lock is
// released by the kernel.
func (f *FileStore) Lock() (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o755); err != nil {
		return nil, err
	}
	file, err := os.OpenFile(f.Path+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(file.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		file.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrRunnerActive
		}
		return nil, fmt.Errorf("lock migration state: %w", err)
	}
	return func() {
		_ = syscall.Flock(int(file.Fd()), syscall.LOCK_UN)
		file.Close()
	}, nil
}

// PutRequest leaves a manual action for the runner.
func (f *FileStore) PutRequest(r Request) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return writeAtomic(f.Path+".request", data)
}

// TakeRequest returns and removes a pending manual action, or nil.
func (f *FileStore) TakeRequest() (*Request, error) {
	path := f.Path + ".request"
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := os.Remove(path); err != nil {
		return nil, err
	}
	var r Request
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("migration request %s is corrupt: %w", path, err)
	}
	return &r, nil
}

func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
