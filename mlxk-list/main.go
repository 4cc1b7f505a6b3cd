// Command mlxk-list lists the models in the Hugging Face cache and shows one
// of them in detail (verbs: list, show).
package main

import (
	"context"
	"os"

	"github.com/mlxk/mlxk/mlxk-list/listcmd"
	"github.com/mlxk/mlxk/shared/cli"
)

func main() {
	cli.TuneGCForShortRun()
	os.Exit(listcmd.Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
