// Command mlxk-pull downloads models into the cache and removes them (verbs
package main

import (
	"context"
	"os"

	"github.com/mlxk/mlxk/mlxk-pull/pullcmd"
)

func main() {
	os.Exit(pullcmd.Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
