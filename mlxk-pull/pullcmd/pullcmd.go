// Package pullcmd implements the mlxk-pull binary, the cache writer:
// `pull` downloads models into the hub cache, `rm` removes them and
// `prune` clears download leftovers and unused blobs.
package pullcmd

import (
	"context"
	"io"

	"github.com/mlxk/mlxk/shared/cli"
)

// Program is the mlxk-pull binary.
var Program = cli.Program{
	Name: "mlxk-pull",
	Verbs: []cli.Verb{
		{Name: "pull", Usage: pullUsage, Run: runPull},
		{Name: "rm", Usage: rmUsage, Run: runRm},
		{Name: "prune", Usage: pruneUsage, Run: runPrune},
	},
}

// Main runs mlxk-pull with the process environment.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return Program.Main(ctx, cli.OSEnv(stdin, stdout, stderr), args)
}
