package routes

import "testing"

func TestTemplate(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/?q=1", "/"},
		{"/users", "/users"},
		{"/users/", "/users/"},
		{"/users/42", "/users/{id}"},
		{"/users/42/orders/7?page=2", "/users/{id}/orders/{id}"},
		{"/users/42.json", "/users/{id}.json"},
		{"/assets/app.css", "/assets/app.css"},
		{"/assets/application-3f2b1c9e1d2a4b7c9e8f0a1b2c3d4e5f.css", "/assets/application-{hash}.css"},
		{"/packs/js/app-8c2f0e11a9d3b4c5d6e7.js", "/packs/js/app-{hash}.js"},
		{"/reports/2024-05-01/summary", "/reports/{id}/summary"},
		{"/items/3f2b1c9e-1d2a-4b7c-9e8f-0a1b2c3d4e5f", "/items/{id}"},
		{"/blobs/d41d8cd98f00b204e9800998ecf8427e", "/blobs/{id}"},
		{"/products/42-blue-shoes", "/products/{id}"},
		{"/reset/aZ3kP9qL2mN8xR4tY6wB1", "/reset/{id}"},
		{"/users/:id", "/users/{id}"},
		{"/products/:id.json", "/products/{id}.json"},
		{"/users/{user_id}/posts/<post>", "/users/{id}/posts/{id}"},
		{"/v2/api", "/v2/api"},
		{"/deadbeef", "/deadbeef"},
		{"/a-b-c", "/a-b-c"},
		{"/very-long-name-of-a-static-page", "/very-long-name-of-a-static-page"},
		{"users/7", "/users/{id}"},
		{"/search#frag", "/search"},
		{"/a//b/", "/a//b/"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := Template(tc.in); got != tc.want {
				t.Errorf("Template(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if got := string(Append(nil, []byte(tc.in))); got != tc.want {
				t.Errorf("Append(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestTemplateAssets covers the file names of a real load-balancer log: each build
// tool's fingerprints collapse, and names that only look like hashes stay.
func TestTemplateAssets(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/assets/app-3f2a9c1e.js", "/assets/app-{hash}.js"},
		{"/assets/main.8c1d2e.css", "/assets/main.{hash}.css"},
		{"/static/js/vendor.3f2a9c1e4b5d.chunk.js", "/static/js/vendor.{hash}.chunk.js"},
		{"/static/js/2.8c1d2e3f.chunk.js", "/static/js/2.{hash}.chunk.js"},
		{"/img/logo-0123456789abcdef.png", "/img/logo-{hash}.png"},
		{"/assets/application-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.css", "/assets/application-{hash}.css"},
		{"/assets/application-9F86D081884C7D659A2FEAA0C55AD015.js", "/assets/application-{hash}.js"},
		{"/dist/main.a1b2c3d4e5f6a7b8c9d0.js", "/dist/main.{hash}.js"},
		{"/dist/main.a1b2c3d4e5f6a7b8c9d0.js.map", "/dist/main.{hash}.js.map"},
		{"/dist/runtime~main.5e8a7b3c.js", "/dist/runtime~main.{hash}.js"},
		{"/fonts/fa-solid-900.5d2b1c8a.woff2", "/fonts/fa-solid-900.{hash}.woff2"},
		{"/assets/index-BPvgi06w.js", "/assets/index-{hash}.js"},
		{"/assets/index-B-x_4a9Z.css", "/assets/index-{hash}.css"},
		{"/assets/vendor-react-DiwRGTdA.js", "/assets/vendor-react-{hash}.js"},
		{"/assets/app-1700000000.js", "/assets/app-{hash}.js"},
		{"/assets/3f2a9c1e.js", "/assets/{hash}.js"},
		{"/assets/app-{hash}.js", "/assets/app-{hash}.js"},
		{"/assets/{hash}.js", "/assets/{hash}.js"},
		// Names, versions, sizes and dates are not hashes.
		{"/assets/main.css", "/assets/main.css"},
		{"/assets/app-v2.js", "/assets/app-v2.js"},
		{"/assets/deadbeef-cafe.js", "/assets/deadbeef-cafe.js"},
		{"/assets/facade.decade.css", "/assets/facade.decade.css"},
		{"/js/jquery-3.6.0.min.js", "/js/jquery-3.6.0.min.js"},
		{"/js/bootstrap.bundle.min.js", "/js/bootstrap.bundle.min.js"},
		{"/icons/icon-192x192.png", "/icons/icon-192x192.png"},
		{"/icons/logo-1024.png", "/icons/logo-1024.png"},
		{"/img/logo@2x.png", "/img/logo@2x.png"},
		{"/img/bg2.png", "/img/bg2.png"},
		{"/img/ace123.png", "/img/{hash}.png"},
		{"/docs/report-2024-05-01.pdf", "/docs/report-2024-05-01.pdf"},
		{"/assets/app-HomePage.js", "/assets/app-HomePage.js"},
		{"/assets/app-settings.js", "/assets/app-settings.js"},
		{"/blog/my-blog-post-Two.html", "/blog/my-blog-post-Two.html"},
		{"/assets/userIcon.png", "/assets/userIcon.png"},
		{"/downloads/setup-x86_64.tar.gz", "/downloads/setup-x86_64.tar.gz"},
		// Without an extension a segment is not a file name: IDs only.
		{"/products/shoe-8c1d2e", "/products/shoe-8c1d2e"},
		{"/assets/app-3f2a9c1e", "/assets/app-3f2a9c1e"},
		{"/exports/20240501.csv", "/exports/{id}.csv"},
		{"/products/42-blue-shoes.json", "/products/{id}.json"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := Template(tc.in); got != tc.want {
				t.Errorf("Template(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if got := string(Append(nil, []byte(tc.in))); got != tc.want {
				t.Errorf("Append(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestEndpoint(t *testing.T) {
	if got := Endpoint("GET", "/users/42?x=1"); got != "GET /users/{id}" {
		t.Errorf("Endpoint = %q", got)
	}
	if got := string(AppendEndpoint(nil, []byte("POST"), []byte("/cart/7"))); got != "POST /cart/{id}" {
		t.Errorf("AppendEndpoint = %q", got)
	}
}

// TestAppendDoesNotAllocate is the proxy's promise: a request's template is built
// in a buffer on the stack.
func TestAppendDoesNotAllocate(t *testing.T) {
	for _, path := range []string{"/users/42/orders/3f2b1c9e-1d2a-4b7c-9e8f-0a1b2c3d4e5f.json", "/static/js/vendor.3f2a9c1e4b5d.chunk.js", "/assets/index-BPvgi06w.js"} {
		method, path := []byte("GET"), []byte(path)
		allocs := testing.AllocsPerRun(100, func() {
			var buf [128]byte
			out := AppendEndpoint(buf[:0], method, path)
			if len(out) == 0 {
				t.Fatal("empty")
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per template, want 0", path, allocs)
		}
	}
}

func BenchmarkAppendEndpoint(b *testing.B) {
	for _, path := range []string{"/users/42/orders/7?page=2", "/static/js/vendor.3f2a9c1e4b5d.chunk.js", "/assets/application.css"} {
		b.Run(path, func(b *testing.B) {
			method, path := []byte("GET"), []byte(path)
			b.ReportAllocs()
			var buf [128]byte
			for b.Loop() {
				_ = AppendEndpoint(buf[:0], method, path)
			}
		})
	}
}
