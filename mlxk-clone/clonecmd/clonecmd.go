// Package clonecmd implements the mlxk-clone binary.
package clonecmd

import (
	"context"
	"io"

	"github.com/mlxk/mlxk/shared/cli"
)

// Program is the mlxk-clone binary.
var Program = cli.Program{
	Name:  "mlxk-clone",
	Verbs: []cli.Verb{cli.NotImplemented("clone", "clone <model>[@rev] [target_dir] [--json]")},
}

// Main runs mlxk-clone with the process environment.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return Program.Main(ctx, cli.OSEnv(stdin, stdout, stderr), args)
}
