package proxy

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// lineWriter sends every write (one log record each) to a channel.
type lineWriter chan string

func (w lineWriter) Write(b []byte) (int, error) {
	w <- string(b)
	return len(b), nil
}

// Secrets sent by the client in the tests below; none may appear in a log line.
var clientSecrets = []string{"backend-s3cret", "hunter2", "bearer-s3cret", "basic-s3cret", "session-s3cret", "apikey-s3cret", "csrf-s3cret", "force-s3cret-0123456789"}

const secretHeaders = "Authorization: Bearer bearer-s3cret\r\nProxy-Authorization: Basic basic-s3cret\r\n" +
	"Cookie: _shop_session=session-s3cret\r\nX-Api-Key: apikey-s3cret\r\nX-CSRF-Token: csrf-s3cret\r\n" +
	"X-Ferry-Side: kubernetes:force-s3cret-0123456789\r\n"

// TestLogsRedactSecrets: the warning about a malformed request, and the access log
// line of a request whose backend answered garbage, name the headers but never show
// the values of those that carry secrets, nor a body.
func TestLogsRedactSecrets(t *testing.T) {
	lines := make(lineWriter, 100)
	back := rawBackend(t, "HTTP/1.1 200 OK\r\nSet-Cookie: sid=backend-s3cret\r\nBad\x01Name: x\r\n\r\n")
	cfg := testConfig([]string{back}, []string{back})
	cfg.Force = ForceConfig{Enabled: true, Secret: "force-s3cret-0123456789"}
	cfg.AccessLog.Path = filepath.Join(t.TempDir(), "access.log")
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.Logger = slog.New(slog.NewTextHandler(lines, nil))
	if err := p.Open(); err != nil {
		t.Fatal(err)
	}
	for _, request := range []string{
		// A good request that the backend answers with garbage.
		"GET / HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n" + secretHeaders + "\r\n",
		// A control character in a header name: fasthttp refuses the request and logs it.
		"GET / HTTP/1.1\r\nHost: shop\r\n" + secretHeaders + "Bad\x01Name: x\r\n\r\n",
		// A header value with a control character, in a secret header, and a body.
		"POST / HTTP/1.1\r\nHost: shop\r\nAuthorization: Bearer bearer-s3cret\x01\r\nContent-Length: 16\r\n\r\npassword=hunter2",
	} {
		conn, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(conn, request)
		io.ReadAll(conn)
		conn.Close()
	}
	warnings := 0
	for warnings < 2 {
		select {
		case line := <-lines:
			if !strings.Contains(line, "level=WARN") {
				continue
			}
			warnings++
			assertRedacted(t, "warning", line)
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of 2 warnings about malformed requests logged", warnings)
		}
	}
	if err := p.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	access := readAccessLog(t, cfg.AccessLog.Path)
	if len(access) != 1 || access[0]["status"] != float64(502) {
		t.Fatalf("access log %v, want one 502", access)
	}
	assertRedacted(t, "access log", fmt.Sprint(access[0]))
}

// TestRedactHeaders: the values of secret-bearing headers are replaced in raw and in
// quoted (escaped) header dumps, whatever their case; other headers are kept.
func TestRedactHeaders(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Authorization: Bearer abc\r\nAccept: */*\r\n", "Authorization: [redacted]\r\nAccept: */*\r\n"},
		{`contents: "GET / HTTP/1.1\r\ncookie: a=b; c=d\r\nX-Api-Key: k\r\nHost: shop\r\n\r\n"`,
			`contents: "GET / HTTP/1.1\r\ncookie: [redacted]\r\nX-Api-Key: [redacted]\r\nHost: shop\r\n\r\n"`},
		{"set-cookie:sid=1\n", "set-cookie: [redacted]\n"},
		{`invalid header value "Bearer x\x01"`, `invalid header value "[redacted]"`},
		{"X-Auth-Token: t\r\nX-Amz-Security-Token: u\r\nX-Session-Id: v", "X-Auth-Token: [redacted]\r\nX-Amz-Security-Token: [redacted]\r\nX-Session-Id: [redacted]"},
		{"Keyboard: qwerty\r\nAccept: text/html", "Keyboard: qwerty\r\nAccept: text/html"},
		{"no headers here: just words", "no headers here: just words"},
		{`x-ferry-side: kubernetes:s3cret\r\n`, `x-ferry-side: [redacted]\r\n`},
		{`contents: "POST / HTTP/1.1\r\nHost: shop\r\n\r\npassword=hunter2"`, `contents: "POST / HTTP/1.1\r\nHost: shop\r\n\r\n[body omitted]"`},
		{`"Authorization: Bearer \"quoted\" x"`, `"Authorization: [redacted]"`},
	} {
		if got := redactHeaders(tc.in, "X-Ferry-Side"); got != tc.want {
			t.Errorf("redactHeaders(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func assertRedacted(t *testing.T, what, line string) {
	t.Helper()
	for _, s := range clientSecrets {
		if strings.Contains(line, s) {
			t.Errorf("%s shows the secret %q: %s", what, s, line)
		}
	}
}
