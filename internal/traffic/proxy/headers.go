package proxy

import (
	"bytes"
	"net"
	"net/netip"

	"github.com/valyala/fasthttp"
)

// headerDeleter is the part of fasthttp's request and response headers this file needs.
type headerDeleter interface {
	Peek(key string) []byte
	Del(key string)
	ConnectionClose() bool
	SetConnectionClose()
}

// removeHopByHop deletes the hop-by-hop headers and every header the Connection header
// names. keepUpgrade keeps Connection and Upgrade for protocol upgrades. It keeps the
// "close" intent, which fasthttp holds as a flag rather than a header.
func removeHopByHop(h headerDeleter, keepUpgrade bool) {
	closing := h.ConnectionClose()
	if conn := h.Peek("Connection"); len(conn) > 0 && !keepUpgrade {
		for _, tok := range bytes.Split(conn, []byte(",")) {
			tok = bytes.TrimSpace(tok)
			switch {
			case len(tok) == 0:
			case bytes.EqualFold(tok, []byte("close")):
				closing = true
			case !bytes.EqualFold(tok, []byte("keep-alive")):
				h.Del(string(tok))
			}
		}
		h.Del("Connection")
	}
	// Hop-by-hop headers (RFC 9110 7.6.1) describe one connection, not the message.
	// Transfer-Encoding is re-framed by fasthttp itself.
	hop := [...]string{"Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer", "Upgrade"}
	for _, name := range hop {
		if keepUpgrade && name == "Upgrade" {
			continue
		}
		if len(h.Peek(name)) > 0 {
			h.Del(name)
		}
	}
	if closing {
		h.SetConnectionClose()
	}
}

// setForwarded sets X-Forwarded-For, -Proto and -Host for a request from remote. When
// trust is set, values a client (a load balancer in front) sent are kept and the
// client's address is appended to X-Forwarded-For.
func setForwarded(h *fasthttp.RequestHeader, remote net.Addr, trust bool) {
	var scratch [256]byte
	buf := scratch[:0]
	if trust {
		if prior := h.Peek("X-Forwarded-For"); len(prior) > 0 {
			buf = append(append(buf, prior...), ", "...)
		}
	}
	buf = appendIP(buf, remote)
	h.SetBytesV("X-Forwarded-For", buf)
	if !trust || len(h.Peek("X-Forwarded-Proto")) == 0 {
		h.Set("X-Forwarded-Proto", "http")
	}
	if !trust || len(h.Peek("X-Forwarded-Host")) == 0 {
		h.SetBytesV("X-Forwarded-Host", h.Host())
	}
}

func appendIP(buf []byte, a net.Addr) []byte {
	if tcp, ok := a.(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(tcp.IP); ok {
			return ip.Unmap().AppendTo(buf)
		}
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return append(buf, "unknown"...)
	}
	return append(buf, host...)
}
