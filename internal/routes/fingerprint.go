package routes

// Build tools name assets after a hash of their content, so that each release of
// app.js has a new name: Sprockets application-<64 hex>.css, webpack
// [name].[contenthash].js and vendor.3f2a9c1e.chunk.js, Vite index-BPvgi06w.js.
// The hash becomes {hash} and the name stays, so app.js and vendor.js stay apart.
//
// A hash is told from a word by its shape, not a list: a hex run of 6 or more with a
// digit and a letter (8c1d2e), or 8 or more digits (a build time); a word made of the
// letters a–f (deadbeef, facade) has no digit, and versions, sizes and dates
// (jquery-3.6.0, icon-192x192, 2024-05-01) have short number parts.

// isSeparator splits a file name into its parts.
func isSeparator(c byte) bool { return c == '.' || c == '-' || c == '_' }

// hasFingerprint reports whether a file name without its extension has a content
// hash in it.
func hasFingerprint[S ~string | ~[]byte](base S) bool {
	if hasViteHash(base) {
		return true
	}
	start := 0
	for i := 0; i <= len(base); i++ {
		if i == len(base) || isSeparator(base[i]) {
			if isHexHash(base[start:i]) {
				return true
			}
			start = i + 1
		}
	}
	return false
}

// isFingerprinted reports whether a file name's hash is already {hash}, so that a
// template is its own template.
func isFingerprinted[S ~string | ~[]byte](base S) bool {
	for i := 0; i+len(HashPlaceholder) <= len(base); i++ {
		if base[i] == '{' && string(base[i:i+len(HashPlaceholder)]) == HashPlaceholder {
			return true
		}
	}
	return false
}

// appendFingerprinted appends base with each of its hashes replaced by {hash}.
func appendFingerprinted[S ~string | ~[]byte](dst []byte, base S) []byte {
	if hasViteHash(base) {
		dst = append(dst, base[:len(base)-viteHashLen]...)
		return append(dst, HashPlaceholder...)
	}
	start := 0
	for i := 0; i <= len(base); i++ {
		if i == len(base) || isSeparator(base[i]) {
			if part := base[start:i]; isHexHash(part) {
				dst = append(dst, HashPlaceholder...)
			} else {
				dst = append(dst, part...)
			}
			if i < len(base) {
				dst = append(dst, base[i])
			}
			start = i + 1
		}
	}
	return dst
}

// isHexHash matches one part of a file name that is a hex hash or a build number.
func isHexHash[S ~string | ~[]byte](s S) bool {
	if len(s) < 6 || !allHex(s) {
		return false
	}
	digits := countDigits(s)
	return digits > 0 && (digits < len(s) || len(s) >= 8)
}

// viteHashLen is the length of Vite's base64url hash, which follows a name and a dash.
const viteHashLen = 8

// hasViteHash matches name-BPvgi06w: 8 base64url characters after a name and a
// separator, mixing cases, with a digit or three capitals, so that app-HomePage,
// blog-post-Two and app-settings stay names. A Vite hash without either (about one
// in six) is missed and stays its own endpoint.
func hasViteHash[S ~string | ~[]byte](base S) bool {
	n := len(base)
	if n < viteHashLen+2 || !isSeparator(base[n-viteHashLen-1]) {
		return false
	}
	var upper, lower, digits int
	for i := n - viteHashLen; i < n; i++ {
		switch c := base[i]; {
		case c >= 'A' && c <= 'Z':
			upper++
		case c >= 'a' && c <= 'z':
			lower++
		case isDigit(c):
			digits++
		case c == '-' || c == '_':
		default:
			return false
		}
	}
	return upper > 0 && lower > 0 && (digits > 0 || upper >= 3)
}
