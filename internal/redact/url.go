package redact

import (
	"errors"
	"net/url"
	"strings"
)

// Redacted replaces what is taken out.
const Redacted = "REDACTED"

// tokenPathHosts are hosts whose webhook URLs carry the token in the path, and how many
// leading path segments are safe to show.
var tokenPathHosts = map[string]int{
	"hooks.slack.com":  1, // /services/T…/B…/secret, /workflows/…, /triggers/…
	"api.telegram.org": 0, // /bot<id>:<token>/sendMessage
}

// hookSegments end the part of a path that is safe to show: what follows is a
// webhook's identity, and usually its token (Discord /api/webhooks/id/token, Teams
// /webhookb2/…, Mattermost and Rocket.Chat /hooks/…).
var hookSegments = map[string]bool{"hooks": true, "hook": true, "webhook": true, "webhooks": true, "webhookb2": true}

// URL returns raw with its secrets replaced by REDACTED: the password of its userinfo
// (and a user name that looks like a token), every query value, the fragment, and the
// path from the first segment that looks like a token on (after hooks/ or webhooks/,
// and on hosts known to keep tokens in the path, such as hooks.slack.com). A string
// that does not parse as a URL comes back as REDACTED.
func URL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Redacted
	}
	if u.Opaque != "" {
		u.Opaque = Redacted
	}
	if u.User != nil {
		name := u.User.Username()
		if Token(name) {
			name = Redacted
		}
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(name, Redacted)
		} else {
			u.User = url.User(name)
		}
	}
	u.Path, u.RawPath = path(strings.ToLower(u.Hostname()), u.Path), ""
	u.RawQuery = query(u.RawQuery)
	if u.Fragment != "" {
		u.Fragment, u.RawFragment = Redacted, ""
	}
	return u.String()
}

// path cuts p after the segments that are safe to show.
func path(host, p string) string {
	segments := strings.Split(strings.TrimPrefix(p, "/"), "/")
	keep := len(segments)
	if n, ok := tokenPathHosts[host]; ok {
		keep = min(n, keep)
	}
	for i, s := range segments[:keep] {
		if hookSegments[strings.ToLower(s)] {
			keep = i + 1
			break
		}
		if tokenSegment(s) {
			keep = i
			break
		}
	}
	if keep == len(segments) {
		return p
	}
	return "/" + strings.Join(append(segments[:keep:keep], Redacted), "/")
}

// tokenSegment says a path segment is, or carries, a token: Telegram's bot123:AA….
func tokenSegment(s string) bool {
	for _, part := range strings.Split(s, ":") {
		if Token(strings.TrimPrefix(part, "bot")) || Token(part) {
			return true
		}
	}
	return false
}

// query keeps the names of a query and replaces its values.
func query(raw string) string {
	if raw == "" {
		return ""
	}
	pairs := strings.Split(raw, "&")
	for i, pair := range pairs {
		name, _, hasValue := strings.Cut(pair, "=")
		switch {
		case hasValue:
			pairs[i] = name + "=" + Redacted
		case Token(name):
			pairs[i] = Redacted
		}
	}
	return strings.Join(pairs, "&")
}

// Error redacts the URL of the *url.Error in err's chain, as net/http returns them
// (`Post "https://…": dial tcp …`), and returns err. It changes that *url.Error in
// place, so call it on an error as it comes back from an HTTP client, before it is
// wrapped in a message that has already printed the URL.
func Error(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = URL(ue.URL)
	}
	return err
}
