package cli

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ferry.dev/ferry/internal/release"
)

// TestDiffAgainstTheClusterAndTheLastRevision deploys an app, changes its image, a
// Secret's value and drops a ConfigMap, and checks what diff and deploy --dry-run
// say about it on a real control plane: the changes object by object, the Secret's
// values never printed, the exit codes, and nothing changed.
func TestDiffAgainstTheClusterAndTheLastRevision(t *testing.T) {
	file, ns, cs := appDir(t, 1)
	k8s := filepath.Join(filepath.Dir(file), "k8s")
	const oldSecret, newSecret = "hunter2-old-value", "hunter2-new-value"
	writeManifest := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(k8s, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeManifest("secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: web-db}\nstringData: {password: "+oldSecret+", user: shop}\n")
	writeManifest("config.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web-extra}\ndata: {mode: legacy}\n")
	if code, _, stderr := run(t, ferryArgs(file, "deploy", "--image", "shop/web:v1")...); code != 0 {
		t.Fatalf("deploy: exit %d\n%s", code, stderr)
	}

	t.Run("nothing changed", func(t *testing.T) {
		for _, against := range []string{"all", "cluster", "revision"} {
			code, stdout, stderr := run(t, ferryArgs(file, "diff", "--against", against)...)
			if code != 0 {
				t.Fatalf("--against %s: exit %d, want 0\n%s\n%s", against, code, stdout, stderr)
			}
			if strings.Contains(stdout, "---") || !strings.Contains(stdout, "unchanged  deployment/web") {
				t.Fatalf("--against %s printed a diff:\n%s", against, stdout)
			}
		}
	})

	writeManifest("secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: web-db}\nstringData: {password: "+newSecret+", user: shop}\n")
	if err := os.Remove(filepath.Join(k8s, "config.yaml")); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, ferryArgs(file, "diff", "--image", "shop/web:v2")...)
	if code != ExitDifferences || strings.Contains(stderr, "ferry:") {
		t.Fatalf("diff: exit %d, want %d\n%s\n%s", code, ExitDifferences, stdout, stderr)
	}
	cluster, revision, ok := strings.Cut(stdout, "Against revision 1 (deployed, shop/web:v1):")
	if !ok {
		t.Fatalf("no section for revision 1:\n%s", stdout)
	}
	for _, section := range []struct{ name, text string }{{"cluster", cluster}, {"revision", revision}} {
		for _, want := range []string{
			"update     deployment/web", "-      - image: shop/web:v1", "+      - image: shop/web:v2",
			"update     secret/web-db", "+  password: " + release.SecretChanged,
			"delete     configmap/web-extra", "-  mode: legacy",
		} {
			if !strings.Contains(section.text, want) {
				t.Errorf("the %s section lacks %q:\n%s", section.name, want, section.text)
			}
		}
	}
	if !strings.Contains(cluster, "--- live deployment/web") || !strings.Contains(revision, "--- revision-1 deployment/web") {
		t.Errorf("diff headers do not say what is compared:\n%s", stdout)
	}
	for _, secret := range []string{oldSecret, newSecret, base64.StdEncoding.EncodeToString([]byte(oldSecret)), base64.StdEncoding.EncodeToString([]byte(newSecret))} {
		if strings.Contains(stdout, secret) {
			t.Fatalf("the diff prints a Secret's value %q:\n%s", secret, stdout)
		}
	}

	code, jsonOut, _ := run(t, ferryArgs(file, "diff", "--image", "shop/web:v2", "--against", "cluster", "-o", "json")...)
	var p release.Preview
	if err := json.Unmarshal([]byte(jsonOut), &p); err != nil || code != ExitDifferences {
		t.Fatalf("-o json: exit %d, %v\n%s", code, err, jsonOut)
	}
	changes := map[string]release.Change{}
	for _, d := range p.Cluster {
		changes[d.Object] = d.Change
	}
	if want := map[string]release.Change{"deployment/web": release.ChangeUpdate, "secret/web-db": release.ChangeUpdate, "configmap/web-extra": release.ChangeDelete}; !equalChanges(changes, want) || p.Revision != nil || p.NextRevision != 2 {
		t.Fatalf("JSON: changes %v, revision %v, next %d; want %v, no revision section, next 2", changes, p.Revision, p.NextRevision, want)
	}

	code, stdout, stderr = run(t, ferryArgs(file, "deploy", "--dry-run", "--image", "shop/web:v2")...)
	if code != 0 || !strings.Contains(stderr, "dry run: nothing was changed") || !strings.Contains(stdout, "+      - image: shop/web:v2") {
		t.Fatalf("deploy --dry-run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if img, _ := liveImage(t, cs, ns); img != "shop/web:v1" {
		t.Fatalf("the dry run changed the image to %s", img)
	}
	if h := history(t, file); len(h) != 1 {
		t.Fatalf("the dry run recorded a revision: %+v", h)
	}

	code, _, stderr = run(t, ferryArgs(file, "diff", "--image", "shop/web:latest")...)
	if code != ExitError || !strings.Contains(stderr, "latest") {
		t.Fatalf("a mutable tag: exit %d %q, want the deploy's refusal", code, stderr)
	}
	code, _, stderr = run(t, ferryArgs(file, "diff", "--against", "yesterday")...)
	if code != ExitUsage || !strings.Contains(stderr, "use all, cluster or revision") {
		t.Fatalf("--against yesterday: exit %d %q", code, stderr)
	}
}

func equalChanges(a, b map[string]release.Change) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
