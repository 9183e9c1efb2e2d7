// Package pathtemplate turns request paths into endpoint templates by collapsing IDs,
// so that /users/42 and /users/7 are measured as one endpoint /users/{id}.
// It must not import other ferry packages.
package pathtemplate
