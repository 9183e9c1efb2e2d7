// Command ferry moves a legacy web application onto Kubernetes and ships it there.
package main

import (
	"os"

	"ferry.dev/ferry/internal/cli"
)

func main() {
	os.Exit(cli.Execute(os.Args[1:], os.Stdout, os.Stderr))
}
