package devcluster

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"strings"
	"testing"
)

func TestPKIChainsAndUsages(t *testing.T) {
	p, err := newPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(p.CACert)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("CA certificate does not parse")
	}
	for _, tc := range []struct {
		name      string
		cert, key string
		usage     x509.ExtKeyUsage
		dnsName   string
		wantOrg   string
	}{
		{"serving", p.ServingCert, p.ServingKey, x509.ExtKeyUsageServerAuth, "127.0.0.1", ""},
		{"serving by service name", p.ServingCert, p.ServingKey, x509.ExtKeyUsageServerAuth, "kubernetes.default.svc", ""},
		{"admin client", p.AdminCert, p.AdminKey, x509.ExtKeyUsageClientAuth, "", "system:masters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pair, err := tls.LoadX509KeyPair(tc.cert, tc.key)
			if err != nil {
				t.Fatal(err)
			}
			leaf, err := x509.ParseCertificate(pair.Certificate[0])
			if err != nil {
				t.Fatal(err)
			}
			_, err = leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: tc.dnsName, KeyUsages: []x509.ExtKeyUsage{tc.usage}})
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if tc.wantOrg != "" && strings.Join(leaf.Subject.Organization, ",") != tc.wantOrg {
				t.Errorf("organization %v, want %s", leaf.Subject.Organization, tc.wantOrg)
			}
		})
	}
	for _, path := range []string{p.SAPublic, p.SAPrivate, p.CAKey} {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", path, info.Mode().Perm())
		}
	}
}
