package migrate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"ferry.dev/ferry/internal/atomicfile"
)

// FileStore keeps a migration's state in a local JSON file (embedded mode), beside it
// a lock file that marks the process running the migration and a directory of queued
// manual requests, one file each:
//
//	migration-NAME.json            the state, with its revision
//	migration-NAME.json.lock       held (flock) by the runner
//	migration-NAME.json.write.lock held while a save compares and writes
//	migration-NAME.json.requests/  AT-ID.json per pending request
type FileStore struct {
	Path string
}

var _ Store = (*FileStore)(nil)

// fileState is the file's content: the state and its revision, which counts saves
// and is the state's Version.
type fileState struct {
	Revision int64 `json:"revision"`
	*State
}

// Load implements Store.
func (f *FileStore) Load(context.Context) (*State, error) {
	return f.load()
}

func (f *FileStore) load() (*State, error) {
	data, err := os.ReadFile(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoMigration
	}
	if err != nil {
		return nil, fmt.Errorf("read migration state: %w", err)
	}
	fs := fileState{State: &State{}}
	if err := json.Unmarshal(data, &fs); err != nil {
		// Its version is its content's digest, so a Save can replace this content and
		// no other.
		sum := sha256.Sum256(data)
		return &State{Version: unreadable + hex.EncodeToString(sum[:8])},
			fmt.Errorf("%w %s: %s", ErrUnusableState, f.Path, jsonProblem(err, len(data)))
	}
	fs.State.Version = strconv.FormatInt(fs.Revision, 10)
	return fs.State, nil
}

// jsonProblem says in ferry's words what is wrong with a file's JSON.
func jsonProblem(err error, size int) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax) && syntax.Offset >= int64(size):
		return "not valid JSON: it ends early (cut short?)"
	case errors.As(err, &syntax):
		return fmt.Sprintf("not valid JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("%s: a JSON %s does not belong there", typ.Field, typ.Value)
	}
	return "not valid JSON"
}

// unreadable starts the version of a file that holds no state.
const unreadable = "unreadable-"

// String names the store in errors: its file.
func (f *FileStore) String() string { return f.Path }

// Save implements Store: under a write lock it compares the file's revision with
// s.Version and replaces the file atomically with the next revision.
func (f *FileStore) Save(_ context.Context, s *State) error {
	unlock, err := flock(f.Path+".write.lock", syscall.LOCK_EX)
	if err != nil {
		return fmt.Errorf("save migration state: %w", err)
	}
	defer unlock()
	var recorded string
	var revision int64
	switch cur, err := f.load(); {
	case errors.Is(err, ErrNoMigration):
	case errors.Is(err, ErrUnusableState) && cur != nil:
		// Its revision is lost: the replacement's is the time, above any count of
		// saves, so that no state saved before it matches.
		recorded, revision = cur.Version, time.Now().UnixNano()
	case err != nil:
		return err
	default:
		recorded = cur.Version
		revision, _ = strconv.ParseInt(cur.Version, 10, 64)
	}
	if s.Version != recorded {
		return ErrConflict
	}
	revision++
	data, err := json.MarshalIndent(fileState{Revision: revision, State: s}, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(f.Path, data, 0o600); err != nil {
		return fmt.Errorf("save migration state: %w", err)
	}
	s.Version = strconv.FormatInt(revision, 10)
	return nil
}

// Lock implements Store. The lock is an flock on the lock file, so the kernel
// releases a crashed runner's lock.
func (f *FileStore) Lock(context.Context) (unlock func(), err error) {
	unlock, err = flock(f.Path+".lock", syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return nil, ErrRunnerActive
	}
	if err != nil {
		return nil, fmt.Errorf("lock migration state: %w", err)
	}
	return unlock, nil
}

// flock opens path (creating it and its directory) and locks it with how.
func flock(path string, how int) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	file, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(file.Fd()), how); err != nil {
		file.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(file.Fd()), syscall.LOCK_UN)
		file.Close()
	}, nil
}

func (f *FileStore) requestDir() string { return f.Path + ".requests" }

// PutRequest implements Store. The file's name orders the queue: At in nanoseconds,
// zero-padded, then the ID.
func (f *FileStore) PutRequest(_ context.Context, r Request) error {
	if r.ID == "" || strings.ContainsFunc(r.ID, func(c rune) bool { return !isIDRune(c) }) {
		return fmt.Errorf("request id %q: use letters, digits, - and _", r.ID)
	}
	if r.At.Before(time.Unix(0, 1)) {
		return fmt.Errorf("request %s has no time", r.ID)
	}
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("%019d-%s.json", r.At.UnixNano(), r.ID)
	if err := atomicfile.Write(filepath.Join(f.requestDir(), name), data, 0o600); err != nil {
		return fmt.Errorf("queue the request: %w", err)
	}
	return nil
}

func isIDRune(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// TakeRequests implements Store. A request is taken by removing its file: of callers
// that read it at the same time only the one whose remove succeeds returns it. A file
// that is not a request is moved aside (NAME.corrupt) and reported.
func (f *FileStore) TakeRequests(context.Context) ([]Request, error) {
	entries, err := os.ReadDir(f.requestDir()) // sorted by name: the queue's order
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read migration requests: %w", err)
	}
	var out []Request
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".json") {
			continue // a request being written, or one moved aside
		}
		path := filepath.Join(f.requestDir(), name)
		data, err := os.ReadFile(path)
		if err == nil {
			err = os.Remove(path)
		}
		if errors.Is(err, os.ErrNotExist) {
			continue // another caller took it
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("take migration request: %w", err))
			continue
		}
		var r Request
		if err := json.Unmarshal(data, &r); err != nil {
			_ = os.WriteFile(path+".corrupt", data, 0o600)
			errs = append(errs, fmt.Errorf("migration request %s is corrupt (kept as %s.corrupt): %w", path, name, err))
			continue
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}
