package cli

import (
	"strings"
	"testing"
)

func TestDashboardListensOnLoopbackOnly(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:0", true},
		{"localhost:0", true},
		{"0.0.0.0:0", false},
		{":0", false},
		{"192.168.1.10:8090", false},
		{"[::]:0", false},
		{"8090", false},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			ln, err := listenLoopback(tc.addr)
			if tc.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				defer ln.Close()
				if !strings.HasPrefix(ln.Addr().String(), "127.0.0.1:") {
					t.Errorf("listens on %s", ln.Addr())
				}
				return
			}
			if err == nil {
				ln.Close()
				t.Fatalf("listened on %s", ln.Addr())
			}
		})
	}
}
