package legacy

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"ferry.dev/ferry/internal/redact"
)

// secretWords are words of a name (split at _ . - and between camelCase words) that
// make a variable secret wherever they stand.
var secretWords = wordSet(
	"PASS", "PASSWD", "PASSWORD", "PASSWORDS", "PWD", "PASSPHRASE",
	"SECRET", "SECRETS", "TOKEN", "TOKENS", "KEY", "KEYS", "APIKEY", "PRIVKEY",
	"CREDENTIAL", "CREDENTIALS", "CREDS", "PRIVATE", "SALT", "PEPPER", "DSN", "SK",
	"SIGNATURE", "SIG", "HMAC", "BEARER",
)

// looseWords make a variable secret too, unless a setting word ends the name:
// SESSION_COOKIE and JWT_SIGNING are secrets, SESSION_LIFETIME and JWT_TTL settings.
var (
	looseWords = wordSet(
		"AUTH", "SESSION", "COOKIE", "SIGNING", "WEBHOOK", "WEBHOOKS", "HOOK",
		"CERT", "CERTS", "CERTIFICATE", "JWT",
	)
	settingWords = wordSet(
		"DRIVER", "LIFETIME", "TIMEOUT", "TTL", "EXPIRE", "EXPIRES", "EXPIRY", "EXPIRATION", "AGE",
		"ENABLED", "DISABLED", "ENABLE", "DISABLE", "MODE", "TYPE", "NAME", "DOMAIN", "PATH", "FILE",
		"DIR", "STORE", "SAMESITE", "SECURE", "ALGORITHM", "ALG", "ISSUER", "AUDIENCE", "PROVIDER",
		"STRATEGY", "LEVEL", "LENGTH", "SIZE", "PREFIX", "HEADER", "CONNECTION", "TABLE",
	)
)

// secretSuffixes end run-together words that name a secret (APIKEY, PGPASSWORD).
var secretSuffixes = []string{"KEY", "SECRET", "TOKEN", "PASSWORD", "PASSWD", "PASSPHRASE", "CREDENTIALS"}

var (
	nameSeparators = regexp.MustCompile(`[_.\-]+`)
	camelBoundary  = regexp.MustCompile(`([a-z0-9])([A-Z])`)
	// dsnPassword is a user:password@host value outside URL syntax (Go's MySQL DSN).
	dsnPassword = regexp.MustCompile(`^[^\s:/@]+:[^\s@]+@`)
	pemBlock    = regexp.MustCompile(`-----BEGIN [A-Z0-9 ]+-----`)
	authHeader  = regexp.MustCompile(`^(?i)(bearer|basic|token)\s+\S+$`)
)

func wordSet(words ...string) map[string]bool {
	set := make(map[string]bool, len(words))
	for _, w := range words {
		set[w] = true
	}
	return set
}

// Classify decides whether one variable (without its references) is secret: by the
// words of its name, or by the shape of its value (a URL with a password, a token in
// its path or query; a PEM block; a key of a well-known service or a long random
// string). In doubt it says secret. The reason never quotes the value.
func Classify(name, value string) (bool, string) {
	if secret, why := classifyName(name); secret {
		return true, why
	}
	if secret, why := classifyValue(value); secret {
		return true, why
	}
	return false, "no secret word in the name, nothing secret-looking in the value"
}

// nameWords splits a variable name into upper-case words.
func nameWords(name string) []string {
	name = camelBoundary.ReplaceAllString(name, "${1}_${2}")
	var words []string
	for _, w := range nameSeparators.Split(strings.ToUpper(name), -1) {
		if w != "" {
			words = append(words, w)
		}
	}
	return words
}

func classifyName(name string) (bool, string) {
	words := nameWords(name)
	loose := ""
	for _, w := range words {
		if secretWords[w] {
			return true, fmt.Sprintf("the name has the word %s", w)
		}
		for _, suffix := range secretSuffixes {
			if strings.HasSuffix(w, suffix) {
				return true, fmt.Sprintf("the name has a word ending in %s", suffix)
			}
		}
		if looseWords[w] && loose == "" {
			loose = w
		}
	}
	if loose != "" && !settingWords[words[len(words)-1]] {
		return true, fmt.Sprintf("the name has the word %s", loose)
	}
	return false, ""
}

func classifyValue(value string) (bool, string) {
	v := strings.TrimSpace(value)
	switch {
	case v == "":
		return false, ""
	case pemBlock.MatchString(v):
		return true, "the value is a PEM block (a key or a certificate)"
	case authHeader.MatchString(v):
		return true, "the value is an Authorization header's credentials"
	case redact.Token(v):
		return true, "the value looks like a token (a known key prefix or a long random string)"
	}
	if u, err := url.Parse(v); err == nil && u.Scheme != "" && u.Host != "" {
		return classifyURL(u)
	}
	if dsnPassword.MatchString(v) {
		return true, "the value has user:password@"
	}
	return false, ""
}

func classifyURL(u *url.URL) (bool, string) {
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			return true, "the value is a URL with a password"
		}
		if redact.Token(u.User.Username()) {
			return true, "the value is a URL with a token as its user"
		}
	}
	for _, pair := range strings.Split(u.RawQuery, "&") {
		raw, _, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(raw)
		if err != nil {
			key = raw
		}
		if secret, _ := classifyName(key); secret {
			return true, fmt.Sprintf("the value is a URL with a secret in its query (%s=)", key)
		}
	}
	bare := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	if redact.URL(bare.String()) != bare.String() {
		return true, "the value is a URL with a token in its path"
	}
	return false, ""
}
