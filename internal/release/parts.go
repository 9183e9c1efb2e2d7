package release

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// maxSecretData is how many bytes of data ferry puts in one Secret: the API server's
// limit less room for a record that grows when its status changes.
const maxSecretData = corev1.MaxSecretSize - 64<<10

// partIndex is what a split revision's head Secret says about its manifests: the
// compressed manifests are the parts' data joined in this order, and must hash to
// SHA256.
type partIndex struct {
	Size   int         `json:"size"`
	SHA256 string      `json:"sha256"`
	Parts  []partEntry `json:"parts"`
}

// partEntry is one part Secret of a split revision.
type partEntry struct {
	Name   string `json:"name"`
	Size   int    `json:"size"`
	SHA256 string `json:"sha256"`
}

func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// split cuts payload into parts of at most size bytes, named by name(1), name(2), …,
// and indexes them.
func split(payload []byte, size int, name func(n int) string) (partIndex, [][]byte) {
	idx := partIndex{Size: len(payload), SHA256: digest(payload)}
	var chunks [][]byte
	for off := 0; off < len(payload); off += size {
		chunk := payload[off:min(off+size, len(payload))]
		chunks = append(chunks, chunk)
		idx.Parts = append(idx.Parts, partEntry{Name: name(len(chunks)), Size: len(chunk), SHA256: digest(chunk)})
	}
	return idx, chunks
}

// join puts the payload back together from the parts found, by name. It returns the
// payload only when every part is there and each part and the whole match the index;
// otherwise it says which part is missing or altered.
func join(idx partIndex, found map[string][]byte) ([]byte, error) {
	if len(idx.Parts) == 0 {
		return nil, fmt.Errorf("its index lists no parts")
	}
	payload := make([]byte, 0, idx.Size)
	for i, p := range idx.Parts {
		data, ok := found[p.Name]
		if !ok {
			return nil, fmt.Errorf("part %d of %d (Secret %s) is missing", i+1, len(idx.Parts), p.Name)
		}
		if len(data) != p.Size || digest(data) != p.SHA256 {
			return nil, fmt.Errorf("part %d of %d (Secret %s) does not match its digest", i+1, len(idx.Parts), p.Name)
		}
		payload = append(payload, data...)
	}
	if len(payload) != idx.Size || digest(payload) != idx.SHA256 {
		return nil, fmt.Errorf("its %d parts do not add up to the recorded manifests' digest", len(idx.Parts))
	}
	return payload, nil
}
