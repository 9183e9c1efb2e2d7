package redact

import (
	"math"
	"regexp"
	"strings"
)

// tokenPrefixes start credentials of well-known services.
var tokenPrefixes = []string{
	"sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_", // Stripe
	"xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xapp-", // Slack
	"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", // GitHub
	"glpat-", "glc_", "npm_", "pypi-", "shpat_", "shpss_", "xkeysib-", "dop_v1_", "hf_", "SG.",
}

var (
	awsKeyID = regexp.MustCompile(`^(AKIA|ASIA)[A-Z0-9]{16}$`)
	jwt      = regexp.MustCompile(`^eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$`)
	// tokenChars are the characters of base64, base64url and hex encodings.
	tokenChars = regexp.MustCompile(`^[A-Za-z0-9+/=_-]+$`)
	hexChars   = regexp.MustCompile(`^([0-9a-f]+|[0-9A-F]+)$`)
	// wordPart is a part of a name made of words: lower case, Capitalised or UPPER,
	// perhaps with a number at the end (checkout_v2, IncomingWebhook, REDACTED).
	wordPart = regexp.MustCompile(`^(([A-Z]?[a-z]+)+|[A-Z]+|[0-9]+)[0-9]*$`)
)

// MinTokenLength is the shortest string Token judges by its shape alone.
const MinTokenLength = 20

// Token says s looks like a credential: it starts like the keys of a well-known
// service (sk_live_, xoxb-, ghp_, AKIA…, a JWT), or it is at least MinTokenLength
// characters of a base64 or hex alphabet that are neither words nor a number and
// vary as much as random text does (Shannon entropy of at least 3 bits a
// character for hex, 3.5 for others).
func Token(s string) bool {
	for _, p := range tokenPrefixes {
		if strings.HasPrefix(s, p) && len(s) >= len(p)+8 {
			return true
		}
	}
	if awsKeyID.MatchString(s) || jwt.MatchString(s) {
		return true
	}
	if len(s) < MinTokenLength || !tokenChars.MatchString(s) || words(s) {
		return false
	}
	if hexChars.MatchString(s) {
		return entropy(s) >= 3
	}
	return entropy(s) >= 3.5
}

// words says s is made of words and numbers joined by - _ / + =.
func words(s string) bool {
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune("-_/+=", r) }) {
		if !wordPart.MatchString(part) {
			return false
		}
	}
	return true
}

// entropy is the Shannon entropy of s in bits per byte.
func entropy(s string) float64 {
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / float64(len(s))
			h -= p * math.Log2(p)
		}
	}
	return h
}
