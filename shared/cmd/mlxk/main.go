// Command mlxk is the front door of the mlxk tools: `mlxk <verb> …` runs the
// binary that owns the verb (mlxk-list, mlxk-health, mlxk-pull, …).
package main

import (
	"context"
	"os"
	"os/exec"
	"syscall"

	"github.com/mlxk/mlxk/shared/cli"
	"github.com/mlxk/mlxk/shared/dispatch"
)

func main() {
	self, _ := os.Executable()
	d := dispatch.Dispatcher{
		Env:      cli.OSEnv(os.Stdin, os.Stdout, os.Stderr),
		Self:     self,
		LookPath: exec.LookPath,
		Exec:     syscall.Exec,
		Environ:  os.Environ(),
	}
	os.Exit(d.Main(context.Background(), os.Args[1:]))
}
