package pullcmd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/mlxk/mlxk/shared/cli"
	"github.com/mlxk/mlxk/shared/envelope"
	"github.com/mlxk/mlxk/shared/hubcache"
	"github.com/mlxk/mlxk/shared/human"
	"github.com/mlxk/mlxk/shared/mlxkerr"
)

const pruneUsage = "prune [--dry-run] [--json] [--log-json]"

// PruneData is the data of the prune envelope.
type PruneData struct {
	DryRun bool `json:"dry_run"`
	// Incomplete lists blobs/*.incomplete leftovers of interrupted
	// downloads (relative to the cache); those whose lock is held belong
	// to a running download and are skipped.
	Incomplete []string `json:"incomplete"`
	// Unreferenced lists blobs no snapshot links to.
	Unreferenced []string `json:"unreferenced"`
	// Skipped lists leftovers kept because a download holds their lock.
	Skipped    []string `json:"skipped"`
	BytesFreed int64    `json:"bytes_freed"`
}

func runPrune(ctx context.Context, env cli.Env, verb string, args []string) error {
	fs := cli.NewFlags(verb, pruneUsage)
	dryRun := fs.Bool("dry-run", false, "list what would be removed, remove nothing")
	out := fs.OutputFlags("")
	pos, err := fs.Parse(env, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return mlxkerr.Usagef("prune takes no arguments (usage: %s)", pruneUsage)
	}
	cache := hubcache.Cache{Dir: hubcache.Locate(env.Getenv, env.Home)}
	data, err := prune(cache, *dryRun)
	if err != nil {
		return mlxkerr.Wrap(errDeletionFailed, err, "prune")
	}
	if out.Mode() == cli.JSON {
		return envelope.Write(env.Stdout, envelope.Success("prune", data))
	}
	verb = "removed"
	if data.DryRun {
		verb = "would remove"
	}
	for _, p := range append(append([]string{}, data.Incomplete...), data.Unreferenced...) {
		fmt.Fprintf(env.Stdout, "prune: %s %s\n", verb, p)
	}
	for _, p := range data.Skipped {
		fmt.Fprintf(env.Stdout, "prune: kept %s (a download is using it)\n", p)
	}
	fmt.Fprintf(env.Stdout, "prune: %s %d files, %s\n", verb, len(data.Incomplete)+len(data.Unreferenced), human.Size(data.BytesFreed))
	return nil
}

// prune removes download leftovers and blobs that no snapshot uses. It
// never touches a blob whose lock a running download holds (Python's
// `hf cache prune` does, and can break an in-flight download).
func prune(cache hubcache.Cache, dryRun bool) (PruneData, error) {
	d := PruneData{DryRun: dryRun, Incomplete: []string{}, Unreferenced: []string{}, Skipped: []string{}}
	repos, err := cache.Repos()
	if err != nil {
		return d, err
	}
	for _, r := range repos {
		used := map[string]bool{}
		snaps, err := r.Snapshots()
		if err != nil {
			return d, err
		}
		for _, s := range snaps {
			for _, b := range linkedBlobs(s.Path) {
				used[b] = true
			}
		}
		blobsDir := filepath.Join(r.Dir, "blobs")
		ents, err := os.ReadDir(blobsDir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			name := e.Name()
			rel := filepath.Join(r.CacheName, "blobs", name)
			etag, _, _ := strings.Cut(name, ".")
			incomplete := strings.HasSuffix(name, ".incomplete")
			if !incomplete && used[name] {
				continue
			}
			if lockHeld(filepath.Join(cache.Dir, ".locks", r.CacheName, etag+".lock")) {
				d.Skipped = append(d.Skipped, rel)
				continue
			}
			info, err := e.Info()
			if err != nil || info.IsDir() {
				continue
			}
			if !dryRun {
				if err := os.Remove(filepath.Join(blobsDir, name)); err != nil && !os.IsNotExist(err) {
					return d, err
				}
			}
			d.BytesFreed += info.Size()
			if incomplete {
				d.Incomplete = append(d.Incomplete, rel)
			} else {
				d.Unreferenced = append(d.Unreferenced, rel)
			}
		}
	}
	slices.Sort(d.Incomplete)
	slices.Sort(d.Unreferenced)
	return d, nil
}

// lockHeld reports whether another process holds flock on path.
func lockHeld(path string) bool {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return true
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}
