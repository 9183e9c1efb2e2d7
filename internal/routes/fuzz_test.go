package routes

import (
	"strings"
	"testing"
)

// FuzzTemplate checks what every template promises: it starts with a slash, keeps
// the path's segments, is its own template, and Append agrees with Template.
func FuzzTemplate(f *testing.F) {
	for _, seed := range []string{
		"/users/42", "/assets/app-3f2a9c1e.js", "/assets/main.8c1d2e.css", "/static/js/vendor.3f2a9c1e4b5d.chunk.js",
		"/img/logo-0123456789abcdef.png", "/assets/application-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.css",
		"/dist/main.a1b2c3d4e5f6a7b8c9d0.js.map", "/assets/index-B-x_4a9Z.css", "/assets/deadbeef-cafe.js", "/js/jquery-3.6.0.min.js",
		"/docs/report-2024-05-01.pdf", "/assets/{hash}.js", "/a/:id.json", "/x/-.-.js", "/x/.js", "/x/a..js", "/x/-abcdef12.js",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, path string) {
		got := Template(path)
		if got == "" || got[0] != '/' {
			t.Fatalf("Template(%q) = %q, want a leading slash", path, got)
		}
		if string(Append(nil, []byte(path))) != got {
			t.Fatalf("Append(%q) = %q, Template = %q", path, Append(nil, []byte(path)), got)
		}
		if again := Template(got); again != got {
			t.Fatalf("Template(%q) = %q, but Template(%q) = %q", path, got, got, again)
		}
		clean, _, _ := strings.Cut(path, "?")
		clean, _, _ = strings.Cut(clean, "#")
		if want := strings.Count(strings.TrimPrefix(clean, "/"), "/"); strings.Count(got[1:], "/") != want {
			t.Fatalf("Template(%q) = %q changes the number of segments", path, got)
		}
	})
}
