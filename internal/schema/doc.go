// Package schema generates the JSON Schemas of ferry's own files (ferry.yaml, the
// migration plan, the proxy's configuration) from their Go types, for editors. It is
// a leaf: nothing of ferry imports it, and it imports only the packages whose types
// it describes.
package schema
