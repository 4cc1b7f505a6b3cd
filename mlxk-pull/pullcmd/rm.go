package pullcmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mlxk/mlxk/shared/cli"
	"github.com/mlxk/mlxk/shared/envelope"
	"github.com/mlxk/mlxk/shared/hubcache"
	"github.com/mlxk/mlxk/shared/mlxkerr"
	"github.com/mlxk/mlxk/shared/modelref"
)

const rmUsage = "rm <model>[@rev] | - [-f] [--json] [--log-json]"

// Error types of rm (mlx-knife 2.0.3 names, plus requires_confirmation).
const (
	errCacheNotFound        = "cache_not_found"
	errLocksPresent         = "locks_present"
	errPermissionDenied     = "permission_denied"
	errDeletionFailed       = "deletion_failed"
	errRequiresConfirmation = "requires_confirmation"
)

// RmData is the data of the rm envelope (mlx-knife's keys).
type RmData struct {
	Model                *string  `json:"model"`
	Action               string   `json:"action"`
	Message              string   `json:"message"`
	RequiresConfirmation bool     `json:"requires_confirmation"`
	Matches              []string `json:"matches"`
	LockFilesCleaned     int      `json:"lock_files_cleaned"`
	CommitHash           *string  `json:"commit_hash,omitempty"`
	LocksDetected        bool     `json:"locks_detected,omitempty"`
	LockFiles            []string `json:"lock_files,omitempty"`
	BlobsDeleted         int      `json:"blobs_deleted"`
}

func runRm(ctx context.Context, env cli.Env, verb string, args []string) error {
	fs := cli.NewFlags(verb, rmUsage)
	force := fs.Bool("f", false, "delete without asking, even for a partial name or while a download holds a lock")
	fs.BoolVar(force, "force", false, "same as -f")
	out := fs.OutputFlags("")
	pos, err := fs.Parse(env, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return mlxkerr.Usagef("rm takes exactly one model or '-' (usage: %s)", rmUsage)
	}
	mode := out.Mode()
	cache := hubcache.Cache{Dir: hubcache.Locate(env.Getenv, env.Home)}
	if st, err := os.Stat(cache.Dir); err != nil || !st.IsDir() {
		return mlxkerr.New(errCacheNotFound, "Model cache directory does not exist")
	}
	specs := pos
	interactive := env.StdinTTY && env.StderrTTY
	if pos[0] == "-" {
		specs, err = modelref.ReadSpecs(env.Stdin)
		if err != nil {
			return mlxkerr.Wrap(mlxkerr.CommandError, err, "read models from stdin")
		}
		interactive = false // stdin holds the names, not answers
	}
	code := 0
	for _, spec := range specs {
		data, e := removeOne(cache, spec, *force, interactive, env)
		if e != nil {
			code = 1
		}
		switch {
		case mode == cli.JSON && e != nil:
			_ = envelope.Write(env.Stdout, envelope.Failure("rm", e, data))
		case mode == cli.JSON:
			_ = envelope.Write(env.Stdout, envelope.Success("rm", data))
		case e != nil:
			cli.PrintHumanError(env.Stderr, "rm", e)
		default:
			fmt.Fprintf(env.Stdout, "rm: %s — %s: %s\n", deref(data.Model), data.Action, data.Message)
		}
	}
	return cli.Reported{Code: code}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// removeOne removes one model (or one snapshot with @rev). Only exact
// names, or -f, or a yes on a terminal delete; a partial name otherwise
// asks (terminal) or refuses (script).
func removeOne(cache hubcache.Cache, spec string, force, interactive bool, env cli.Env) (RmData, *mlxkerr.Error) {
	data := RmData{Action: "unknown", Matches: []string{}}
	res, err := cache.Resolve(spec)
	if err != nil {
		e := mlxkerr.From(err, errDeletionFailed)
		switch e.Type {
		case mlxkerr.AmbiguousMatch:
			data.Action = "ambiguous"
			data.Matches = e.Matches
		case mlxkerr.ModelNotFound:
			e.Message = fmt.Sprintf("No models found matching '%s'", modelref.Parse(spec).Name)
		}
		return data, e
	}
	ref := modelref.Parse(spec)
	name := res.Repo.ID
	data.Model = &name
	if res.Pinned {
		h := res.Snapshot.Name
		data.CommitHash = &h
	}
	held := heldLocks(cache, res.Repo)
	if len(held) > 0 && !force {
		data.LocksDetected, data.LockFiles = true, held
		return data, mlxkerr.New(errLocksPresent, "Model has active locks (a download is running). Use --force to override.")
	}
	target := name
	if res.Pinned {
		target = name + "@" + res.Snapshot.Name
	}
	if ref.Name != name && ref.Name != res.Repo.CacheName && !force {
		question := fmt.Sprintf("Would delete '%s' (matched from '%s')", target, ref.Name)
		if !interactive || !confirm(env, question+". Delete? [y/N] ") {
			data.Action = "requires_confirmation"
			data.RequiresConfirmation = true
			data.Message = question
			e := mlxkerr.New(errRequiresConfirmation, "%s; use the full name or -f to delete", question)
			if interactive {
				e.Message = "Not deleted"
			}
			return data, e
		}
	}
	var delErr error
	if res.Pinned {
		data.BlobsDeleted, delErr = removeSnapshot(res.Repo, res.Snapshot.Name)
		data.Message = fmt.Sprintf("Deleted %s", target)
	} else {
		delErr = removeTree(res.Repo.Dir)
		data.Message = fmt.Sprintf("Deleted entire model %s", name)
	}
	if delErr != nil {
		var pe *fs.PathError
		if errors.As(delErr, &pe) && errors.Is(pe.Err, fs.ErrPermission) {
			return data, mlxkerr.New(errPermissionDenied, "Permission denied: Cannot delete %s", pe.Path)
		}
		return data, mlxkerr.Wrap(errDeletionFailed, delErr, "Deleting %s failed", target)
	}
	if _, err := os.Stat(res.Repo.Dir); errors.Is(err, fs.ErrNotExist) {
		data.LockFilesCleaned = cleanLocks(cache, res.Repo)
	}
	data.Action = "deleted"
	return data, nil
}

func confirm(env cli.Env, prompt string) bool {
	fmt.Fprint(env.Stderr, prompt)
	line, _ := bufio.NewReader(env.Stdin).ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes"
}

// removeTree deletes a model folder. The folder comes from the cache
// listing, so it is inside the cache; a symlinked model folder loses only
// its link, never the target.
func removeTree(dir string) error { return os.RemoveAll(dir) }

// removeSnapshot deletes one snapshot, the refs that point at it, and the
// blobs no other snapshot links to; when nothing is left the whole model
// goes. It returns the number of blobs deleted.
func removeSnapshot(r hubcache.Repo, commit string) (int, error) {
	snapDir := filepath.Join(r.Dir, "snapshots", commit)
	inUse := map[string]bool{}
	snaps, err := r.Snapshots()
	if err != nil {
		return 0, err
	}
	for _, s := range snaps {
		if s.Name == commit {
			continue
		}
		for _, b := range linkedBlobs(s.Path) {
			inUse[b] = true
		}
	}
	candidates := linkedBlobs(snapDir)
	if err := os.RemoveAll(snapDir); err != nil {
		return 0, err
	}
	refs, _ := r.Refs()
	for name, c := range refs {
		if c == commit {
			if err := os.Remove(filepath.Join(r.Dir, "refs", filepath.FromSlash(name))); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return 0, err
			}
		}
	}
	n := 0
	blobs := filepath.Join(r.Dir, "blobs")
	for _, b := range candidates {
		if inUse[b] {
			continue
		}
		if err := os.Remove(filepath.Join(blobs, b)); err == nil {
			n++
		} else if !errors.Is(err, fs.ErrNotExist) {
			return n, err
		}
	}
	if len(snaps) <= 1 {
		return n, removeTree(r.Dir)
	}
	return n, nil
}

// linkedBlobs lists the blob names the symlinks under a snapshot point to
// (only links that resolve inside the repo's blobs/ folder count).
func linkedBlobs(snapDir string) []string {
	var out []string
	blobsDir := filepath.Clean(filepath.Join(snapDir, "..", "..", "blobs"))
	_ = filepath.WalkDir(snapDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		t, err := os.Readlink(p)
		if err != nil {
			return nil
		}
		if !filepath.IsAbs(t) {
			t = filepath.Join(filepath.Dir(p), t)
		}
		if filepath.Dir(filepath.Clean(t)) == blobsDir {
			out = append(out, filepath.Base(t))
		}
		return nil
	})
	slices.Sort(out)
	return slices.Compact(out)
}

// heldLocks lists the model's lock files that a running download holds
// (relative to the cache). mlx-knife refused whenever lock files existed,
// but huggingface_hub never deletes them, so every downloaded model has
// some; only a held lock means a download is in flight.
func heldLocks(cache hubcache.Cache, r hubcache.Repo) []string {
	dir := filepath.Join(cache.Dir, ".locks", r.CacheName)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var held []string
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".lock") {
			continue
		}
		if lockHeld(filepath.Join(dir, e.Name())) {
			held = append(held, filepath.Join(".locks", r.CacheName, e.Name()))
		}
	}
	return held
}

// cleanLocks removes the lock folder of a deleted model and returns how
// many lock files it held.
func cleanLocks(cache hubcache.Cache, r hubcache.Repo) int {
	dir := filepath.Join(cache.Dir, ".locks", r.CacheName)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	if os.RemoveAll(dir) != nil {
		return 0
	}
	return len(ents)
}
