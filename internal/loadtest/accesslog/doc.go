// Package accesslog reads web server access logs (nginx/Apache combined and common
// formats, AWS ALB logs) into the requests they record, for replaying them.
// It must not import other ferry packages.
package accesslog
