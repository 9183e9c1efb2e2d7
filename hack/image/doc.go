// Command image builds ferry's OCI image without a container engine: the static
// binary, CA certificates and a non-root user on an empty base, with fixed timestamps
// so that one commit always gives one digest. `make image` runs it; it is not part of
// the ferry binary and no ferry package imports it.
package main
