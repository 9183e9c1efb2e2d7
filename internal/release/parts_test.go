package release

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	out := make([]byte, n)
	for i := range out {
		out[i] = byte(r.Uint32())
	}
	return out
}

func partNamed(n int) string { return fmt.Sprintf("p%d", n) }

func TestSplitAndJoinRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name      string
		size, max int
		parts     int
	}{
		{"smaller than a part", 5, 10, 1},
		{"exactly one part", 10, 10, 1},
		{"one byte over", 11, 10, 2},
		{"several parts and a remainder", 37, 10, 4},
		{"exact multiple", 40, 10, 4},
		{"a few MiB in Secret-sized parts", 3<<20 + 12345, maxSecretData, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			payload := randomBytes(tc.size, uint64(tc.size))
			idx, chunks := split(payload, tc.max, partNamed)
			if len(chunks) != tc.parts || len(idx.Parts) != tc.parts {
				t.Fatalf("%d chunks, %d index entries, want %d", len(chunks), len(idx.Parts), tc.parts)
			}
			found := map[string][]byte{}
			for i, c := range chunks {
				if len(c) > tc.max {
					t.Fatalf("part %d has %d bytes, more than %d", i+1, len(c), tc.max)
				}
				found[idx.Parts[i].Name] = c
			}
			back, err := join(idx, found)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back, payload) {
				t.Fatal("joined payload differs from the one split")
			}
		})
	}
}

func TestJoinReportsAnIncompleteRevision(t *testing.T) {
	payload := randomBytes(35, 1)
	for _, tc := range []struct {
		name   string
		damage func(idx *partIndex, found map[string][]byte)
		want   string
	}{
		{"a part deleted", func(_ *partIndex, found map[string][]byte) { delete(found, "p2") }, "part 2 of 4 (Secret p2) is missing"},
		{"a byte changed", func(_ *partIndex, found map[string][]byte) { found["p3"][0] ^= 1 }, "part 3 of 4 (Secret p3) does not match its digest"},
		{"a part cut short", func(_ *partIndex, found map[string][]byte) { found["p4"] = found["p4"][:2] }, "part 4 of 4 (Secret p4) does not match its digest"},
		{"two parts swapped", func(_ *partIndex, found map[string][]byte) {
			found["p1"], found["p2"] = found["p2"], found["p1"]
		}, "part 1 of 4 (Secret p1) does not match its digest"},
		{"the index lost a part", func(idx *partIndex, _ map[string][]byte) {
			idx.Parts = idx.Parts[:3]
		}, "its 3 parts do not add up to the recorded manifests' digest"},
		{"an empty index", func(idx *partIndex, _ map[string][]byte) { idx.Parts = nil }, "its index lists no parts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idx, chunks := split(payload, 10, partNamed)
			found := map[string][]byte{}
			for i, c := range chunks {
				found[idx.Parts[i].Name] = bytes.Clone(c)
			}
			tc.damage(&idx, found)
			back, err := join(idx, found)
			if err == nil || back != nil {
				t.Fatalf("join of a damaged revision returned %d bytes and %v", len(back), err)
			}
			if err.Error() != tc.want {
				t.Fatalf("error %q, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
		})
	}
}
