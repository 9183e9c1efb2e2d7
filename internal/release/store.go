package release

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"

	"ferry.dev/ferry/internal/kube"
)

// Store keeps an app's revisions. Its methods may be called at the same time for
// different revisions.
type Store interface {
	// List returns every revision of app, in any order.
	List(ctx context.Context, app string) ([]*Release, error)
	// Create records a new revision; it fails if the revision number is taken.
	Create(ctx context.Context, r *Release) error
	// Update overwrites a recorded revision.
	Update(ctx context.Context, r *Release) error
	// Delete forgets a revision.
	Delete(ctx context.Context, app string, revision int) error
}

// SecretType is the type of the Secrets that hold revisions.
const SecretType corev1.SecretType = "ferry.dev/release.v1"

// PartSecretType is the type of the Secrets that hold the parts of a revision too big
// for one Secret. Readers that only know SecretType skip them.
const PartSecretType corev1.SecretType = "ferry.dev/release.v1.part"

// Labels on every revision Secret.
const (
	LabelApp      = "ferry.dev/app"
	LabelRevision = "ferry.dev/revision"
	LabelStatus   = "ferry.dev/status"
	LabelOwner    = "owner"
	// LabelPart is on part Secrets only: the part's number, from 1.
	LabelPart = "ferry.dev/part"
)

// SecretStore keeps each revision in a Secret of one namespace, its release gzip'd
// JSON, the way Helm keeps releases. A revision too big for one Secret is split (see
// store_split.go): its head Secret, under the usual name, holds the record and an
// index, part Secrets hold the compressed manifests.
type SecretStore struct {
	Client    kubernetes.Interface
	Namespace string

	mu sync.Mutex
	// known are the revision Secrets as this store last read or wrote them, by
	// name: an update writes over one without reading it first, and reads it again
	// only if it changed since (a conflict).
	known map[string]*corev1.Secret
}

func (s *SecretStore) remember(sec *corev1.Secret) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.known == nil {
		s.known = map[string]*corev1.Secret{}
	}
	s.known[sec.Name] = sec
}

func (s *SecretStore) remembered(name string) *corev1.Secret {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.known[name]
}

func (s *SecretStore) forgetKnown(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.known, name)
}

var _ Store = (*SecretStore)(nil)

// Data keys of revision Secrets: a whole release, or a split revision's record and
// index of parts.
const (
	keyRelease = "release"
	keyRecord  = "record"
	keyIndex   = "manifests"
)

func secretName(app string, revision int) string {
	return fmt.Sprintf("ferry.release.v1.%s.v%d", app, revision)
}

func (s *SecretStore) secrets() typedcorev1.SecretInterface {
	return s.Client.CoreV1().Secrets(s.Namespace)
}

// List implements Store. Part Secrets are not revisions and are never listed; a split
// revision that cannot be read back whole is listed with StatusIncomplete.
func (s *SecretStore) List(ctx context.Context, app string) ([]*Release, error) {
	list, err := s.secrets().List(ctx, metav1.ListOptions{
		LabelSelector: LabelOwner + "=ferry," + LabelApp + "=" + app + ",!" + LabelPart,
	})
	if err != nil {
		return nil, fmt.Errorf("list revisions: %s", kube.APIMessage(err))
	}
	var out []*Release
	for i := range list.Items {
		sec := &list.Items[i]
		if sec.Type != SecretType {
			continue
		}
		r, err := s.read(ctx, sec)
		if err != nil {
			return nil, fmt.Errorf("revision secret %s: %w", sec.Name, err)
		}
		s.remember(sec)
		out = append(out, r)
	}
	return out, nil
}

func (s *SecretStore) read(ctx context.Context, sec *corev1.Secret) (*Release, error) {
	if _, split := sec.Data[keyIndex]; split {
		return s.readSplit(ctx, sec)
	}
	return decodeRelease(sec.Data[keyRelease])
}

// Create implements Store. A release that fits in one Secret is written as one, as
// ferry always did; a bigger one is split, its parts written before its head.
func (s *SecretStore) Create(ctx context.Context, r *Release) error {
	data, err := encodeRelease(r)
	if err != nil {
		return fmt.Errorf("encode revision %d: %w", r.Revision, err)
	}
	if len(data) > maxSecretData {
		return s.createSplit(ctx, r)
	}
	return s.create(ctx, r, s.secret(r, map[string][]byte{keyRelease: data}))
}

func (s *SecretStore) create(ctx context.Context, r *Release, sec *corev1.Secret) error {
	created, err := s.secrets().Create(ctx, sec, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("revision %d of %s is already recorded", r.Revision, r.App)
	}
	if err != nil {
		return fmt.Errorf("record revision %d: %s", r.Revision, kube.APIMessage(err))
	}
	s.remember(created)
	return nil
}

// Update implements Store. A split revision's parts never change: only its head's
// record is rewritten. A revision read back incomplete is refused.
func (s *SecretStore) Update(ctx context.Context, r *Release) error {
	if r.Status == StatusIncomplete {
		return fmt.Errorf("update revision %d: it is incomplete and is left as it is", r.Revision)
	}
	name := secretName(r.App, r.Revision)
	cur := s.remembered(name)
	for {
		fresh := cur == nil
		if fresh {
			var err error
			if cur, err = s.secrets().Get(ctx, name, metaGet); err != nil {
				return fmt.Errorf("update revision %d: %s", r.Revision, kube.APIMessage(err))
			}
		}
		sec, err := s.updated(cur, r)
		if err != nil {
			return fmt.Errorf("encode revision %d: %w", r.Revision, err)
		}
		written, err := s.secrets().Update(ctx, sec, metav1.UpdateOptions{})
		if err == nil {
			s.remember(written)
			return nil
		}
		if !apierrors.IsConflict(err) || fresh {
			s.forgetKnown(name)
			return fmt.Errorf("update revision %d: %s", r.Revision, kube.APIMessage(err))
		}
		cur = nil // changed since this store saw it: read it again
	}
}

// updated is revision Secret cur rewritten with r.
func (s *SecretStore) updated(cur *corev1.Secret, r *Release) (*corev1.Secret, error) {
	if _, split := cur.Data[keyIndex]; split {
		return updatedHead(cur, r)
	}
	data, err := encodeRelease(r)
	if err != nil {
		return nil, err
	}
	sec := s.secret(r, map[string][]byte{keyRelease: data})
	sec.ResourceVersion = cur.ResourceVersion
	return sec, nil
}

// Delete implements Store. Parts go first: a crash part way leaves a head whose parts
// are missing, which reads as incomplete and is deleted again by the next prune, never
// parts that nothing refers to.
func (s *SecretStore) Delete(ctx context.Context, app string, revision int) error {
	if err := s.deleteParts(ctx, app, revision); err != nil {
		return fmt.Errorf("delete revision %d: %w", revision, err)
	}
	s.forgetKnown(secretName(app, revision))
	err := s.secrets().Delete(ctx, secretName(app, revision), metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete revision %d: %s", revision, kube.APIMessage(err))
	}
	return nil
}

// secret is revision r's Secret with data: the whole release, or a split head.
func (s *SecretStore) secret(r *Release, data map[string][]byte) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:      secretName(r.App, r.Revision),
			Namespace: s.Namespace,
			Labels: map[string]string{
				LabelOwner: "ferry", LabelApp: r.App, LabelRevision: strconv.Itoa(r.Revision),
				LabelStatus: string(r.Status), LabelManagedBy: ManagedBy,
			},
		},
		Type: SecretType,
		Data: data,
	}
}

func encodeRelease(r *Release) ([]byte, error) { return gzipJSON(r) }

func decodeRelease(data []byte) (*Release, error) {
	var r Release
	if err := gunzipJSON(data, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

func gzipJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(v); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func gunzipJSON(data []byte, v any) error {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}
