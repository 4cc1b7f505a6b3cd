// Command mlxk-health checks that cached models are complete and runnable,
// and with --verify that their bytes match the blob hashes.
package main

import (
	"context"
	"os"

	"github.com/mlxk/mlxk/mlxk-health/healthcmd"
	"github.com/mlxk/mlxk/shared/cli"
)

func main() {
	cli.TuneGCForShortRun()
	os.Exit(healthcmd.Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
