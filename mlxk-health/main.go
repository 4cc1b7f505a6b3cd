// Command mlxk-health checks that cached models are complete and runnable,
// and with --verify that their bytes match the blob hashes.
package main

import (
	"context"
	"os"

	"github.com/mlxk/mlxk/mlxk-health/healthcmd"
)

func main() {
	os.Exit(healthcmd.Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
