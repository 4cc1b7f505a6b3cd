// Command mlxk-serve serves cached models over an OpenAI-compatible HTTP API.
package main

import (
	"context"
	"os"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd"
)

func main() {
	os.Exit(servecmd.Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
