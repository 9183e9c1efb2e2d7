package loadtest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"time"
)

// preflightTimeout bounds the reachability check of each side.
const preflightTimeout = 3 * time.Second

// checkReachable opens and closes one TCP connection to a side, so that a wrong
// address fails before any load is sent.
func checkReachable(ctx context.Context, side, base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return fmt.Errorf("%w: %s URL: %w", ErrConfig, side, err)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	ctx, cancel := context.WithTimeout(ctx, preflightTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return fmt.Errorf("%w: %s side %s: %w", ErrUnreachable, side, base, err)
	}
	return conn.Close()
}
