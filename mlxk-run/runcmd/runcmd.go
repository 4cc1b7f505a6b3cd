// Package runcmd implements the mlxk-run binary.
package runcmd

import (
	"context"
	"io"

	"github.com/mlxk/mlxk/shared/cli"
)

// Program is the mlxk-run binary.
var Program = cli.Program{
	Name:  "mlxk-run",
	Verbs: []cli.Verb{cli.NotImplemented("run", "run <model> [prompt…] [--json]")},
}

// Main runs mlxk-run with the process environment.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return Program.Main(ctx, cli.OSEnv(stdin, stdout, stderr), args)
}
