package route53_test

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"ferry.dev/ferry/internal/traffic/route53"
)

// A Route 53–compatible endpoint may carry credentials in its URL (a gateway's user
// and password, a token in its path or query); no error shows them.
func TestErrorsDoNotShowTheEndpointCredentials(t *testing.T) {
	const secret = "q8ZrT2vLx9NpB4sKwE7mYc"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there
	client, err := route53.NewClient(context.Background(), route53.ClientConfig{
		Endpoint:    "http://ferry:" + secret + "@" + addr + "/gw/" + secret + "?token=" + secret,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCAL", "local-secret", ""),
		MaxAttempts: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := route53.New(route53.Config{Client: client, HostedZoneID: "Z1", Name: "www.example.com", Legacy: "legacy", Kubernetes: "kubernetes"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Weights(context.Background())
	if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), addr) {
		t.Fatalf("Weights: %v, want a refused connection to %s without the credentials", err, addr)
	}
}
