package accesslog

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func readFile(t *testing.T, path string, f Format) (*Log, error) {
	t.Helper()
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	return Read(file, f)
}

func TestReadSampleLogs(t *testing.T) {
	for _, tc := range []struct {
		name, path   string
		format       Format
		wantFormat   Format
		wantEntries  int
		wantSkipped  int
		wantMethods  map[string]int
		wantFirstURI string
	}{
		{"nginx auto", "testdata/shop-nginx.log", Auto, Combined, 200, 2,
			map[string]int{"GET": 176, "HEAD": 4, "POST": 14, "DELETE": 4, "PUT": 2}, "/products/1000"},
		{"nginx named", "testdata/shop-nginx.log", Combined, Combined, 200, 2, nil, "/products/1000"},
		{"alb auto", "testdata/shop-alb.log", Auto, ALB, 50, 0,
			map[string]int{"GET": 45, "POST": 5}, "/products/1000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log, err := readFile(t, tc.path, tc.format)
			if err != nil {
				t.Fatal(err)
			}
			if log.Format != tc.wantFormat || len(log.Entries) != tc.wantEntries || log.Skipped != tc.wantSkipped {
				t.Fatalf("format %s, %d entries, %d skipped; want %s, %d, %d",
					log.Format, len(log.Entries), log.Skipped, tc.wantFormat, tc.wantEntries, tc.wantSkipped)
			}
			if got := log.Entries[0].URI; got != tc.wantFirstURI {
				t.Errorf("first URI %q, want %q", got, tc.wantFirstURI)
			}
			methods := map[string]int{}
			for _, e := range log.Entries {
				methods[e.Method]++
				if e.Time.IsZero() || e.Status == 0 || !strings.HasPrefix(e.URI, "/") {
					t.Errorf("incomplete entry %+v", e)
				}
			}
			for m, n := range tc.wantMethods {
				if methods[m] != n {
					t.Errorf("%d %s requests, want %d (all: %v)", methods[m], m, n, methods)
				}
			}
		})
	}
}

func TestReadRefusesOtherFiles(t *testing.T) {
	for _, tc := range []struct {
		name, input string
		format      Format
		want        error
	}{
		{"csv", "endpoint,mean_ms\nGET /,12\nGET /cart,30\n", Auto, ErrUnknownFormat},
		{"empty", "\n\n", Auto, ErrNoRequests},
		{"alb read as combined", "http 2026-11-20T10:00:00Z app/lb/1 203.0.113.1:1 - 0 0 0 200 200 1 1 \"GET http://x/ HTTP/1.1\" \"-\"\n", Combined, ErrUnknownFormat},
		{"mostly junk", "junk\njunk\n203.0.113.1 - - [20/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 1\n", Combined, ErrUnknownFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tc.input), tc.format)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
}

func TestParseLine(t *testing.T) {
	ts := time.Date(2026, 11, 20, 10, 0, 1, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		format Format
		line   string
		want   Entry
		ok     bool
	}{
		{"combined", Combined, `203.0.113.1 - frank [20/Nov/2026:10:00:01 +0000] "GET /a?b=1 HTTP/1.1" 200 12 "-" "curl/8"`,
			Entry{ts, "GET", "/a?b=1", 200}, true},
		{"common", Combined, `203.0.113.1 - - [20/Nov/2026:10:00:01 +0000] "POST /cart HTTP/1.0" 201 -`,
			Entry{ts, "POST", "/cart", 201}, true},
		{"escaped quote in request", Combined, `203.0.113.1 - - [20/Nov/2026:10:00:01 +0000] "GET /q?x=\"y\" HTTP/1.1" 404 0`,
			Entry{ts, "GET", `/q?x=\"y\"`, 404}, true},
		{"absolute target", Combined, `203.0.113.1 - - [20/Nov/2026:10:00:01 +0000] "GET http://shop.example.com/x HTTP/1.1" 200 1`,
			Entry{ts, "GET", "/x", 200}, true},
		{"no request", Combined, `203.0.113.1 - - [20/Nov/2026:10:00:01 +0000] "-" 408 0`, Entry{}, false},
		{"binary request", Combined, `203.0.113.1 - - [20/Nov/2026:10:00:01 +0000] "\x16\x03\x01" 400 0`, Entry{}, false},
		{"bad time", Combined, `203.0.113.1 - - [yesterday] "GET / HTTP/1.1" 200 0`, Entry{}, false},
		{"bad status", Combined, `203.0.113.1 - - [20/Nov/2026:10:00:01 +0000] "GET / HTTP/1.1" abc 0`, Entry{}, false},
		{"alb", ALB, `h2 2026-11-20T10:00:01Z app/lb/1 203.0.113.1:1 198.51.100.1:80 0.000 0.001 0.000 503 - 1 1 "GET https://shop.example.com:443/p/1?x=1 HTTP/2.0" "ua"`,
			Entry{ts, "GET", "/p/1?x=1", 503}, true},
		{"alb host only", ALB, `https 2026-11-20T10:00:01Z app/lb/1 203.0.113.1:1 - -1 -1 -1 400 - 1 1 "GET https://shop.example.com:443 HTTP/1.1" "ua"`,
			Entry{ts, "GET", "/", 400}, true},
		{"alb unknown type", ALB, `ftp 2026-11-20T10:00:01Z app/lb/1 203.0.113.1:1 - 0 0 0 200 200 1 1 "GET http://x/ HTTP/1.1" "ua"`, Entry{}, false},
		{"alb truncated", ALB, `http 2026-11-20T10:00:01Z app/lb/1 203.0.113.1:1`, Entry{}, false},
		{"alb unterminated quote", ALB, `http 2026-11-20T10:00:01Z a b c 0 0 0 200 200 1 1 "GET http://x/ HTTP/1.1`, Entry{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseLine(tc.format, tc.line)
			if (err == nil) != tc.ok {
				t.Fatalf("error %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && (!got.Time.Equal(tc.want.Time) || got.Method != tc.want.Method || got.URI != tc.want.URI || got.Status != tc.want.Status) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if !tc.ok && !errors.Is(err, ErrMalformed) {
				t.Errorf("error %v does not wrap ErrMalformed", err)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"auto": Auto, "nginx": Combined, "Apache": Combined, "combined": Combined, "ALB": ALB} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseFormat("iis"); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("ParseFormat(iis) error %v, want ErrUnknownFormat", err)
	}
}
