// Command mkcache lays a local folder out as a model in a hub cache, the way
// huggingface_hub writes a download (blobs, relative snapshot symlinks,
// refs). The demo and the benchmarks use it to build caches without a
// network.
//
//	mkcache [-hub DIR] [-commit SHA] [-ref main] org/name folder
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/mlxk/mlxk/shared/cachewrite"
	"github.com/mlxk/mlxk/shared/hubcache"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mkcache:", err)
		os.Exit(1)
	}
}

func run() error {
	home, _ := os.UserHomeDir()
	hub := flag.String("hub", hubcache.Locate(os.Getenv, home), "hub cache directory")
	commit := flag.String("commit", "", "commit hash (default: derived from the content)")
	ref := flag.String("ref", "main", "ref to point at the commit (empty: none)")
	flag.Parse()
	if flag.NArg() != 2 {
		return fmt.Errorf("usage: mkcache [-hub DIR] [-commit SHA] [-ref R] org/name folder")
	}
	src := flag.Arg(1)
	files, err := cachewrite.FilesFromDir(src)
	if err != nil {
		return err
	}
	var refs []string
	if *ref != "" {
		refs = []string{*ref}
	}
	w, err := cachewrite.Write(*hub, cachewrite.Snapshot{RepoID: flag.Arg(0), Commit: *commit, Refs: refs, Files: files})
	if err != nil {
		return fmt.Errorf("%s: %w", flag.Arg(0), err)
	}
	fmt.Println(w.Commit)
	return nil
}
