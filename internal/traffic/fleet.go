package traffic

import "context"

// Fleet is a Router over instances that come and go, such as the replicas of the
// embedded proxy behind one Service: an instance that appears knows no weights until
// it is told. A migration therefore calls EnsureWeights with the applied weights at
// every evaluation, not only SetWeights when they change, so that a new instance gets
// them within one interval.
type Fleet interface {
	Router
	// EnsureWeights makes every instance apply w, setting it only where an instance
	// applies another split. Its error names each instance it could not reach or
	// that refused w; the instances it reached apply w all the same.
	EnsureWeights(ctx context.Context, w Weights) error
}
