package routes

// Placeholder replaces every ID segment in a template.
const Placeholder = "{id}"

// HashPlaceholder replaces a content hash in a file name: every build of
// /assets/app-3f2a9c1e.js is one endpoint, /assets/app-{hash}.js.
const HashPlaceholder = "{hash}"

// Other names every request past a table's cap of distinct templates.
const Other = "other"

// Template returns the template of a request path or URI: the query and fragment are
// dropped, and every segment that looks like an ID (a number, a UUID, a date, a long
// hex hash or token, a fingerprinted file name, a Rails-style "42-some-slug", or an
// existing placeholder such as ":id", "{user_id}" or "<id>") becomes {id}. A segment
// with an extension keeps it: /users/42.json becomes /users/{id}.json.
func Template(path string) string {
	var buf [128]byte
	out := Append(buf[:0], path)
	if len(out) == len(path) && string(out) == path {
		return path
	}
	return string(out)
}

// Endpoint names a request as "METHOD /template", the name both the proxy's
// statistics and the load test's report use.
func Endpoint(method, path string) string {
	return method + " " + Template(path)
}

// AppendEndpoint appends the endpoint of a request (see Endpoint) to dst. It
// allocates only when dst has too little room.
func AppendEndpoint[S ~string | ~[]byte](dst []byte, method, path S) []byte {
	dst = append(dst, method...)
	dst = append(dst, ' ')
	return Append(dst, path)
}

// Append appends the template of path (see Template) to dst. It allocates only when
// dst has too little room, so a caller with a buffer on its stack templates without
// touching the heap.
func Append[S ~string | ~[]byte](dst []byte, path S) []byte {
	for i := 0; i < len(path); i++ {
		if path[i] == '?' || path[i] == '#' {
			path = path[:i]
			break
		}
	}
	if len(path) == 0 || path[0] != '/' {
		dst = append(dst, '/')
	}
	for len(path) > 0 {
		end := 0
		for end < len(path) && path[end] != '/' {
			end++
		}
		dst = appendSegment(dst, path[:end])
		if end == len(path) {
			break
		}
		dst = append(dst, '/')
		path = path[end+1:]
	}
	return dst
}

func appendSegment[S ~string | ~[]byte](dst []byte, s S) []byte {
	if len(s) == 0 {
		return dst
	}
	base, ext := s, s[len(s):]
	for i := len(s) - 1; i > 0; i-- {
		if s[i] == '.' {
			if isExtension(s[i+1:]) {
				base, ext = s[:i], s[i:]
			}
			break
		}
	}
	switch {
	case len(ext) > 0 && isFingerprinted(base):
		return append(dst, s...)
	case isPlaceholder(base) || allDigits(base) || isUUID(base):
		dst = append(dst, Placeholder...)
		return append(dst, ext...)
	case len(ext) > 0 && hasFingerprint(base):
		dst = appendFingerprinted(dst, base)
		return append(dst, ext...)
	case isID(base):
		dst = append(dst, Placeholder...)
		return append(dst, ext...)
	}
	return append(dst, s...)
}

func isPlaceholder[S ~string | ~[]byte](s S) bool {
	switch {
	case len(s) == 0:
		return false
	case s[0] == ':' && len(s) > 1:
		return true
	case len(s) > 2 && (s[0] == '{' && s[len(s)-1] == '}' || s[0] == '<' && s[len(s)-1] == '>'):
		// One placeholder, not several side by side ("{hash}.{hash}").
		for i := 1; i < len(s)-1; i++ {
			if c := s[i]; c == '{' || c == '}' || c == '<' || c == '>' {
				return false
			}
		}
		return true
	}
	return false
}

// isExtension matches a file extension: a letter, then letters or digits (woff2, mp4),
// five at most.
func isExtension[S ~string | ~[]byte](s S) bool {
	if len(s) == 0 || len(s) > 5 || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLetter(c) && !isDigit(c) {
			return false
		}
	}
	return true
}

// isID reports whether a path segment names one record rather than a collection.
func isID[S ~string | ~[]byte](s S) bool {
	switch {
	case len(s) == 0:
		return false
	case allDigits(s):
		return true
	case isUUID(s):
		return true
	case len(s) >= 16 && allHex(s) && countDigits(s) > 0:
		return true
	case isSlugWithID(s):
		return true
	case len(s) >= 20 && isToken(s) && countDigits(s) >= 2:
		// Long tokens and fingerprinted names such as app-3f2b1c9e0a1b2c3d (.css kept).
		return true
	}
	return false
}

// isSlugWithID matches friendly IDs such as "42-blue-shoes" and dates such as
// "2024-05-01".
func isSlugWithID[S ~string | ~[]byte](s S) bool {
	i := 0
	for i < len(s) && s[i] != '-' {
		i++
	}
	return i > 0 && i < len(s)-1 && allDigits(s[:i])
}

func isUUID[S ~string | ~[]byte](s S) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return true
}

func isToken[S ~string | ~[]byte](s S) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func allDigits[S ~string | ~[]byte](s S) bool {
	return len(s) > 0 && countDigits(s) == len(s)
}

func countDigits[S ~string | ~[]byte](s S) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	return n
}

func allHex[S ~string | ~[]byte](s S) bool {
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
