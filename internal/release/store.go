package release

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"ferry.dev/ferry/internal/kube"
)

// Store keeps an app's revisions.
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

// Labels on every revision Secret.
const (
	LabelApp      = "ferry.dev/app"
	LabelRevision = "ferry.dev/revision"
	LabelStatus   = "ferry.dev/status"
	LabelOwner    = "owner"
)

// SecretStore keeps each revision in a Secret of one namespace, its release gzip'd
// JSON, the way Helm keeps releases.
type SecretStore struct {
	Client    kubernetes.Interface
	Namespace string
}

var _ Store = (*SecretStore)(nil)

func secretName(app string, revision int) string {
	return fmt.Sprintf("ferry.release.v1.%s.v%d", app, revision)
}

// List implements Store.
func (s *SecretStore) List(ctx context.Context, app string) ([]*Release, error) {
	list, err := s.Client.CoreV1().Secrets(s.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: LabelOwner + "=ferry," + LabelApp + "=" + app,
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
		r, err := decodeRelease(sec.Data["release"])
		if err != nil {
			return nil, fmt.Errorf("revision secret %s: %w", sec.Name, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Create implements Store.
func (s *SecretStore) Create(ctx context.Context, r *Release) error {
	sec, err := s.secret(r)
	if err != nil {
		return err
	}
	_, err = s.Client.CoreV1().Secrets(s.Namespace).Create(ctx, sec, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("revision %d of %s is already recorded", r.Revision, r.App)
	}
	if err != nil {
		return fmt.Errorf("record revision %d: %s", r.Revision, kube.APIMessage(err))
	}
	return nil
}

// Update implements Store.
func (s *SecretStore) Update(ctx context.Context, r *Release) error {
	sec, err := s.secret(r)
	if err != nil {
		return err
	}
	if _, err := s.Client.CoreV1().Secrets(s.Namespace).Update(ctx, sec, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update revision %d: %s", r.Revision, kube.APIMessage(err))
	}
	return nil
}

// Delete implements Store.
func (s *SecretStore) Delete(ctx context.Context, app string, revision int) error {
	err := s.Client.CoreV1().Secrets(s.Namespace).Delete(ctx, secretName(app, revision), metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete revision %d: %s", revision, kube.APIMessage(err))
	}
	return nil
}

func (s *SecretStore) secret(r *Release) (*corev1.Secret, error) {
	data, err := encodeRelease(r)
	if err != nil {
		return nil, err
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:      secretName(r.App, r.Revision),
			Namespace: s.Namespace,
			Labels: map[string]string{
				LabelOwner: "ferry", LabelApp: r.App, LabelRevision: strconv.Itoa(r.Revision),
				LabelStatus: string(r.Status), "app.kubernetes.io/managed-by": "ferry",
			},
		},
		Type: SecretType,
		Data: map[string][]byte{"release": data},
	}, nil
}

func encodeRelease(r *Release) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(r); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decodeRelease(data []byte) (*Release, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	var r Release
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
