// Package route53test is a local server that speaks the documented Route 53 REST XML
// API (version 2013-04-01) for the calls ferry's router makes: ChangeResourceRecordSets,
// ListResourceRecordSets, GetChange and GetHealthCheckStatus, with changes that reach
// INSYNC after a delay, health checks whose checkers the test sets, and injectable
// throttling. AWS is not reachable from tests; the real SDK talks to this.
package route53test
