package release

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"ferry.dev/ferry/internal/kube"
)

// A revision whose release does not fit in one Secret is split: its compressed
// manifests are cut into part Secrets (type PartSecretType, labelled LabelPart, names
// unique to one write), and the head Secret, of type SecretType under the revision's
// usual name, holds the record and the index of the parts with their digests. The head
// is written last and deleted last, so a revision exists exactly when its head does: a
// crash while writing parts leaves parts that no head names, which nothing reads and
// the revision number's next prune removes.

// keyPart is the data key of a part Secret.
const keyPart = "part"

func partName(app string, revision, n int, write string) string {
	return fmt.Sprintf("%s.part%d.%s", secretName(app, revision), n, write)
}

// createSplit writes r's manifests as parts, then its head.
func (s *SecretStore) createSplit(ctx context.Context, r *Release) error {
	payload, err := gzipJSON(r.Manifests)
	if err != nil {
		return fmt.Errorf("encode revision %d: %w", r.Revision, err)
	}
	nonce := make([]byte, 4)
	if _, err := rand.Read(nonce); err != nil {
		return fmt.Errorf("record revision %d: %w", r.Revision, err)
	}
	write := hex.EncodeToString(nonce)
	idx, chunks := split(payload, maxSecretData, func(n int) string { return partName(r.App, r.Revision, n, write) })
	head, err := s.head(r, idx)
	if err != nil {
		return fmt.Errorf("encode revision %d: %w", r.Revision, err)
	}
	var written []string
	for i, chunk := range chunks {
		name := idx.Parts[i].Name
		if _, err := s.secrets().Create(ctx, s.partSecret(r, i+1, name, chunk), metav1.CreateOptions{}); err != nil {
			s.forget(ctx, written)
			return fmt.Errorf("record revision %d: part %d of %d: %s", r.Revision, i+1, len(chunks), kube.APIMessage(err))
		}
		written = append(written, name)
	}
	if err := s.create(ctx, r, head); err != nil {
		s.forget(ctx, written)
		return err
	}
	return nil
}

// forget deletes the parts of a write that failed before its head was created, with
// a context of its own so an interrupt does not stop it. What it misses, nothing
// reads, and pruning the revision number removes.
func (s *SecretStore) forget(ctx context.Context, names []string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	for _, name := range names {
		_ = s.secrets().Delete(ctx, name, metav1.DeleteOptions{})
	}
}

// head is the head Secret of split revision r.
func (s *SecretStore) head(r *Release, idx partIndex) (*corev1.Secret, error) {
	record, err := encodeRelease(&Release{Record: r.Record})
	if err != nil {
		return nil, err
	}
	index, err := json.Marshal(idx)
	if err != nil {
		return nil, err
	}
	return s.secret(r, map[string][]byte{keyRecord: record, keyIndex: index}), nil
}

// updatedHead is head cur with r's record; the index and parts stay as they are.
func updatedHead(cur *corev1.Secret, r *Release) (*corev1.Secret, error) {
	record, err := encodeRelease(&Release{Record: r.Record})
	if err != nil {
		return nil, err
	}
	sec := cur.DeepCopy()
	sec.Data[keyRecord] = record
	if sec.Labels == nil {
		sec.Labels = map[string]string{}
	}
	sec.Labels[LabelStatus] = string(r.Status)
	return sec, nil
}

func (s *SecretStore) partSecret(r *Release, n int, name string, data []byte) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:      name,
			Namespace: s.Namespace,
			Labels: map[string]string{
				LabelOwner: "ferry", LabelApp: r.App, LabelRevision: strconv.Itoa(r.Revision),
				LabelPart: strconv.Itoa(n), LabelManagedBy: ManagedBy,
			},
		},
		Type: PartSecretType,
		Data: map[string][]byte{keyPart: data},
	}
}

// readSplit reads a split revision from its head and parts. A revision whose parts
// cannot be put back together is returned as StatusIncomplete, without manifests;
// only a failure to talk to the API server is an error.
func (s *SecretStore) readSplit(ctx context.Context, head *corev1.Secret) (*Release, error) {
	r, err := decodeRelease(head.Data[keyRecord])
	if err != nil {
		return nil, err
	}
	var idx partIndex
	if err := json.Unmarshal(head.Data[keyIndex], &idx); err != nil {
		markIncomplete(r, fmt.Errorf("its index of parts is unreadable"))
		return r, nil
	}
	found := map[string][]byte{}
	for _, p := range idx.Parts {
		part, err := s.secrets().Get(ctx, p.Name, metaGet)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read part %s: %s", p.Name, kube.APIMessage(err))
		}
		if part.Type == PartSecretType {
			found[p.Name] = part.Data[keyPart]
		}
	}
	payload, err := join(idx, found)
	if err != nil {
		markIncomplete(r, err)
		return r, nil
	}
	var manifests []*unstructured.Unstructured
	if err := gunzipJSON(payload, &manifests); err != nil {
		markIncomplete(r, fmt.Errorf("its manifests do not decode"))
		return r, nil
	}
	r.Manifests = manifests
	return r, nil
}

// markIncomplete makes r a revision that is listed but never used.
func markIncomplete(r *Release, why error) {
	r.Reason = fmt.Sprintf("recorded manifests incomplete: %v; it was recorded as %s", why, r.Status)
	r.Status = StatusIncomplete
	r.Manifests = nil
}

// deleteParts deletes every part Secret of the revision number, including those of
// writes that never got a head.
func (s *SecretStore) deleteParts(ctx context.Context, app string, revision int) error {
	parts, err := s.secrets().List(ctx, metav1.ListOptions{
		LabelSelector: fmt.Sprintf("%s=ferry,%s=%s,%s=%d,%s", LabelOwner, LabelApp, app, LabelRevision, revision, LabelPart),
	})
	if err != nil {
		return fmt.Errorf("list its parts: %s", kube.APIMessage(err))
	}
	for _, part := range parts.Items {
		if part.Type != PartSecretType {
			continue
		}
		err := s.secrets().Delete(ctx, part.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete part %s: %s", part.Name, kube.APIMessage(err))
		}
	}
	return nil
}
