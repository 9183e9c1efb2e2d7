// Package routes turns request paths into route templates by collapsing IDs, UUIDs,
// dates, hashes and fingerprinted file names, so that /users/42 and /users/7 are one
// endpoint, GET /users/{id}, for the proxy's statistics and the load test's report
// alike. It must not import other ferry packages.
package routes
