// Package pushcmd implements the mlxk-push binary: `push` uploads a
// workspace folder to a Hub repository.
package pushcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/mlxk/mlxk/shared/cli"
	"github.com/mlxk/mlxk/shared/envelope"
	"github.com/mlxk/mlxk/shared/hubcache"
	"github.com/mlxk/mlxk/shared/hubclient"
	"github.com/mlxk/mlxk/shared/hubpush"
	"github.com/mlxk/mlxk/shared/human"
	"github.com/mlxk/mlxk/shared/mlxkerr"
	"github.com/mlxk/mlxk/shared/modelref"
)

// Program is the mlxk-push binary.
var Program = cli.Program{
	Name:  "mlxk-push",
	Verbs: []cli.Verb{{Name: "push", Usage: usage, Run: run}},
}

// Main runs mlxk-push with the process environment.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return Program.Main(ctx, cli.OSEnv(stdin, stdout, stderr), args)
}

const usage = "push <dir> <org/model> --private [--create] [--branch B] [--commit MSG] [--check-only | --dry-run] [--json] [--verbose]"

// Error types of push (mlx-knife 2.0.3's names).
const (
	errAuth          = "auth_error"
	errWorkspace     = "workspace_not_found"
	errRepoNotFound  = "repo_not_found"
	errBranchCreate  = "branch_create_failed"
	errUpload        = "upload_failed"
	errPushOperation = "push_operation_failed"
)

// Summary counts changes.
type Summary struct {
	Added    int  `json:"added"`
	Modified *int `json:"modified"` // null in a dry run of a missing repo or branch: not computed
	Deleted  int  `json:"deleted"`
}

// Data is the data of the push envelope: mlx-knife's keys, then ours.
type Data struct {
	RepoID             string          `json:"repo_id"`
	Branch             string          `json:"branch"`
	CommitSHA          *string         `json:"commit_sha"`
	CommitURL          *string         `json:"commit_url"`
	RepoURL            string          `json:"repo_url"`
	UploadedFilesCount *int            `json:"uploaded_files_count"`
	LocalFilesCount    *int            `json:"local_files_count"`
	NoChanges          *bool           `json:"no_changes"`
	CreatedRepo        bool            `json:"created_repo"`
	ChangeSummary      *Summary        `json:"change_summary,omitempty"`
	Message            *string         `json:"message"`
	WorkspaceHealth    *hubpush.Health `json:"workspace_health,omitempty"`
	DryRun             bool            `json:"dry_run,omitempty"`
	DryRunSummary      *Summary        `json:"dry_run_summary,omitempty"`
	WouldCreateRepo    *bool           `json:"would_create_repo,omitempty"`
	WouldCreateBranch  *bool           `json:"would_create_branch,omitempty"`
	AddedFiles         []string        `json:"added_files,omitempty"`
	ModifiedFiles      []string        `json:"modified_files,omitempty"`
	DeletedFiles       []string        `json:"deleted_files,omitempty"`
	CreatedBranch      bool            `json:"created_branch"`
	LFSObjectsUploaded int             `json:"lfs_objects_uploaded"`
	LFSObjectsSkipped  int             `json:"lfs_objects_skipped"`
	LFSBytesSent       int64           `json:"lfs_bytes_sent"`
}

func run(ctx context.Context, env cli.Env, verb string, args []string) error {
	fs := cli.NewFlags(verb, usage)
	private := fs.Bool("private", false, "required: push to a private repository (a public upload is a deliberate act outside mlxk)")
	create := fs.Bool("create", false, "create the repository when it does not exist")
	branch := fs.String("branch", "main", "branch to commit to (created when missing)")
	message := fs.String("commit", "mlxk push", "commit message")
	checkOnly := fs.Bool("check-only", false, "only analyse the workspace, offline")
	dryRun := fs.Bool("dry-run", false, "list what would be added, modified and deleted; upload nothing")
	verbose := fs.Bool("verbose", false, "list the files and the commit URL")
	out := fs.OutputFlags("")
	pos, err := fs.Parse(env, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return mlxkerr.Usagef("push takes a workspace folder and a repo id (usage: %s)", usage)
	}
	if !*private {
		return mlxkerr.Usagef("push requires --private (usage: %s)", usage)
	}
	dir, repo := pos[0], pos[1]
	client := hubclient.FromEnv(env.Getenv, hubcache.HFHome(env.Getenv, env.Home))
	data := Data{RepoID: repo, Branch: *branch, RepoURL: client.Endpoint + "/" + repo}
	fail := func(e *mlxkerr.Error) error {
		if out.Mode() == cli.Human {
			return e
		}
		_ = envelope.Write(env.Stdout, envelope.Failure("push", e, data))
		return cli.Reported{Code: 1}
	}
	if err := modelref.ValidateRepoID(repo); err != nil || !strings.Contains(repo, "/") {
		return fail(mlxkerr.New("ValidationError", "Invalid repo id '%s': want org/name", repo))
	}
	if client.Token == "" && !*checkOnly {
		return fail(mlxkerr.New(errAuth, "HF_TOKEN not set (or log in: the token file under HF_HOME)"))
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fail(mlxkerr.New(errWorkspace, "Workspace not found or not a directory: %s", dir))
	}
	ig, err := hubpush.NewIgnorer(hubpush.IgnorePatterns(dir))
	if err != nil {
		return fail(mlxkerr.New("ValidationError", "%v", err))
	}
	files, total, err := hubpush.Collect(dir, ig)
	if err != nil {
		return fail(mlxkerr.Wrap(errPushOperation, err, "read workspace"))
	}
	data.LocalFilesCount = &total

	if *checkOnly {
		h := hubpush.Analyze(dir, files, total)
		data.WorkspaceHealth = &h
		msg := "Check-only: no upload performed."
		data.Message = &msg
		return emit(env, out.Mode(), data, *verbose)
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	res, err := hubpush.Push(ctx, client, files, ig, hubpush.Options{
		Repo: repo, Branch: *branch, Message: *message, Private: *private, Create: *create, DryRun: *dryRun,
	})
	data.CreatedRepo, data.CreatedBranch = res.CreatedRepo, res.CreatedBranch
	if err != nil {
		switch {
		case errors.Is(err, hubpush.ErrRepoNotFound):
			return fail(mlxkerr.New(errRepoNotFound, "Repository not found: %s (use --create)", repo))
		case errors.Is(err, hubpush.ErrBranchCreate):
			return fail(mlxkerr.Wrap(errBranchCreate, err, "Branch %s could not be created", *branch))
		case hubclient.KindOf(err) == hubclient.KindUnauthorized || hubclient.KindOf(err) == hubclient.KindForbidden:
			return fail(mlxkerr.Wrap(errAuth, err, "The Hub refused the token"))
		}
		return fail(mlxkerr.Wrap(errUpload, err, "Upload failed"))
	}
	ch := res.Changes
	mod := len(ch.Modified)
	sum := &Summary{Added: len(ch.Added), Modified: &mod, Deleted: len(ch.Deleted)}
	data.LFSObjectsUploaded, data.LFSObjectsSkipped, data.LFSBytesSent = res.LFSUploaded, res.LFSSkipped, res.BytesSent
	if *dryRun {
		zero, noChanges := 0, res.NoChanges
		data.DryRun, data.UploadedFilesCount, data.NoChanges = true, &zero, &noChanges
		data.WouldCreateRepo, data.WouldCreateBranch = &res.WouldCreateRepo, &res.WouldCreateBranch
		if res.WouldCreateRepo || res.WouldCreateBranch {
			sum.Modified = nil
		}
		data.ChangeSummary, data.DryRunSummary = sum, sum
		data.AddedFiles, data.ModifiedFiles, data.DeletedFiles = ch.Added, ch.Modified, ch.Deleted
		msg := dryRunMessage(res, sum)
		data.Message = &msg
		return emit(env, out.Mode(), data, *verbose)
	}
	count := len(ch.Added) + len(ch.Modified) + len(ch.Deleted)
	noChanges := res.NoChanges
	data.NoChanges, data.UploadedFilesCount = &noChanges, &count
	if noChanges {
		zero := 0
		data.UploadedFilesCount = &zero
		msg := "No files have been modified since last commit; nothing committed."
		data.Message = &msg
		return emit(env, out.Mode(), data, *verbose)
	}
	data.CommitSHA, data.CommitURL, data.ChangeSummary = &res.Commit, &res.CommitURL, sum
	data.AddedFiles, data.ModifiedFiles, data.DeletedFiles = ch.Added, ch.Modified, ch.Deleted
	msg := fmt.Sprintf("Committed %d files (+%d ~%d -%d).", count, sum.Added, mod, sum.Deleted)
	data.Message = &msg
	return emit(env, out.Mode(), data, *verbose)
}

func dryRunMessage(res hubpush.Result, s *Summary) string {
	switch {
	case res.WouldCreateRepo:
		return "Dry-run: repository does not exist; would create and add all files."
	case res.WouldCreateBranch:
		return "Dry-run: branch does not exist; would create branch and add all files."
	case res.NoChanges:
		return "Dry-run: no changes"
	}
	return fmt.Sprintf("Dry-run: +%d ~%d -%d", s.Added, *s.Modified, s.Deleted)
}

// emit prints the result: the envelope in JSON mode, one line (and, with
// --verbose, the files) otherwise.
func emit(env cli.Env, mode cli.Mode, d Data, verbose bool) error {
	if mode != cli.Human {
		return envelope.Write(env.Stdout, envelope.Success("push", d))
	}
	w := env.Stdout
	target := d.RepoID + "@" + d.Branch
	switch {
	case d.WorkspaceHealth != nil:
		h := d.WorkspaceHealth
		state := "healthy"
		if !h.Healthy {
			state = "unhealthy"
		}
		fmt.Fprintf(w, "push: %s — check-only: workspace %s (%d files, %s)\n", target, state, h.FilesCount, human.Size(h.TotalBytes))
		for _, a := range h.Anomalies {
			fmt.Fprintf(w, "  %s %s: %s\n", a.Severity, a.Code, a.Message)
		}
		return nil
	case d.DryRun:
		line := "dry-run: no changes"
		if !*d.NoChanges {
			mod := "?"
			if d.DryRunSummary.Modified != nil {
				mod = fmt.Sprint(*d.DryRunSummary.Modified)
			}
			line = fmt.Sprintf("dry-run: +%d ~%s -%d", d.DryRunSummary.Added, mod, d.DryRunSummary.Deleted)
		}
		if *d.WouldCreateRepo || *d.WouldCreateBranch {
			line += " (" + strings.Join(would(d), ", ") + ")"
		}
		fmt.Fprintf(w, "push: %s — %s\n", target, line)
	case *d.NoChanges:
		fmt.Fprintf(w, "push: %s — no changes\n", target)
	default:
		line := fmt.Sprintf("push: %s — commit %s (+%d ~%d -%d)", target, human.Hash7(*d.CommitSHA), d.ChangeSummary.Added, *d.ChangeSummary.Modified, d.ChangeSummary.Deleted)
		if verbose && d.CommitURL != nil {
			line += " <" + *d.CommitURL + ">"
		}
		fmt.Fprintln(w, line)
	}
	if verbose {
		for _, f := range d.AddedFiles {
			fmt.Fprintf(w, "  + %s\n", f)
		}
		for _, f := range d.ModifiedFiles {
			fmt.Fprintf(w, "  ~ %s\n", f)
		}
		for _, f := range d.DeletedFiles {
			fmt.Fprintf(w, "  - %s\n", f)
		}
	}
	return nil
}

func would(d Data) []string {
	var out []string
	if *d.WouldCreateRepo {
		out = append(out, "create repo")
	}
	if *d.WouldCreateBranch {
		out = append(out, "create branch")
	}
	return out
}
