package proxy

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// adminRequest sends one request to the admin API and returns its status.
func adminRequest(t *testing.T, p *Proxy, method, path, host, auth, body string) int {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+p.AdminAddr()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := newClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	drain(resp)
	return resp.StatusCode
}

// TestAdminBearerScheme: the scheme name is case-insensitive (RFC 9110 11.1) and may
// be followed by more than one space; the token itself is compared exactly.
func TestAdminBearerScheme(t *testing.T) {
	l1 := startBackend(t, "legacy-1")
	p := startProxy(t, testConfig(urls(l1), urls(l1)))
	for _, tc := range []struct {
		auth string
		want int
	}{
		{"Bearer test-token", 200},
		{"bearer test-token", 200},
		{"BEARER test-token", 200},
		{"Bearer   test-token", 200},
		{"Bearer TEST-TOKEN", 401},
		{"Bearertest-token", 401},
		{"Basic dGVzdC10b2tlbg==", 401},
	} {
		if got := adminRequest(t, p, "GET", PathWeights, "", tc.auth, ""); got != tc.want {
			t.Errorf("Authorization %q: %d, want %d", tc.auth, got, tc.want)
		}
	}
}

// TestAdminRefusesTrailingData: a weights body with anything after its JSON object is
// refused and changes nothing.
func TestAdminRefusesTrailingData(t *testing.T) {
	l1 := startBackend(t, "legacy-1")
	p := startProxy(t, testConfig(urls(l1), urls(l1)))
	for _, body := range []string{
		`{"kubernetes": 5000} {"kubernetes": 10000}`,
		`{"kubernetes": 5000}x`,
		`{"kubernetes": 5000}]`,
	} {
		if got := adminRequest(t, p, "PUT", PathWeights, "", "Bearer test-token", body); got != http.StatusBadRequest {
			t.Errorf("body %q: %d, want 400", body, got)
		}
	}
	if w, _ := p.Weights(context.Background()); w.Kubernetes != 0 {
		t.Errorf("a refused body changed the weights to %v", w)
	}
	if got := adminRequest(t, p, "PUT", PathWeights, "", "Bearer test-token", "{\"kubernetes\": 5000}\n"); got != http.StatusOK {
		t.Errorf("a body ending in a newline: %d, want 200", got)
	}
}

// TestAdminTokenWithoutControlCharacters: a token with a control character could never
// be sent in a header: it is refused when the config is loaded, from the file too.
func TestAdminTokenWithoutControlCharacters(t *testing.T) {
	cfg := testConfig([]string{"http://127.0.0.1:1"}, []string{"http://127.0.0.1:2"})
	cfg.Admin.Token = "abc\x00def"
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "admin.token") {
		t.Errorf("New with a NUL in the token: %v, want an admin.token error", err)
	}
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("abc\x1bdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Admin = AdminConfig{Listen: "127.0.0.1:0", TokenFile: file}
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "admin.tokenFile") {
		t.Errorf("New with an escape in the token file: %v, want an admin.tokenFile error", err)
	}
}

// TestAdminWithoutTokenChecksHost: without a token the admin API answers only requests
// addressed to a loopback name or address, so that a web page cannot reach it through
// DNS rebinding (its requests carry the page's host name).
func TestAdminWithoutTokenChecksHost(t *testing.T) {
	l1 := startBackend(t, "legacy-1")
	cfg := testConfig(urls(l1), urls(l1))
	cfg.Admin.Token = ""
	p := startProxy(t, cfg)
	_, port, _ := strings.Cut(p.AdminAddr(), ":")
	for _, tc := range []struct {
		host string
		want int
	}{
		{"127.0.0.1:" + port, 200},
		{"localhost:" + port, 200},
		{"LOCALHOST", 200},
		{"127.0.0.2", 200},
		{"[::1]:" + port, 200},
		{"attacker.example:" + port, http.StatusForbidden},
		{"localhost.attacker.example", http.StatusForbidden},
		{"10.0.0.1:" + port, http.StatusForbidden},
	} {
		for _, path := range []string{PathWeights, PathHealthz} {
			if got := adminRequest(t, p, "GET", path, tc.host, "", ""); got != tc.want {
				t.Errorf("GET %s with Host %q: %d, want %d", path, tc.host, got, tc.want)
			}
		}
	}
	if got := adminRequest(t, p, "PUT", PathWeights, "attacker.example", "", `{"kubernetes": 10000}`); got != http.StatusForbidden {
		t.Errorf("PUT with a foreign Host: %d, want 403", got)
	}
	if w, _ := p.Weights(context.Background()); w.Kubernetes != 0 {
		t.Errorf("a rebound page changed the weights to %v", w)
	}
}
