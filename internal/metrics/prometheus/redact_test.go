package prometheus_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"ferry.dev/ferry/internal/metrics/prometheus"
)

// A hosted Prometheus takes its credentials in the address
// (https://USER:API_KEY@prometheus.example.net/api/prom); no error shows them.
func TestErrorsDoNotShowTheAddressCredentials(t *testing.T) {
	const secret = "glc_q8ZrT2vLx9NpB4sKwE7mYc"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there
	src, err := prometheus.New(prometheus.Config{Address: "http://123456:" + secret + "@" + addr + "/api/prom"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.Sample(context.Background(), time.Now().Add(-time.Minute))
	if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), addr) {
		t.Fatalf("Sample: %v, want a refused connection to %s without the credentials", err, addr)
	}
	_, err = prometheus.New(prometheus.Config{Address: "http://123456:" + secret + "@bad host/"})
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Fatalf("New: %v, want an error without the credentials", err)
	}
}
