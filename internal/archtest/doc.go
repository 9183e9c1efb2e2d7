// Package archtest holds the test that keeps docs/architecture.md true: the import
// graph it documents is compared with the code's. It has no code of its own and
// nothing may import it.
package archtest
