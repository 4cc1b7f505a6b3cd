// Package hubpull downloads a model repository into the hub cache the way
// huggingface_hub's snapshot_download does, and more carefully: the
// revision is pinned, every byte is verified against the blob's hash
// while it streams, interrupted downloads resume from their .incomplete
// file under the same flock Python takes, and files already complete in
// the cache are not fetched again.
package hubpull

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	sha256 "github.com/minio/sha256-simd"

	"github.com/mlxk/mlxk/shared/cachewrite"
	"github.com/mlxk/mlxk/shared/hubclient"
	"github.com/mlxk/mlxk/shared/modelref"
	"github.com/mlxk/mlxk/shared/verify"
)

// Event reports progress; it is delivered from download goroutines, in
// order per file.
type Event struct {
	Kind  string // "plan" (first: Files and their total Size), "start", "progress", "done", "cached"
	File  string
	Files int   // plan: how many files the pull covers
	Bytes int64 // bytes held so far (progress, done)
	Size  int64
}

// Puller downloads into one hub cache.
type Puller struct {
	Client  *hubclient.Client
	Hub     string // the hub cache folder
	Workers int    // files in parallel (8 when 0)
	Filter  Filter
	OnEvent func(Event) // may be nil
}

// Result describes a finished pull.
type Result struct {
	Repo            string
	Commit          string
	Snapshot        string // folder of the snapshot
	Files           int    // files in the snapshot (after filtering)
	Downloaded      int    // files fetched
	BytesDownloaded int64
	Cached          int // files already complete in the cache
}

// Resolve asks the Hub for the commit a revision names ("" = default
// branch). It is the preflight: access problems surface here, before the
// cache is touched.
func (p *Puller) Resolve(ctx context.Context, repo, rev string) (hubclient.Info, error) {
	return p.Client.ModelInfo(ctx, repo, rev)
}

// Pull downloads repo at commit (from Resolve) and points refs/<rev> at it
// when rev is a branch or tag name.
func (p *Puller) Pull(ctx context.Context, repo, rev, commit string) (Result, error) {
	res := Result{Repo: repo, Commit: commit}
	files, err := p.Client.ListFiles(ctx, repo, commit)
	if err != nil {
		return res, fmt.Errorf("list files of %s@%s: %w", repo, short(commit), err)
	}
	var keep []hubclient.TreeEntry
	for _, f := range files {
		if err := safeRepoPath(f.Path); err != nil {
			return res, err
		}
		if p.Filter.Keep(f.Path) {
			keep = append(keep, f)
		}
	}
	if len(keep) == 0 {
		return res, fmt.Errorf("no files of %s@%s match the include/exclude patterns", repo, short(commit))
	}
	folder := modelref.CacheDirName(repo)
	repoDir := filepath.Join(p.Hub, folder)
	res.Snapshot = filepath.Join(repoDir, "snapshots", commit)
	res.Files = len(keep)

	// Phase 1, read-only: ask for the metadata of every file that is not
	// already complete. Gated files (whose repo info is public) and any
	// other refusal surface here, before the cache is touched.
	todo, metas, err := p.plan(ctx, repo, repoDir, res.Snapshot, commit, keep)
	if err != nil {
		return res, err
	}
	for _, d := range []string{filepath.Join(repoDir, "blobs"), res.Snapshot} {
		if err := os.MkdirAll(d, 0o777); err != nil {
			return res, err
		}
	}
	if err := cachewrite.EnsureTag(p.Hub); err != nil {
		return res, err
	}
	var total int64
	for _, f := range keep {
		total += f.ContentSize()
	}
	p.emit(Event{Kind: "plan", Files: len(keep), Size: total})
	for _, f := range keep {
		if _, queued := metas[f.Path]; !queued {
			p.emit(Event{Kind: "cached", File: f.Path, Bytes: f.ContentSize(), Size: f.ContentSize()})
		}
	}
	res.Cached = len(keep) - len(todo)
	keep = todo

	workers := p.Workers
	if workers <= 0 {
		workers = 8
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		next     = make(chan hubclient.TreeEntry)
		dl       atomic.Int64
		bytes    atomic.Int64
		cached   atomic.Int64
	)
	for range min(workers, len(keep)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range next {
				fetched, n, err := p.file(ctx, folder, repoDir, res.Snapshot, f, metas[f.Path])
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("%s: %w", f.Path, err)
						cancel()
					}
					mu.Unlock()
					continue
				}
				if fetched {
					dl.Add(1)
					bytes.Add(n)
				} else {
					cached.Add(1)
				}
			}
		}()
	}
	for _, f := range keep {
		select {
		case next <- f:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	res.Downloaded, res.BytesDownloaded = int(dl.Load()), bytes.Load()
	res.Cached += int(cached.Load())
	if firstErr != nil {
		return res, firstErr
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	// A branch or tag gets a ref; a full or short commit id does not (a
	// ref named after a hash prefix would only confuse other tools).
	if rev != "" && !strings.HasPrefix(commit, rev) {
		if err := cachewrite.WriteRef(repoDir, rev, commit); err != nil {
			return res, err
		}
	} else if rev == "" {
		if err := cachewrite.WriteRef(repoDir, "main", commit); err != nil {
			return res, err
		}
	}
	return res, nil
}

func (p *Puller) emit(e Event) {
	if p.OnEvent != nil {
		p.OnEvent(e)
	}
}

// plan returns the files that need work (not complete and linked) and
// their metadata, fetched concurrently. Any failure aborts the pull.
func (p *Puller) plan(ctx context.Context, repo, repoDir, snapshot, commit string, files []hubclient.TreeEntry) ([]hubclient.TreeEntry, map[string]hubclient.Meta, error) {
	var todo []hubclient.TreeEntry
	for _, f := range files {
		blob := filepath.Join(repoDir, "blobs", f.ETag())
		if !complete(blob, f.ContentSize()) || !linked(snapshot, f.Path, blob) {
			todo = append(todo, f)
		}
	}
	metas := make(map[string]hubclient.Meta, len(todo))
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		sem      = make(chan struct{}, max(p.Workers, 8))
	)
	for _, f := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			m, err := p.Client.FileMeta(ctx, repo, commit, f.Path)
			if err == nil && (m.ETag != f.ETag() || m.Size != f.ContentSize()) {
				err = fmt.Errorf("listing says %s (%d bytes) but the file says %s (%d bytes)", short(f.ETag()), f.ContentSize(), short(m.ETag), m.Size)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("%s: %w", f.Path, err)
				}
				return
			}
			metas[f.Path] = m
		}()
	}
	wg.Wait()
	return todo, metas, firstErr
}

// file makes one snapshot file complete: it returns whether bytes were
// fetched and how many.
func (p *Puller) file(ctx context.Context, folder, repoDir, snapshot string, f hubclient.TreeEntry, meta hubclient.Meta) (bool, int64, error) {
	etag, size := f.ETag(), f.ContentSize()
	blob := filepath.Join(repoDir, "blobs", etag)
	algo := verify.AlgoFor(etag)
	if algo == verify.None {
		return false, 0, fmt.Errorf("etag %q is not a content hash", etag)
	}
	unlock, err := cachewrite.LockBlob(ctx, p.Hub, folder, etag)
	if err != nil {
		return false, 0, fmt.Errorf("lock blob: %w", err)
	}
	defer unlock()
	// Another process may have finished the blob while we waited.
	wasComplete := complete(blob, size)
	var fetched int64
	if !wasComplete {
		// A blob of the wrong size is damaged: it is replaced.
		if err := os.Remove(blob); err != nil && !errors.Is(err, os.ErrNotExist) {
			return false, 0, err
		}
		p.emit(Event{Kind: "start", File: f.Path, Size: size})
		if fetched, err = p.fetchBlob(ctx, meta, blob, algo, f.Path); err != nil {
			return false, fetched, err
		}
	}
	if err := cachewrite.Link(snapshot, f.Path, blob); err != nil {
		return false, fetched, err
	}
	p.emit(Event{Kind: "done", File: f.Path, Bytes: size, Size: size})
	return !wasComplete, fetched, nil
}

// fetchBlob downloads into blobs/<etag>.incomplete (resuming what an
// interrupted run left), verifies size and hash, and renames it into
// place. Only ever called under the blob's lock, the same .incomplete name
// Python 0.23–1.17 resumes from.
func (p *Puller) fetchBlob(ctx context.Context, meta hubclient.Meta, blob string, algo verify.Algo, name string) (int64, error) {
	tmp := blob + ".incomplete"
	out, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return 0, err
	}
	defer out.Close()
	h := newHash(algo, meta.Size)
	// Resume: hash what is already there, then append.
	have, err := io.Copy(h, io.LimitReader(out, meta.Size+1))
	if err != nil {
		return 0, err
	}
	if have > meta.Size {
		if err := truncate(out); err != nil {
			return 0, err
		}
		h, have = newHash(algo, meta.Size), 0
	}
	start := have
	restart := func() error {
		h = newHash(algo, meta.Size)
		return truncate(out)
	}
	w := writerFunc(func(b []byte) (int, error) {
		n, err := out.Write(b)
		h.Write(b[:n])
		return n, err
	})
	progress := func(done int64) { p.emit(Event{Kind: "progress", File: name, Bytes: done, Size: meta.Size}) }
	if err := p.Client.Download(ctx, meta, w, have, restart, progress); err != nil {
		return 0, err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != meta.ETag {
		os.Remove(tmp)
		return 0, fmt.Errorf("content hash %s does not match %s; the partial file was discarded", short(got), short(meta.ETag))
	}
	// No fsync, as huggingface_hub: a blob cut short by a crash is caught
	// by its size on the next pull and by its hash with health --verify,
	// and syncing gigabytes would halve the speed on common disks.
	if err := out.Close(); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp, blob); err != nil {
		return 0, err
	}
	return meta.Size - start, nil
}

func truncate(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.Seek(0, io.SeekStart)
	return err
}

func newHash(algo verify.Algo, size int64) hash.Hash {
	if algo == verify.GitSHA1 {
		h := sha1.New()
		fmt.Fprintf(h, "blob %d\x00", size)
		return h
	}
	return sha256.New()
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// complete reports whether a blob exists with the expected size.
func complete(blob string, size int64) bool {
	st, err := os.Stat(blob)
	return err == nil && st.Mode().IsRegular() && st.Size() == size
}

// linked reports whether the snapshot pointer resolves to blob.
func linked(snapshot, rel, blob string) bool {
	ptr := filepath.Join(snapshot, filepath.FromSlash(rel))
	target, err := os.Readlink(ptr)
	if err != nil {
		return false
	}
	if !filepath.IsAbs(target) {
		target = filepath.Join(filepath.Dir(ptr), target)
	}
	return filepath.Clean(target) == filepath.Clean(blob)
}

// safeRepoPath refuses server-supplied paths that could leave the
// snapshot (huggingface_hub's _validate_relative_filename, POSIX and
// Windows rules).
func safeRepoPath(p string) error {
	bad := p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, `\`) || strings.Contains(p, "\x00") ||
		len(p) >= 2 && p[1] == ':' || path.Clean(p) != p
	for _, seg := range strings.Split(p, "/") {
		bad = bad || seg == ".." || seg == "." || seg == ""
	}
	if bad {
		return fmt.Errorf("the Hub listed an unsafe file path %q; refusing to download", p)
	}
	return nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
