// Package pushcmd implements the mlxk-push binary.
package pushcmd

import (
	"context"
	"io"

	"github.com/mlxk/mlxk/shared/cli"
)

// Program is the mlxk-push binary.
var Program = cli.Program{
	Name:  "mlxk-push",
	Verbs: []cli.Verb{cli.NotImplemented("push", "push <dir> <org/model> --private [--json]")},
}

// Main runs mlxk-push with the process environment.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return Program.Main(ctx, cli.OSEnv(stdin, stdout, stderr), args)
}
