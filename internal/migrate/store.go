package migrate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"
)

// Store keeps a migration's state and its queue of manual requests where every process
// that runs or steers the migration reaches them: a local file in embedded mode
// (FileStore), a Migration resource's status under the controller. Its methods are
// safe for concurrent use, from goroutines and from processes.
type Store interface {
	// Load returns the recorded state, with Version set to the version it was read
	// at, or ErrNoMigration when nothing is recorded. A record that cannot be read as
	// a state is an error wrapping ErrUnusableState, naming the record, returned with
	// a State that holds only the record's Version: a Save at that version replaces
	// the record (an abort records a fresh state so), and no other does. Load does not
	// check the state's values; LoadState does.
	Load(ctx context.Context) (*State, error)

	// Save records s if the record is still at s.Version (an empty Version: only if
	// nothing is recorded yet) and sets s.Version to the new version. When another
	// save came in between, it returns ErrConflict, writes nothing and leaves s as it
	// was: s was decided on a state that is no longer the migration's. A save is all
	// or nothing; a crash leaves the previous record or s.
	Save(ctx context.Context, s *State) error

	// Lock makes the caller the migration's one runner until unlock is called. It
	// fails at once with ErrRunnerActive while another holds it. A holder that dies
	// loses the lock (a closed file, a lapsed lease), so a lock is a hint that no one
	// else acts; Save's version check is what keeps a runner that lost it from
	// acting on a stale state.
	Lock(ctx context.Context) (unlock func(), err error)

	// PutRequest queues a manual request for the runner. r.ID must be set and unique
	// and r.At set; a request never replaces another, and several can be pending.
	PutRequest(ctx context.Context, r Request) error

	// TakeRequests removes the pending requests and returns them oldest first (by At,
	// then ID); none pending is an empty result, not an error. Each request is
	// returned by one call only, even to callers taking at the same time. A request
	// that cannot be read is taken out of the queue and reported in the error, beside
	// the requests that could be read.
	TakeRequests(ctx context.Context) ([]Request, error)
}

// Request is a manual action asked of a migration by another process.
type Request struct {
	// ID identifies the request.
	ID     string `json:"id"`
	Action string `json:"action"` // pause, resume, promote, abort
	Reason string `json:"reason,omitempty"`
	// Run is the run (State.Run) the request was meant for; empty when no run was
	// recorded yet.
	Run string `json:"run,omitempty"`
	// At is when it was asked.
	At time.Time `json:"at"`
}

// ErrNoMigration means no state is recorded for the plan.
var ErrNoMigration = errors.New("no migration recorded")

// ErrRunnerActive means another process runs the migration.
var ErrRunnerActive = errors.New("the migration is being run by another process")

// ErrConflict means the state was saved by another process since it was loaded: a
// runner that sees it stops without acting further.
var ErrConflict = errors.New("the migration's state was changed by another process")

// newID returns a random identifier for a run or a request.
func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}
