// Command mlxk-run runs a cached model with the native engine.
package main

import (
	"context"
	"os"

	"github.com/mlxk/mlxk/mlxk-run/runcmd"
)

func main() {
	os.Exit(runcmd.Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
