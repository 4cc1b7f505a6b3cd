package pullcmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"time"

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
)

const pullUsage = "pull <org/name>[@rev] [--include G]… [--exclude G]… [--check] [--json | --jsonl] [--log-json]"

// Error types of pull (the mlx-knife 2.0.3 names, plus revision_not_found).
const (
	errValidation       = "ValidationError"
	errAccessDenied     = "access_denied"
	errRevisionNotFound = "revision_not_found"
	errDownloadFailed   = "download_failed"
	errCorrupted        = "model_corrupted"
)

// PullData is the data of the pull envelope. The first four keys are
// mlx-knife's; the counts are ours.
type PullData struct {
	Model           *string `json:"model"`
	DownloadStatus  string  `json:"download_status"`
	Message         string  `json:"message"`
	ExpandedName    *string `json:"expanded_name"`
	CommitHash      *string `json:"commit_hash,omitempty"`
	CachedCommit    *string `json:"cached_commit,omitempty"`
	Files           int     `json:"files"`
	FilesDownloaded int     `json:"files_downloaded"`
	BytesDownloaded int64   `json:"bytes_downloaded"`
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func runPull(ctx context.Context, env cli.Env, verb string, args []string) error {
	fs := cli.NewFlags(verb, pullUsage)
	var include, exclude multiFlag
	fs.Var(&include, "include", "download only files matching this glob (repeatable)")
	fs.Var(&exclude, "exclude", "skip files matching this glob (repeatable)")
	check := fs.Bool("check", false, "only say whether the cached revision is behind the Hub")
	workers := fs.Int("workers", 8, "files downloaded in parallel")
	retries := fs.Int("retries", 5, "retries of a failed request or a cut download before giving up")
	out := fs.OutputFlags("print progress events, then the envelope, one per line")
	pos, err := fs.Parse(env, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return mlxkerr.Usagef("pull takes exactly one model (usage: %s)", pullUsage)
	}
	mode := out.Mode()
	log := env.Logger(out.LogJSON())
	data := PullData{DownloadStatus: "unknown"}
	fail := func(status string, e *mlxkerr.Error) error {
		data.DownloadStatus = status
		if mode == cli.Human {
			return e
		}
		_ = envelope.Write(env.Stdout, envelope.Failure("pull", e, data))
		return cli.Reported{Code: 1}
	}

	spec := pos[0]
	ref := modelref.Parse(spec)
	repo, err := modelref.HubRepoID(ref.Name)
	if err != nil {
		return fail("error", mlxkerr.New(errValidation, "Invalid model name: %s", err.(*modelref.InvalidNameError).Reason))
	}
	data.Model = &repo
	if repo != ref.Name {
		data.ExpandedName = &repo
	}
	filter, err := compileFilter(include, exclude)
	if err != nil {
		return fail("error", mlxkerr.New(errValidation, "%v", err))
	}

	hfHome := hubcache.HFHome(env.Getenv, env.Home)
	cache := hubcache.Cache{Dir: hubcache.Locate(env.Getenv, env.Home)}
	client := hubclient.FromEnv(env.Getenv, hfHome)
	client.Retries = max(*retries, 0)
	localRepo := cache.Repo(repo)
	cachedCommit := localCommit(localRepo, ref.Rev)

	if client.Offline {
		// HF_HUB_OFFLINE: answer from the cache alone, never another snapshot.
		if cachedCommit != "" && healthy(filepath.Join(localRepo.Dir, "snapshots", cachedCommit)) {
			data.DownloadStatus, data.CommitHash = "already_exists", &cachedCommit
			data.Message = fmt.Sprintf("Model %s already exists in cache (offline)", repo)
			return emitPull(env, mode, data)
		}
		return fail("failed", mlxkerr.New(errDownloadFailed, "Download failed: %s is not in the cache and HF_HUB_OFFLINE is set", spec))
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	puller := &hubpull.Puller{Client: client, Hub: cache.Dir, Workers: *workers, Filter: filter}
	data.DownloadStatus = "checking_access"
	info, err := puller.Resolve(ctx, repo, ref.Rev)
	if err != nil {
		status, e := classifyPreflight(repo, ref.Rev, err)
		return fail(status, e)
	}
	commit := info.SHA
	data.CommitHash = &commit
	log.Debug("preflight", "model", repo, "commit", commit)

	if *check {
		data.DownloadStatus = "up_to_date"
		data.Message = fmt.Sprintf("%s is up to date at %s", repo, human.Hash7(commit))
		switch {
		case cachedCommit == "":
			data.DownloadStatus = "not_cached"
			data.Message = fmt.Sprintf("%s is not in the cache; the Hub is at %s", repo, human.Hash7(commit))
		case cachedCommit != commit:
			data.CachedCommit = &cachedCommit
			data.DownloadStatus = "update_available"
			data.Message = fmt.Sprintf("%s is cached at %s; the Hub is at %s", repo, human.Hash7(cachedCommit), human.Hash7(commit))
		}
		return emitPull(env, mode, data)
	}

	data.DownloadStatus = "downloading"
	prog := newProgress(env, mode, repo)
	puller.OnEvent = prog.event
	res, err := puller.Pull(ctx, repo, ref.Rev, commit)
	prog.finish()
	data.Files, data.FilesDownloaded, data.BytesDownloaded = res.Files, res.Downloaded, res.BytesDownloaded
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fail("failed", mlxkerr.New(errDownloadFailed, "Download interrupted; run the same pull again to resume"))
		}
		status, e := classifyDownload(err)
		return fail(status, e)
	}
	snapshot := filepath.Join(localRepo.Dir, "snapshots", commit)
	if r := health.Check(snapfiles.Scan(snapshot)); !r.Healthy && filter.Include == nil && filter.Exclude == nil {
		return fail("corrupted", mlxkerr.New(errCorrupted, "Downloaded %s@%s but it is not healthy: %s", repo, human.Hash7(commit), r.Reason))
	}
	if res.Downloaded == 0 {
		data.DownloadStatus = "already_exists"
		data.Message = fmt.Sprintf("Model %s already exists in cache", repo)
	} else {
		data.DownloadStatus = "success"
		data.Message = fmt.Sprintf("Downloaded %s@%s: %d of %d files, %s", repo, human.Hash7(commit), res.Downloaded, res.Files, human.Size(res.BytesDownloaded))
	}
	return emitPull(env, mode, data)
}

func emitPull(env cli.Env, mode cli.Mode, data PullData) error {
	if mode == cli.Human {
		fmt.Fprintf(env.Stdout, "pull: %s — %s\n", *data.Model, data.Message)
		return nil
	}
	return envelope.Write(env.Stdout, envelope.Success("pull", data))
}

func compileFilter(include, exclude []string) (hubpull.Filter, error) {
	var f hubpull.Filter
	for _, g := range include {
		p, err := hubpull.CompilePattern(g)
		if err != nil {
			return f, fmt.Errorf("--include %q: %w", g, err)
		}
		f.Include = append(f.Include, p)
	}
	for _, g := range exclude {
		p, err := hubpull.CompilePattern(g)
		if err != nil {
			return f, fmt.Errorf("--exclude %q: %w", g, err)
		}
		f.Exclude = append(f.Exclude, p)
	}
	return f, nil
}

// localCommit is the commit the cache holds for a revision: the ref's
// target ("main" when rev is empty), or rev itself when it names a cached
// snapshot.
func localCommit(r hubcache.Repo, rev string) string {
	name := rev
	if name == "" {
		name = "main"
	}
	refs, _ := r.Refs()
	if c, ok := refs[name]; ok {
		return c
	}
	if modelref.IsCommitHash(rev) {
		if _, err := os.Stat(filepath.Join(r.Dir, "snapshots", rev)); err == nil {
			return rev
		}
	}
	return ""
}

func healthy(snapshot string) bool { return health.Check(snapfiles.Scan(snapshot)).Healthy }

// classifyPreflight maps a failed model-info call onto mlx-knife's
// access_denied (gated, private, missing, bad token) or our
// revision_not_found; anything else is a download failure.
func classifyPreflight(repo, rev string, err error) (string, *mlxkerr.Error) {
	switch hubclient.KindOf(err) {
	case hubclient.KindGated:
		return "access_denied", mlxkerr.New(errAccessDenied, "Access denied: gated/private model '%s'. Accept terms and set HF_TOKEN.", repo)
	case hubclient.KindRepoNotFound:
		return "access_denied", mlxkerr.New(errAccessDenied, "Access denied or not found for '%s'.", repo)
	case hubclient.KindUnauthorized, hubclient.KindForbidden:
		return "access_denied", mlxkerr.New(errAccessDenied, "Access denied to model '%s'. Set HF_TOKEN.", repo)
	case hubclient.KindRevisionNotFound:
		return "error", mlxkerr.New(errRevisionNotFound, "Revision '%s' not found for '%s'", rev, repo)
	}
	return "failed", mlxkerr.Wrap(errDownloadFailed, err, "Download failed: %s", repo)
}

func classifyDownload(err error) (string, *mlxkerr.Error) {
	switch hubclient.KindOf(err) {
	case hubclient.KindGated, hubclient.KindRepoNotFound, hubclient.KindUnauthorized, hubclient.KindForbidden:
		return "access_denied", mlxkerr.Wrap(errAccessDenied, err, "Access denied")
	}
	return "failed", mlxkerr.Wrap(errDownloadFailed, err, "Download failed")
}

// progress renders pull events: a progress line on a terminal's stderr, or
// JSON lines with --jsonl. The total never goes backwards.
type progress struct {
	env  cli.Env
	mode cli.Mode
	repo string

	mu        sync.Mutex
	total     int64 // from the plan event: fixed, so the percentage never drops
	files     int
	sizes     map[string]int64
	done      map[string]int64
	shown     int64
	last      time.Time
	lastEvent map[string]time.Time
	started   time.Time
	tty       bool
}

func newProgress(env cli.Env, mode cli.Mode, repo string) *progress {
	return &progress{env: env, mode: mode, repo: repo, sizes: map[string]int64{}, done: map[string]int64{},
		lastEvent: map[string]time.Time{}, started: env.Now(), tty: env.StderrTTY && mode == cli.Human}
}

// Event is a --jsonl progress record. The first is the plan: the number
// of files and their total size.
type Event struct {
	Event string `json:"event"`
	File  string `json:"file,omitempty"`
	Files int    `json:"files,omitempty"`
	Bytes int64  `json:"bytes"`
	Size  int64  `json:"size"`
}

func (p *progress) event(e hubpull.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.Kind == "plan" {
		p.total = e.Size
		p.files = e.Files
		if p.mode == cli.JSONL {
			_ = envelope.Write(p.env.Stdout, Event{Event: e.Kind, Files: p.files, Size: e.Size})
		}
		return
	}
	p.sizes[e.File] = e.Size
	if e.Bytes > p.done[e.File] || e.Kind == "start" {
		p.done[e.File] = e.Bytes
	}
	now := p.env.Now()
	switch {
	case p.mode == cli.JSONL:
		if e.Kind == "progress" && now.Sub(p.lastEvent[e.File]) < 250*time.Millisecond {
			return
		}
		p.lastEvent[e.File] = now
		_ = envelope.Write(p.env.Stdout, Event{Event: e.Kind, File: e.File, Bytes: e.Bytes, Size: e.Size})
	case p.tty:
		if now.Sub(p.last) < 200*time.Millisecond && e.Kind == "progress" {
			return
		}
		p.last = now
		p.draw(now)
	}
}

func (p *progress) draw(now time.Time) {
	var done int64
	finished := 0
	for f, s := range p.sizes {
		done += p.done[f]
		if p.done[f] >= s {
			finished++
		}
	}
	total, files := p.total, p.files
	if done < p.shown {
		done = p.shown // never backwards
	}
	p.shown = done
	pct := 100.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	rate := float64(done) / max(now.Sub(p.started).Seconds(), 0.001)
	fmt.Fprintf(p.env.Stderr, "\r\x1b[Kpull %s %5.1f%% %s/%s %s/s %d/%d files", p.repo, pct, human.Size(done), human.Size(total), human.Size(int64(rate)), finished, files)
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && len(p.sizes) > 0 {
		p.draw(p.env.Now())
		fmt.Fprintln(p.env.Stderr)
	}
}
