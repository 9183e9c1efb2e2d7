// Package redact takes secrets out of what ferry prints: the token in a webhook URL's
// path, a password in its userinfo, the values of its query. Anything that puts a
// configured URL into an error or a log line passes it through here first. It imports
// no ferry package.
package redact
