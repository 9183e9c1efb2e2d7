package release

import (
	"errors"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Status is where a revision stands.
type Status string

// Revision statuses. Only Pending is ever temporary: a pending revision whose deploy
// process died is marked Interrupted by the next one.
const (
	StatusPending     Status = "pending"
	StatusDeployed    Status = "deployed"
	StatusSuperseded  Status = "superseded"
	StatusFailed      Status = "failed"
	StatusInterrupted Status = "interrupted"
	// StatusIncomplete is never recorded: a store reports it for a revision whose
	// manifests it could not read back whole (a part missing or altered). Its Reason
	// says what is wrong; it is never rolled back to and never rewritten.
	StatusIncomplete Status = "incomplete"
)

// Kinds of revision.
const (
	KindDeploy   = "deploy"
	KindRollback = "rollback"
)

// Errors a caller maps to exit codes.
var (
	// ErrRolloutFailed means the revision did not become healthy.
	ErrRolloutFailed = errors.New("release failed")
	// ErrNoRevision means the asked-for revision does not exist or none fits.
	ErrNoRevision = errors.New("no such revision")
	// ErrRejected means the API server refused the manifests in a dry run: nothing changed.
	ErrRejected = errors.New("manifests rejected")
)

// Record is what is known about a revision besides its manifests.
type Record struct {
	App      string `json:"app"`
	Revision int    `json:"revision"`
	Status   Status `json:"status"`
	Kind     string `json:"kind"`
	Image    string `json:"image"`
	// RollbackOf is the revision whose manifests a rollback re-applied.
	RollbackOf int       `json:"rollbackOf,omitempty"`
	User       string    `json:"user,omitempty"`
	GitCommit  string    `json:"gitCommit,omitempty"`
	Started    time.Time `json:"started"`
	Finished   time.Time `json:"finished,omitzero"`
	// Reason says why a revision failed, was interrupted or was made.
	Reason string `json:"reason,omitempty"`
}

// Release is one recorded revision of an app: what was applied, by whom, and how it
// ended. Manifests are exactly what was applied, so a rollback re-applies them as is.
type Release struct {
	Record
	Manifests []*unstructured.Unstructured `json:"manifests,omitempty"`
}

// Good reports whether the revision was healthy when it finished.
func (r *Release) Good() bool {
	return r.Status == StatusDeployed || r.Status == StatusSuperseded
}

// Summary is a revision without its manifests, for listings.
type Summary struct {
	Record
	// Objects is the number of objects in its manifests.
	Objects int `json:"objects"`
}

// Summarize drops the manifests.
func (r *Release) Summarize() Summary {
	return Summary{Record: r.Record, Objects: len(r.Manifests)}
}
