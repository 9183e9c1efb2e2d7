package pathtemplate

import "testing"

func TestOf(t *testing.T) {
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
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := Of(tc.in); got != tc.want {
				t.Errorf("Of(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
