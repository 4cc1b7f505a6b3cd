// Package clonecmd implements the mlxk-clone binary, the verbs that make
// workspaces: `clone` copies a model from the Hub into a workspace folder of
// real files; `convert` writes a quantized (or re-typed) MLX copy of a model.
package clonecmd

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path"
	"path/filepath"

	"github.com/mlxk/mlxk/shared/buildinfo"
	"github.com/mlxk/mlxk/shared/cli"
	"github.com/mlxk/mlxk/shared/envelope"
	"github.com/mlxk/mlxk/shared/health"
	"github.com/mlxk/mlxk/shared/hubcache"
	"github.com/mlxk/mlxk/shared/hubclient"
	"github.com/mlxk/mlxk/shared/hubpull"
	"github.com/mlxk/mlxk/shared/human"
	"github.com/mlxk/mlxk/shared/mlxkerr"
	"github.com/mlxk/mlxk/shared/modelref"
	"github.com/mlxk/mlxk/shared/snapfiles"
	"github.com/mlxk/mlxk/shared/workspace"
)

// Program is the mlxk-clone binary.
var Program = cli.Program{
	Name:  "mlxk-clone",
	Verbs: []cli.Verb{{Name: "clone", Usage: usage, Run: run}, {Name: "convert", Usage: convertUsage, Run: runConvert}},
}

// Main runs mlxk-clone with the process environment.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return Program.Main(ctx, cli.OSEnv(stdin, stdout, stderr), args)
}

const usage = "clone <org/name>[@rev] [target_dir] [--no-health-check] [--json] [--log-json]"

// Error types of clone (mlx-knife 2.0.3's names).
const (
	errInvalidTarget  = "InvalidTargetError"
	errPullFailed     = "PullFailedError"
	errCloneFailed    = "CloneFailedError"
	errCloneOperation = "CloneOperationError"
)

// Data is the data of the clone envelope: mlx-knife's keys, then ours.
type Data struct {
	Model        string  `json:"model"`
	CloneStatus  string  `json:"clone_status"`
	Message      string  `json:"message"`
	TargetDir    string  `json:"target_dir"`
	HealthCheck  bool    `json:"health_check"`
	Health       *string `json:"health"`        // healthy | unhealthy; null without a check
	HealthReason *string `json:"health_reason"` // null when healthy or unchecked
	CommitHash   *string `json:"commit_hash"`
	FilesCloned  int     `json:"files_cloned"` // shared storage with the cache copy (reflink)
	FilesCopied  int     `json:"files_copied"`
}

// tempSentinel marks a temporary cache as ours, so cleanup never removes
// anything else.
const tempSentinel = ".mlxk_temp_cache_sentinel"

func run(ctx context.Context, env cli.Env, verb string, args []string) error {
	fs := cli.NewFlags(verb, usage)
	noHealth := fs.Bool("no-health-check", false, "skip the health check of the result")
	out := fs.OutputFlags("")
	pos, err := fs.Parse(env, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		return mlxkerr.Usagef("clone takes a model and an optional target folder (usage: %s)", usage)
	}
	ref := modelref.Parse(pos[0])
	repo, badName := modelref.HubRepoID(ref.Name)
	target := path.Base(repo)
	if home := env.Getenv("MLXK_WORKSPACE_HOME"); home != "" {
		target = filepath.Join(home, target)
	}
	if len(pos) == 2 {
		target = pos[1]
	}
	abs, err := filepath.Abs(target)
	if err != nil {
		return mlxkerr.Wrap(errInvalidTarget, err, "target %s", target)
	}
	data := Data{Model: pos[0], CloneStatus: "unknown", TargetDir: abs, HealthCheck: !*noHealth}
	fail := func(status string, e *mlxkerr.Error) error {
		data.CloneStatus = status
		if out.Mode() == cli.Human {
			return e
		}
		_ = envelope.Write(env.Stdout, envelope.Failure("clone", e, data))
		return cli.Reported{Code: 1}
	}
	if badName != nil {
		return fail("error", mlxkerr.New("ValidationError", "Invalid model name: %s", badName.(*modelref.InvalidNameError).Reason))
	}
	if err := checkTarget(abs); err != nil {
		return fail("error", err)
	}
	parent := filepath.Dir(abs)
	if st, err := os.Stat(parent); err != nil || !st.IsDir() {
		return fail("error", mlxkerr.New(errInvalidTarget, "Parent folder of '%s' does not exist", target))
	}

	// The temporary cache sits beside the target, on its file system, so
	// files can be cloned or renamed into place; its name depends only on
	// the target, so an interrupted clone resumes its downloads.
	sum := sha1.Sum([]byte(abs))
	temp := filepath.Join(parent, ".mlxk_clone_"+hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(filepath.Join(temp, "hub"), 0o777); err != nil {
		return fail("error", mlxkerr.Wrap(errCloneOperation, err, "temporary cache"))
	}
	if err := os.WriteFile(filepath.Join(temp, tempSentinel), []byte("mlxk clone temporary cache for "+abs+"\n"), 0o666); err != nil {
		return fail("error", mlxkerr.Wrap(errCloneOperation, err, "temporary cache"))
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	client := hubclient.FromEnv(env.Getenv, hubcache.HFHome(env.Getenv, env.Home))
	puller := &hubpull.Puller{Client: client, Hub: filepath.Join(temp, "hub")}
	data.CloneStatus = "pulling"
	info, err := puller.Resolve(ctx, repo, ref.Rev)
	if err == nil {
		_, err = puller.Pull(ctx, repo, ref.Rev, info.SHA)
	}
	if err != nil {
		// Nothing usable was fetched when access was refused: leave no trace.
		if k := hubclient.KindOf(err); k != hubclient.KindNetwork && k != hubclient.KindServer && k != hubclient.KindRateLimited && !errors.Is(err, context.Canceled) {
			removeTemp(temp)
		}
		return fail("pull_failed", mlxkerr.Wrap(errPullFailed, err, "Pull operation failed"))
	}
	commit := info.SHA
	data.CommitHash = &commit

	data.CloneStatus = "cloning"
	snapshot := filepath.Join(temp, "hub", modelref.CacheDirName(repo), "snapshots", commit)
	stage := filepath.Join(temp, "workspace")
	os.RemoveAll(stage)
	if data.FilesCloned, data.FilesCopied, err = materialize(snapshot, stage); err != nil {
		return fail("filesystem_error", mlxkerr.Wrap(errCloneFailed, err, "Copying files into the workspace failed"))
	}
	hash, index, err := workspace.ContentHash(stage)
	if err != nil && !errors.Is(err, workspace.ErrUnhashable) {
		return fail("error", mlxkerr.Wrap(errCloneOperation, err, "content hash"))
	}
	rev := ref.Rev
	if rev == "" {
		rev = "main"
	}
	s := workspace.Sentinel{
		MLXKVersion: buildinfo.CLIVersion, CreatedAt: workspace.Now(env.Now()), SourceRepo: repo,
		SourceRevision: rev, SourceCommit: commit, Managed: true, Operation: "clone",
		HashAlgorithm: "v2", ContentHash: hash, FileIndex: index,
	}
	if err := workspace.WriteSentinel(stage, s); err != nil {
		return fail("error", mlxkerr.Wrap(errCloneOperation, err, "sentinel"))
	}
	if err := place(stage, abs); err != nil {
		return fail("filesystem_error", mlxkerr.Wrap(errCloneFailed, err, "Moving the workspace into place failed"))
	}
	removeTemp(temp)

	if !*noHealth {
		r := health.Check(snapfiles.Scan(abs))
		state := "healthy"
		if !r.Healthy {
			state = "unhealthy"
			data.HealthReason = &r.Reason
		}
		data.Health = &state
	}
	data.CloneStatus = "success"
	data.Message = fmt.Sprintf("Cloned %s@%s to %s", repo, human.Hash7(commit), target)
	if out.Mode() != cli.Human {
		return envelope.Write(env.Stdout, envelope.Success("clone", data))
	}
	mark := ""
	switch {
	case data.Health == nil:
	case data.HealthReason == nil:
		mark = " (✓ healthy)"
	default:
		mark = " (⚠ unhealthy: " + *data.HealthReason + ")"
	}
	fmt.Fprintf(env.Stdout, "clone: %s → %s%s — %s\n", pos[0], target, mark, data.Message)
	return nil
}

// checkTarget refuses a target that is a file or a folder with anything
// in it.
func checkTarget(abs string) *mlxkerr.Error {
	st, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return mlxkerr.Wrap(errInvalidTarget, err, "Target '%s'", abs)
	case !st.IsDir():
		return mlxkerr.New(errInvalidTarget, "Target '%s' exists but is not a directory", abs)
	}
	ents, err := os.ReadDir(abs)
	if err != nil {
		return mlxkerr.Wrap(errInvalidTarget, err, "Target '%s'", abs)
	}
	if len(ents) > 0 {
		return mlxkerr.New(errInvalidTarget, "Target directory '%s' is not empty", abs)
	}
	return nil
}

// materialize copies every file of a snapshot (through its blob links)
// into dst as real files.
func materialize(snapshot, dst string) (cloned, copied int, err error) {
	l := snapfiles.Scan(snapshot)
	if !l.Exists {
		return 0, 0, fmt.Errorf("snapshot %s is missing", filepath.Base(snapshot))
	}
	for _, f := range l.Files {
		if f.Broken || f.Irregular {
			return cloned, copied, fmt.Errorf("%s is not a readable file", f.Rel)
		}
		to := filepath.Join(dst, filepath.FromSlash(f.Rel))
		if err := os.MkdirAll(filepath.Dir(to), 0o777); err != nil {
			return cloned, copied, err
		}
		c, err := workspace.CopyFile(l.Abs(f), to)
		if err != nil {
			return cloned, copied, fmt.Errorf("%s: %w", f.Rel, err)
		}
		if c {
			cloned++
		} else {
			copied++
		}
	}
	return cloned, copied, nil
}

// place moves the staged workspace to the target: a rename when the target
// does not exist, else entry by entry into the empty folder.
func place(stage, target string) error {
	if err := os.Rename(stage, target); err == nil {
		return nil
	}
	ents, err := os.ReadDir(stage)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := os.Rename(filepath.Join(stage, e.Name()), filepath.Join(target, e.Name())); err != nil {
			return err
		}
	}
	return os.Remove(stage)
}

// removeTemp deletes a temporary cache, but only one that carries our
// sentinel.
func removeTemp(temp string) {
	if _, err := os.Stat(filepath.Join(temp, tempSentinel)); err == nil {
		os.RemoveAll(temp)
	}
}
