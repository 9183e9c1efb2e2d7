// Package strictyaml decodes ferry's own configuration files strictly: unknown fields
// are errors, and every error is one line that names the line of the mistake. It
// imports no ferry package.
package strictyaml
