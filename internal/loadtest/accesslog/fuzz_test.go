package accesslog

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// FuzzParseLine checks that no line makes a parser panic, and that whatever parses is
// a request ferry can send: an upper-case method and a target starting with "/" with
// no control bytes.
func FuzzParseLine(f *testing.F) {
	for _, path := range []string{"testdata/shop-nginx.log", "testdata/shop-alb.log"} {
		file, err := os.Open(path)
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(file)
		for i := 0; sc.Scan() && i < 5; i++ {
			f.Add(sc.Text())
		}
		file.Close()
	}
	f.Add(`203.0.113.1 - - [20/Nov/2026:10:00:01 +0000] "GET /q?x=\"y\" HTTP/1.1" 404 0`)
	f.Add(`"\`)
	f.Add(`[`)
	f.Fuzz(func(t *testing.T, line string) {
		for _, format := range []Format{Combined, ALB} {
			e, err := ParseLine(format, line)
			if err != nil {
				continue
			}
			if e.Method == "" || strings.ToUpper(e.Method) != e.Method {
				t.Errorf("%s: method %q from %q", format, e.Method, line)
			}
			if !strings.HasPrefix(e.URI, "/") || strings.ContainsAny(e.URI, " \t\r\n\x00") {
				t.Errorf("%s: target %q from %q", format, e.URI, line)
			}
			if e.Status < 100 || e.Status > 599 {
				t.Errorf("%s: status %d from %q", format, e.Status, line)
			}
		}
	})
}
