package release_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ferry.dev/ferry/internal/release"
)

// writeBigConfigMaps adds count ConfigMaps of 900 KiB of random data each to the
// app's manifests, so its recorded manifests compress to about count × 0.9 MiB.
func (f *fixture) writeBigConfigMaps(count int, seed uint64) {
	f.t.Helper()
	var b strings.Builder
	for i := range count {
		fmt.Fprintf(&b, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: blob-%d}\nbinaryData:\n  blob: %s\n---\n", i, randomBase64(900<<10, seed*100+uint64(i)))
	}
	if err := os.WriteFile(filepath.Join(f.dir, "k8s", "blobs.yaml"), []byte(b.String()), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) setHistoryLimit(n int) {
	f.t.Helper()
	path := filepath.Join(f.dir, "ferry.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(path, fmt.Appendf(data, "history:\n  limit: %d\n", n), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// revisionSecrets returns the names of the Secrets that hold revision n, head and parts.
func (f *fixture) revisionSecrets(n int) (heads, parts []string) {
	f.t.Helper()
	list, err := f.client.Clientset.CoreV1().Secrets(f.ns).List(context.Background(), metav1.ListOptions{
		LabelSelector: fmt.Sprintf("%s=%d", release.LabelRevision, n),
	})
	if err != nil {
		f.t.Fatal(err)
	}
	for _, s := range list.Items {
		if _, ok := s.Labels[release.LabelPart]; ok {
			parts = append(parts, s.Name)
		} else {
			heads = append(heads, s.Name)
		}
	}
	return heads, parts
}

func (f *fixture) blob(name string) []byte {
	f.t.Helper()
	cm, err := f.client.Clientset.CoreV1().ConfigMaps(f.ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return cm.BinaryData["blob"]
}

func TestARevisionBiggerThanASecretDeploysRollsBackAndIsPruned(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.setHistoryLimit(2)
	// Two blobs, about 1.8 MiB recorded: two parts. The store's own tests split 2.7 MiB
	// into three; this one is about deploy, rollback and pruning of a split revision.
	f.writeBigConfigMaps(2, 1)
	f.mustDeploy("shop/web:v1")
	heads, parts := f.revisionSecrets(1)
	if len(heads) != 1 || len(parts) < 2 {
		t.Fatalf("revision 1 is held by %v and parts %v, want one head and at least 2 parts", heads, parts)
	}
	f.assertLandedOn(1)
	v1blob := f.blob("blob-0")

	f.writeBigConfigMaps(2, 2)
	f.mustDeploy("shop/web:v2")
	f.assertLandedOn(2)
	if got := statuses(f.history()); got != "1:superseded 2:deployed" {
		t.Fatalf("history %s", got)
	}

	res, err := release.Rollback(ctx, f.config(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if res.Release.Revision != 3 || res.Release.RollbackOf != 1 {
		t.Fatalf("rollback made %+v, want revision 3 = revision 1's manifests", res.Release)
	}
	f.assertLandedOn(3)
	if string(f.blob("blob-0")) != string(v1blob) {
		t.Fatal("after the rollback blob-0 does not hold revision 1's data")
	}
	// The limit of 2 pruned revision 1, all of its Secrets.
	if got := statuses(f.history()); got != "2:superseded 3:deployed" {
		t.Fatalf("history %s", got)
	}
	if heads, parts := f.revisionSecrets(1); len(heads)+len(parts) != 0 {
		t.Fatalf("pruned revision 1 left %v %v", heads, parts)
	}

	rep, err := release.Inspect(ctx, f.config())
	if err != nil || rep.Current == nil || rep.Current.Revision != 3 || rep.Current.Objects != 6 || !rep.Healthy {
		t.Fatalf("status %+v (%v)", rep, err)
	}

	// A part of revision 2 goes missing: it is listed as incomplete, and refused as a
	// rollback target with the reason.
	_, parts = f.revisionSecrets(2)
	if err := f.client.Clientset.CoreV1().Secrets(f.ns).Delete(ctx, parts[0], metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := statuses(f.history()); got != "2:incomplete 3:deployed" {
		t.Fatalf("history %s", got)
	}
	_, err = release.Rollback(ctx, f.config(), 2)
	if !errors.Is(err, release.ErrNoRevision) || !strings.Contains(err.Error(), "is missing") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("rollback to an incomplete revision: %v", err)
	}
	if _, err := release.Rollback(ctx, f.config(), 0); !errors.Is(err, release.ErrNoRevision) {
		t.Fatalf("rollback with only an incomplete revision before the current: %v", err)
	}
	if got := statuses(f.history()); got != "2:incomplete 3:deployed" {
		t.Fatalf("refused rollbacks changed the history: %s", got)
	}
}
