package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// readCAFile reads a pool's caFile: the certificate authorities its https servers'
// certificates must chain to. Without a file (nil) the system's are trusted.
func readCAFile(path, file string) (*x509.CertPool, error) {
	if file == "" {
		return nil, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidConfig, path, err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%w: %s: %s holds no PEM certificate", ErrInvalidConfig, path, file)
	}
	return roots, nil
}

// backendTLS is the TLS configuration towards a pool's https servers.
func backendTLS(roots *x509.CertPool) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}
}
