package pathtemplate

import "strings"

// Placeholder replaces every ID segment in a template.
const Placeholder = "{id}"

// Of returns the template of a request path or URI: the query and fragment are
// dropped, and every segment that looks like an ID (a number, a UUID, a long hex
// hash or token, a Rails-style "42-some-slug", or an existing placeholder such as
// ":id", "{user_id}" or "<id>") becomes {id}. A number with an extension keeps it:
// /users/42.json becomes /users/{id}.json.
func Of(path string) string {
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	if path == "" || path == "/" {
		return "/"
	}
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = segment(s)
	}
	out := strings.Join(segs, "/")
	if !strings.HasPrefix(out, "/") {
		out = "/" + out
	}
	return out
}

func segment(s string) string {
	if s == "" {
		return s
	}
	base, ext := s, ""
	if i := strings.LastIndexByte(s, '.'); i > 0 && isExtension(s[i+1:]) {
		base, ext = s[:i], s[i:]
	}
	if isPlaceholder(base) || isID(base) {
		return Placeholder + ext
	}
	return s
}

func isPlaceholder(s string) bool {
	switch {
	case s[0] == ':' && len(s) > 1:
		return true
	case len(s) > 2 && (s[0] == '{' && s[len(s)-1] == '}' || s[0] == '<' && s[len(s)-1] == '>'):
		return true
	}
	return false
}

func isExtension(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// isID reports whether a path segment names one record rather than a collection.
func isID(s string) bool {
	switch {
	case s == "":
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
		return true
	}
	return false
}

// isSlugWithID matches friendly IDs such as "42-blue-shoes".
func isSlugWithID(s string) bool {
	i := strings.IndexByte(s, '-')
	return i > 0 && allDigits(s[:i]) && i < len(s)-1
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !isHex(r) {
				return false
			}
		}
	}
	return true
}

func isToken(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	return s != "" && countDigits(s) == len(s)
}

func countDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	return n
}

func allHex(s string) bool {
	for _, r := range s {
		if !isHex(r) {
			return false
		}
	}
	return true
}

func isHex(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F'
}
