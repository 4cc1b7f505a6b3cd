// Command mlxk-clone materialises a model from the Hub as a workspace.
package main

import (
	"context"
	"os"

	"github.com/mlxk/mlxk/mlxk-clone/clonecmd"
)

func main() {
	os.Exit(clonecmd.Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
