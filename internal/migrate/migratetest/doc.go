// Package migratetest holds what migration tests share: TestStore and
// TestStoreReplacesUnreadable, the conformance suite every migrate.Store passes, and
// real traffic for tests and benchmarks — loopback backends whose error rate and
// latency can be changed while they serve, the embedded proxy between them, and a
// constant-rate load generator. Loopback only.
package migratetest
