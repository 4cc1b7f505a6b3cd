// Package servecmd implements the mlxk-serve binary.
package servecmd

import (
	"context"
	"io"

	"github.com/mlxk/mlxk/shared/cli"
)

// Program is the mlxk-serve binary.
var Program = cli.Program{
	Name:  "mlxk-serve",
	Verbs: []cli.Verb{cli.NotImplemented("serve", "serve [--host H] [--port P] [--json]", "server")},
}

// Main runs mlxk-serve with the process environment.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return Program.Main(ctx, cli.OSEnv(stdin, stdout, stderr), args)
}
