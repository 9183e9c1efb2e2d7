// Package analysis judges whether the new side of a migration is worse than the legacy
// side over the same window: sequential error-rate and latency tests that know their
// sample size and say how much more data they need. Pure: it imports no ferry package.
package analysis
