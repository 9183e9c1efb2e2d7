package baseline

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func ms(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }

func TestLoadSampleExports(t *testing.T) {
	for _, tc := range []struct {
		path  string
		count int
		want  map[string]Endpoint
	}{
		{"testdata/shop-apm.csv", 6, map[string]Endpoint{
			"GET /":             {Method: "GET", Path: "/", Count: 120400, Mean: ms(18.2), P95: ms(41), P99: ms(88.5), Max: ms(1210)},
			"GET /products/:id": {Method: "GET", Path: "/products/:id", Count: 402113, Mean: ms(24.6), P95: ms(60.2), P99: ms(140), Max: ms(2450)},
			"POST /cart/items":  {Method: "POST", Path: "/cart/items", Count: 20010, Mean: ms(45.1), P95: ms(95), P99: ms(230), Max: ms(3000)},
		}},
		{"testdata/shop-apm.json", 3, map[string]Endpoint{
			"GET /":              {Method: "GET", Path: "/", Count: 120400, Mean: ms(18.2), P95: ms(41), P99: ms(88.5), Max: ms(1210)},
			"GET /products/{id}": {Method: "GET", Path: "/products/{id}", Mean: ms(24.6), P99: ms(140), Max: ms(2450)},
			"/cart":              {Path: "/cart", Mean: ms(31), P95: ms(70.4), Max: ms(1900)},
		}},
	} {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			b, err := Load(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Endpoints) != tc.count || b.Source != tc.path {
				t.Fatalf("%d endpoints from %q, want %d from %q", len(b.Endpoints), b.Source, tc.count, tc.path)
			}
			got := map[string]Endpoint{}
			for _, e := range b.Endpoints {
				got[e.Name()] = e
			}
			for name, want := range tc.want {
				if got[name] != want {
					t.Errorf("%s = %+v, want %+v", name, got[name], want)
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, file, content string
		want                error
	}{
		{"no endpoint column", "a.csv", "mean_ms,p99_ms\n1,2\n", ErrColumn},
		{"no latency column", "a.csv", "endpoint,count\n/,2\n", ErrColumn},
		{"bad number", "a.csv", "endpoint,p99_ms\n/,fast\n", ErrValue},
		{"negative", "a.csv", "endpoint,p99_ms\n/,-3\n", ErrValue},
		{"no latency in row", "a.csv", "endpoint,p99_ms,mean_ms\n/,,\n", ErrValue},
		{"empty endpoint", "a.csv", "endpoint,p99_ms\n,3\n", ErrValue},
		{"header only", "a.csv", "endpoint,p99_ms\n", ErrNoRecord},
		{"empty file", "a.csv", "", ErrFormat},
		{"broken json", "a.json", "{\"endpoints\": [", ErrFormat},
		{"empty json", "a.json", "{}", ErrNoRecord},
		{"json bad value", "a.json", `[{"endpoint": "/", "p99_ms": "soon"}]`, ErrValue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.file)
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.csv")); err == nil || !strings.Contains(err.Error(), "read baseline") {
		t.Errorf("missing file: error %v", err)
	}
}

func TestFind(t *testing.T) {
	b := &Baseline{Endpoints: []Endpoint{
		{Path: "/users/:id", Mean: 1},
		{Method: "GET", Path: "/users/{id}", Mean: 2},
		{Method: "POST", Path: "/users", Mean: 3},
	}}
	normalize := func(p string) string { return strings.NewReplacer(":id", "{id}").Replace(p) }
	for _, tc := range []struct {
		method, template string
		want             time.Duration
		ok               bool
	}{
		{"GET", "/users/{id}", 2, true},
		{"DELETE", "/users/{id}", 1, true},
		{"POST", "/users", 3, true},
		{"GET", "/users", 0, false},
	} {
		t.Run(tc.method+" "+tc.template, func(t *testing.T) {
			e, ok := b.Find(tc.method, tc.template, normalize)
			if ok != tc.ok || e.Mean != tc.want {
				t.Errorf("Find = %+v, %v; want mean %v, %v", e, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestOverall(t *testing.T) {
	b := &Baseline{Endpoints: []Endpoint{
		{Path: "/a", Count: 3, Mean: 10 * time.Millisecond, P99: 50 * time.Millisecond, Max: time.Second},
		{Path: "/b", Count: 1, Mean: 30 * time.Millisecond, P99: 80 * time.Millisecond, Max: 200 * time.Millisecond},
	}}
	o, ok := b.Overall()
	if !ok || o.Mean != 15*time.Millisecond || o.P99 != 80*time.Millisecond || o.Max != time.Second || o.Count != 4 {
		t.Fatalf("aggregate %+v", o)
	}
	b.Endpoints = append(b.Endpoints, Endpoint{Path: "(all)", Mean: 12 * time.Millisecond})
	if o, _ := b.Overall(); o.Mean != 12*time.Millisecond {
		t.Fatalf("an explicit overall row must win: %+v", o)
	}
	if _, ok := (&Baseline{}).Overall(); ok {
		t.Fatal("an empty baseline has no overall figure")
	}
}
