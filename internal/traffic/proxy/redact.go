package proxy

import (
	"strings"
)

// redactHeaders replaces, in a log message, the values of headers that carry secrets
// (credentials, cookies, tokens, the force header named extra) and a dumped request's
// body. fasthttp's messages about a malformed request or response dump its head,
// quoted with %q, so both raw and escaped line ends delimit a header.
func redactHeaders(s, extra string) string {
	s = redactQuotedAfter(s, "invalid header value ")
	if !strings.Contains(s, ":") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	lineStart := true
	for i := 0; i < len(s); {
		if lineStart {
			if n := headerNameLen(s[i:]); n > 0 && isSecretHeader(s[i:i+n], extra) {
				b.WriteString(s[i : i+n+1])
				b.WriteString(" [redacted]")
				i += n + 1
				i += headerValueLen(s[i:])
				lineStart = false
				continue
			}
		}
		switch c := s[i]; {
		case c == '\r' || c == '\n' || c == '"':
			b.WriteByte(c)
			i++
			lineStart = true
		case c == '\\' && i+1 < len(s):
			b.WriteString(s[i : i+2])
			lineStart = s[i+1] == 'r' || s[i+1] == 'n'
			i += 2
		default:
			b.WriteByte(c)
			i++
			lineStart = false
		}
	}
	return omitBody(b.String())
}

// headerNameLen returns the length of the header name (an HTTP token) that starts s
// and is followed by a colon, or 0.
func headerNameLen(s string) int {
	n := 0
	for n < len(s) && isTokenChar(s[n]) {
		n++
	}
	if n == 0 || n >= len(s) || s[n] != ':' {
		return 0
	}
	return n
}

func isTokenChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// headerValueLen returns the length of the header value at the start of s: up to a
// raw or escaped line end or the closing quote of a quoted dump.
func headerValueLen(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\r', '\n', '"':
			return i
		case '\\':
			if i+1 < len(s) && (s[i+1] == 'r' || s[i+1] == 'n') {
				return i
			}
			i++ // an escaped character, such as \" or \x01's backslash
		}
	}
	return len(s)
}

// isSecretHeader says whether a header's value must not be logged: the force header
// (extra) and every header whose name has a word that says it carries a secret.
func isSecretHeader(name, extra string) bool {
	if extra != "" && strings.EqualFold(name, extra) {
		return true
	}
	lower := strings.ToLower(name)
	for _, w := range [...]string{"auth", "cookie", "token", "secret", "session", "password", "passwd",
		"api-key", "apikey", "csrf", "xsrf", "signature", "credential"} {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// redactQuotedAfter replaces the quoted value that follows each occurrence of prefix
// (fasthttp names a header value it refuses, without its header's name).
func redactQuotedAfter(s, prefix string) string {
	i := strings.Index(s, prefix+`"`)
	if i < 0 {
		return s
	}
	start := i + len(prefix) + 1
	end := start + closingQuote(s[start:])
	return s[:start] + "[redacted]" + redactQuotedAfter(s[end:], prefix)
}

// closingQuote returns the index of the first unescaped quote in s, or len(s).
func closingQuote(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return len(s)
}

// omitBody drops what follows the end of a dumped message head (an escaped empty
// line) up to the dump's closing quote: a body may hold passwords.
func omitBody(s string) string {
	const endOfHead = `\r\n\r\n`
	i := strings.Index(s, endOfHead)
	if i < 0 {
		return s
	}
	start := i + len(endOfHead)
	end := start + closingQuote(s[start:])
	if end == start {
		return s
	}
	return s[:start] + "[body omitted]" + s[end:]
}
