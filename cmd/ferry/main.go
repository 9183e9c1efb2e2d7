package main

import (
	"os"

	"ferry.dev/ferry/internal/cli"
)

func main() {
	os.Exit(cli.Execute(os.Args[1:], os.Stdout, os.Stderr))
}
