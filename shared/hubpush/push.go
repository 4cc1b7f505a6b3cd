package hubpush

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/mlxk/mlxk/shared/hubclient"
)

// Options describe one push.
type Options struct {
	Repo    string
	Branch  string
	Message string
	Private bool // visibility of a repo that --create makes
	Create  bool // create the repo when it is missing
	DryRun  bool
}

// Changes lists what a push adds, modifies and deletes on the branch.
type Changes struct {
	Added, Modified, Deleted []string
}

// Empty reports whether there is nothing to commit.
func (c Changes) Empty() bool { return len(c.Added)+len(c.Modified)+len(c.Deleted) == 0 }

// Result describes a finished push or dry run.
type Result struct {
	Changes           Changes
	NoChanges         bool
	CreatedRepo       bool
	CreatedBranch     bool
	WouldCreateRepo   bool
	WouldCreateBranch bool
	Commit, CommitURL string
	LFSUploaded       int   // objects sent
	LFSSkipped        int   // objects the Hub already held
	BytesSent         int64 // LFS bytes sent
}

// ErrRepoNotFound means the repository does not exist and Create is off.
var ErrRepoNotFound = errors.New("repository not found")

// ErrBranchCreate wraps a failure to create the target branch.
var ErrBranchCreate = errors.New("create branch")

// Push mirrors files (from Collect) onto the branch of the repo.
func Push(ctx context.Context, c *hubclient.Client, files []LocalFile, ig Ignorer, o Options) (Result, error) {
	var res Result
	info, err := c.ModelInfo(ctx, o.Repo, o.Branch)
	switch hubclient.KindOf(err) {
	case hubclient.KindOther:
		if err != nil {
			return res, err
		}
	case hubclient.KindRepoNotFound:
		if o.DryRun {
			res.WouldCreateRepo, res.WouldCreateBranch = true, true
			res.Changes.Added = paths(files)
			return res, nil
		}
		if !o.Create {
			return res, fmt.Errorf("%w: %s (use --create)", ErrRepoNotFound, o.Repo)
		}
		existed, err := c.CreateRepo(ctx, o.Repo, o.Private)
		if err != nil {
			return res, fmt.Errorf("create %s: %w", o.Repo, err)
		}
		res.CreatedRepo = !existed
		if info, err = ensureBranch(ctx, c, o, &res); err != nil {
			return res, err
		}
	case hubclient.KindRevisionNotFound:
		if o.DryRun {
			res.WouldCreateBranch = true
			res.Changes.Added = paths(files)
			return res, nil
		}
		if info, err = ensureBranch(ctx, c, o, &res); err != nil {
			return res, err
		}
	default:
		return res, err
	}

	remote, err := c.ListFiles(ctx, o.Repo, info.SHA)
	if err != nil {
		return res, fmt.Errorf("list %s@%s: %w", o.Repo, o.Branch, err)
	}
	res.Changes = diff(files, remote, ig)
	if o.DryRun {
		res.NoChanges = res.Changes.Empty()
		return res, nil
	}
	if res.Changes.Empty() {
		res.NoChanges, res.Commit = true, info.SHA
		return res, nil
	}

	byPath := map[string]LocalFile{}
	for _, f := range files {
		byPath[f.Path] = f
	}
	var send []LocalFile
	for _, p := range append(slices.Clone(res.Changes.Added), res.Changes.Modified...) {
		send = append(send, byPath[p])
	}
	modes, err := preupload(ctx, c, o, send)
	if err != nil {
		return res, err
	}
	// Files the Hub's .gitignore covers are not sent, and are no change.
	keep := func(ps []string) []string {
		return slices.DeleteFunc(ps, func(p string) bool { return modes[p] == "ignore" })
	}
	res.Changes.Added, res.Changes.Modified = keep(res.Changes.Added), keep(res.Changes.Modified)
	if res.Changes.Empty() {
		res.NoChanges, res.Commit = true, info.SHA
		return res, nil
	}
	if err := uploadLFS(ctx, c, o, send, modes, &res); err != nil {
		return res, err
	}
	var ops []hubclient.CommitOp
	for _, f := range send {
		switch modes[f.Path] {
		case "ignore":
		case "lfs":
			ops = append(ops, hubclient.CommitOp{Key: "lfsFile", Value: map[string]any{"path": f.Path, "algo": "sha256", "oid": f.SHA256, "size": f.Size}})
		default:
			b, err := os.ReadFile(f.Abs)
			if err != nil {
				return res, err
			}
			ops = append(ops, hubclient.CommitOp{Key: "file", Value: map[string]any{"path": f.Path, "content": base64.StdEncoding.EncodeToString(b), "encoding": "base64"}})
		}
	}
	for _, p := range res.Changes.Deleted {
		ops = append(ops, hubclient.CommitOp{Key: "deletedFile", Value: map[string]any{"path": p}})
	}
	cr, err := c.Commit(ctx, o.Repo, o.Branch, o.Message, info.SHA, ops)
	if hubclient.KindOf(err) == hubclient.KindRevisionNotFound {
		// The branch vanished or was never there ("Invalid rev id"):
		// create it and try once more.
		if err := c.CreateBranch(ctx, o.Repo, o.Branch); err != nil {
			return res, fmt.Errorf("%w %s: %w", ErrBranchCreate, o.Branch, err)
		}
		res.CreatedBranch = true
		cr, err = c.Commit(ctx, o.Repo, o.Branch, o.Message, "", ops)
	}
	if err != nil {
		return res, fmt.Errorf("commit to %s@%s: %w", o.Repo, o.Branch, err)
	}
	res.Commit, res.CommitURL = cr.OID, cr.URL
	return res, nil
}

// ensureBranch creates the branch unless it is main (which a new repo has)
// and returns the info of its head.
func ensureBranch(ctx context.Context, c *hubclient.Client, o Options, res *Result) (hubclient.Info, error) {
	if o.Branch != "main" {
		if err := c.CreateBranch(ctx, o.Repo, o.Branch); err != nil {
			return hubclient.Info{}, fmt.Errorf("%w %s: %w", ErrBranchCreate, o.Branch, err)
		}
		res.CreatedBranch = true
	}
	return c.ModelInfo(ctx, o.Repo, o.Branch)
}

func paths(files []LocalFile) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.Path
	}
	return out
}

// diff compares the workspace with the branch. A file is unchanged when
// its content hash equals the remote one (sha256 for LFS files, git blob
// id otherwise). Remote files missing locally are deleted, except the
// Hub-managed .gitattributes and paths the ignore rules cover.
func diff(local []LocalFile, remote []hubclient.TreeEntry, ig Ignorer) Changes {
	var ch Changes
	rm := map[string]hubclient.TreeEntry{}
	for _, r := range remote {
		rm[r.Path] = r
	}
	seen := map[string]bool{}
	for _, f := range local {
		seen[f.Path] = true
		r, ok := rm[f.Path]
		switch {
		case !ok:
			ch.Added = append(ch.Added, f.Path)
		case r.LFS != nil && r.LFS.OID == f.SHA256:
		case r.LFS == nil && f.GitSHA != "" && r.OID == f.GitSHA:
		default:
			ch.Modified = append(ch.Modified, f.Path)
		}
	}
	for _, r := range remote {
		if !seen[r.Path] && r.Path != ".gitattributes" && !ig.Ignored(r.Path) {
			ch.Deleted = append(ch.Deleted, r.Path)
		}
	}
	slices.Sort(ch.Deleted)
	return ch
}

// preupload asks the Hub how to send each file: "lfs", "regular", or
// "ignore" (its .gitignore says so).
func preupload(ctx context.Context, c *hubclient.Client, o Options, files []LocalFile) (map[string]string, error) {
	modes := map[string]string{}
	for start := 0; start < len(files); start += 256 {
		chunk := files[start:min(start+256, len(files))]
		req := make([]hubclient.PreuploadFile, len(chunk))
		for i, f := range chunk {
			req[i] = hubclient.PreuploadFile{Path: f.Path, Sample: base64.StdEncoding.EncodeToString(f.Sample), Size: f.Size}
		}
		out, _, err := c.Preupload(ctx, o.Repo, o.Branch, req)
		if err != nil {
			return nil, fmt.Errorf("preupload to %s@%s: %w", o.Repo, o.Branch, err)
		}
		for _, r := range out {
			mode := r.UploadMode
			if r.ShouldIgnore {
				mode = "ignore"
			}
			modes[r.Path] = mode
		}
	}
	for _, f := range files {
		if f.Size == 0 {
			modes[f.Path] = "regular" // object stores take no empty objects
		}
		if modes[f.Path] == "" {
			return nil, fmt.Errorf("preupload did not classify %s", f.Path)
		}
		if modes[f.Path] == "regular" && f.Size >= regularLimit {
			return nil, fmt.Errorf("the Hub wants %s (%d bytes) inline, over the 10 MiB limit", f.Path, f.Size)
		}
	}
	return modes, nil
}

// uploadLFS sends the LFS objects the Hub does not hold yet, a few at a
// time, and has each verified.
func uploadLFS(ctx context.Context, c *hubclient.Client, o Options, files []LocalFile, modes map[string]string, res *Result) error {
	byOID := map[string]LocalFile{}
	var objs []hubclient.LFSObject
	for _, f := range files {
		if modes[f.Path] != "lfs" {
			continue
		}
		if _, dup := byOID[f.SHA256]; !dup {
			byOID[f.SHA256] = f
			objs = append(objs, hubclient.LFSObject{OID: f.SHA256, Size: f.Size})
		}
	}
	var acts []hubclient.LFSAction
	for start := 0; start < len(objs); start += 256 {
		a, err := c.LFSBatch(ctx, o.Repo, o.Branch, objs[start:min(start+256, len(objs))])
		if err != nil {
			return fmt.Errorf("LFS batch for %s: %w", o.Repo, err)
		}
		acts = append(acts, a...)
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		sent     atomic.Int64
		uploaded atomic.Int64
		sem      = make(chan struct{}, 4)
	)
	for _, a := range acts {
		if a.Upload == "" {
			res.LFSSkipped++
			continue
		}
		f := byOID[a.OID]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			err := c.PutObject(ctx, a.Upload, f.Abs, f.Size)
			if err == nil && a.Verify != "" {
				err = c.VerifyObject(ctx, a.Verify, hubclient.LFSObject{OID: a.OID, Size: a.Size})
			}
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("upload %s: %w", f.Path, err)
				}
				mu.Unlock()
				return
			}
			sent.Add(f.Size)
			uploaded.Add(1)
		}()
	}
	wg.Wait()
	res.BytesSent, res.LFSUploaded = sent.Load(), int(uploaded.Load())
	return firstErr
}
