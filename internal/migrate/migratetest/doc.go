// Package migratetest holds what migration tests share: TestStore and
// TestStoreReplacesUnreadable, the conformance suite every migrate.Store passes, and
// real traffic for tests and benchmarks — loopback backends whose error rate and
// latency can be changed while they serve, a shop of 50 endpoints replayed from an
// embedded access log (one endpoint can be broken), the embedded proxy between them,
// and load generators. Loopback only.
package migratetest
