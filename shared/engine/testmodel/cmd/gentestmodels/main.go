// Command gentestmodels writes the test-model catalog: for each model,
// OUT/<name>/ with config.json and its safetensors files, as mlx-lm lays
// them out.
//
//	go run ./shared/engine/testmodel/cmd/gentestmodels -out DIR [-only NAME[,NAME...]]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mlxk/mlxk/shared/engine/testmodel"
)

func main() {
	out := flag.String("out", "", "output folder (one subfolder per model)")
	only := flag.String("only", "", "comma-separated model names to write (default: all)")
	list := flag.Bool("list", false, "print the catalog names and exit")
	flag.Parse()
	if *list {
		for _, s := range testmodel.Catalog() {
			fmt.Println(s.Name)
		}
		return
	}
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: gentestmodels -out DIR [-only NAME[,NAME...]] | -list")
		os.Exit(2)
	}
	var want []string
	if *only != "" {
		want = strings.Split(*only, ",")
		for _, n := range want {
			if _, ok := testmodel.Lookup(n); !ok {
				fmt.Fprintf(os.Stderr, "gentestmodels: unknown model %q (known: %s)\n", n, testmodel.Names())
				os.Exit(2)
			}
		}
	}
	for _, s := range testmodel.Catalog() {
		if want != nil && !slices.Contains(want, s.Name) {
			continue
		}
		dir := filepath.Join(*out, s.Name)
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintln(os.Stderr, "gentestmodels:", err)
			os.Exit(1)
		}
		if err := testmodel.Write(dir, s); err != nil {
			fmt.Fprintln(os.Stderr, "gentestmodels:", err)
			os.Exit(1)
		}
		fmt.Println(dir)
	}
}
