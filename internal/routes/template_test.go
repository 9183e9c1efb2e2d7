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
		{"/assets/application-3f2b1c9e1d2a4b7c9e8f0a1b2c3d4e5f.css", "/assets/{id}.css"},
		{"/packs/js/app-8c2f0e11a9d3b4c5d6e7.js", "/packs/js/{id}.js"},
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
	method, path := []byte("GET"), []byte("/users/42/orders/3f2b1c9e-1d2a-4b7c-9e8f-0a1b2c3d4e5f.json")
	allocs := testing.AllocsPerRun(100, func() {
		var buf [128]byte
		out := AppendEndpoint(buf[:0], method, path)
		if len(out) == 0 {
			t.Fatal("empty")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per template, want 0", allocs)
	}
}

func BenchmarkAppendEndpoint(b *testing.B) {
	method, path := []byte("GET"), []byte("/users/42/orders/7?page=2")
	b.ReportAllocs()
	var buf [128]byte
	for b.Loop() {
		_ = AppendEndpoint(buf[:0], method, path)
	}
}
