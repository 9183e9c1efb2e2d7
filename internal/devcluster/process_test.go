package devcluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTail(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content string
		n             int
		want          string
	}{
		{"fewer lines than asked", "a\nb\n", 5, "a\nb\n"},
		{"last lines", "1\n2\n3\n4\n", 2, "3\n4\n"},
		{"no trailing newline", "1\n2\n3", 2, "2\n3"},
		{"empty", "", 3, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if got := tail(path, tc.n); got != tc.want {
				t.Errorf("tail = %q, want %q", got, tc.want)
			}
		})
	}
	if got := tail(filepath.Join(dir, "missing"), 3); got != "(no log)" {
		t.Errorf("tail of a missing file = %q", got)
	}
}

func TestIsZombie(t *testing.T) {
	for stat, want := range map[string]bool{
		"123 (etcd) S 1 123":           false,
		"123 (etcd) Z 1 123":           true,
		"123 (a) b) Z 1 123":           true,
		"123 (kube-apiserver) R 1 2 3": false,
	} {
		if got := isZombie([]byte(stat)); got != want {
			t.Errorf("isZombie(%q) = %v, want %v", stat, got, want)
		}
	}
}

func TestFreePortsAreDistinct(t *testing.T) {
	ports, err := freePorts(7)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p <= 0 || seen[p] {
			t.Fatalf("ports %v are not distinct positive numbers", ports)
		}
		seen[p] = true
	}
}

func TestLogFollowerCopiesOnlyNewCompleteLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	var out strings.Builder
	f := &logFollower{path: path, out: &out}
	f.flush() // no file yet
	appendTo := func(s string) {
		file, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		if _, err := file.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	appendTo("one\ntw")
	f.flush()
	if out.String() != "one\n" {
		t.Fatalf("after first flush %q, want %q", out.String(), "one\n")
	}
	appendTo("o\nthree\n")
	f.flush()
	if out.String() != "one\ntwo\nthree\n" {
		t.Fatalf("after second flush %q", out.String())
	}
}
