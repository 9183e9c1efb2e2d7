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
			case !bytes.EqualFold(tok, []byte("keep-alive")) && !isFraming(tok):
				h.Del(string(tok))
			}
		}
		h.Del("Connection")
	}
	// Hop-by-hop headers (RFC 9110 7.6.1) describe one connection, not the message.
	// Transfer-Encoding is re-framed by fasthttp itself. Trailer is not one of them (RFC
	// 7230's errata 4522): it announces the fields after a chunked body, which fasthttp
	// relays only if it was announced.
	hop := [...]string{"Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Upgrade"}
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

// isFraming says whether a header describes how the message is delimited or where
// it goes (Content-Length, Transfer-Encoding, Host): a Connection header naming one
// must not remove it, or the body would be lost or the request misrouted.
func isFraming(name []byte) bool {
	return bytes.EqualFold(name, []byte("Content-Length")) || bytes.EqualFold(name, []byte("Transfer-Encoding")) ||
		bytes.EqualFold(name, []byte("Host"))
}

// hasBothFramings says whether a request came with Transfer-Encoding: chunked and a
// Content-Length too (fasthttp keeps the former and forgets the latter).
func hasBothFramings(h *fasthttp.RequestHeader) bool {
	if h.ContentLength() != -1 {
		return false
	}
	for raw := h.RawHeaders(); len(raw) > 0; {
		var line []byte
		line, raw, _ = bytes.Cut(raw, []byte("\n"))
		name, _, ok := bytes.Cut(line, []byte(":"))
		if ok && bytes.EqualFold(bytes.TrimSpace(name), []byte("Content-Length")) {
			return true
		}
	}
	return false
}

// setForwarded sets X-Forwarded-For, -Proto and -Host for a request from remote,
// replacing every copy a client sent: a backend that reads the last copy must not see
// a client's. When trust is set, the values a load balancer in front sent are kept:
// all its X-Forwarded-For copies joined in order with the client's address appended,
// the first -Proto and -Host.
func setForwarded(h *fasthttp.RequestHeader, remote net.Addr, trust bool) {
	// Read everything before deleting anything: fasthttp's Del reorders headers.
	var forBuf [256]byte
	var protoBuf, hostBuf [128]byte
	xff, proto, host := forBuf[:0], protoBuf[:0], hostBuf[:0]
	if trust {
		for _, prior := range h.PeekAll("X-Forwarded-For") {
			xff = append(append(xff, prior...), ", "...)
		}
		proto = append(proto, h.Peek("X-Forwarded-Proto")...)
		host = append(host, h.Peek("X-Forwarded-Host")...)
	}
	xff = appendIP(xff, remote)
	if len(proto) == 0 {
		proto = append(proto, "http"...)
	}
	if len(host) == 0 {
		host = append(host, h.Host()...)
	}
	replaceHeader(h, "X-Forwarded-For", xff)
	replaceHeader(h, "X-Forwarded-Proto", proto)
	replaceHeader(h, "X-Forwarded-Host", host)
}

// replaceHeader deletes every copy of key and sets it to v, which must not point into
// h.
func replaceHeader(h *fasthttp.RequestHeader, key string, v []byte) {
	h.Del(key)
	h.SetBytesV(key, v)
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
