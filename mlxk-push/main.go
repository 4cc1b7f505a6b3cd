// Command mlxk-push uploads a workspace to the Hub.
package main

import (
	"context"
	"os"

	"github.com/mlxk/mlxk/mlxk-push/pushcmd"
)

func main() {
	os.Exit(pushcmd.Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
