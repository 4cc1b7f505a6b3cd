package hubtest

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/mlxk/mlxk/shared/cachewrite"
)

// DefaultGitattributes is the .gitattributes the Hub puts in every new
// repo. Repos here get none unless a test adds it, so that the files a test
// serves are exactly the files it wrote.
const DefaultGitattributes = `*.7z filter=lfs diff=lfs merge=lfs -text
*.arrow filter=lfs diff=lfs merge=lfs -text
*.bin filter=lfs diff=lfs merge=lfs -text
*.bz2 filter=lfs diff=lfs merge=lfs -text
*.ckpt filter=lfs diff=lfs merge=lfs -text
*.ftz filter=lfs diff=lfs merge=lfs -text
*.gguf filter=lfs diff=lfs merge=lfs -text
*.gz filter=lfs diff=lfs merge=lfs -text
*.h5 filter=lfs diff=lfs merge=lfs -text
*.joblib filter=lfs diff=lfs merge=lfs -text
*.lfs.* filter=lfs diff=lfs merge=lfs -text
*.mlmodel filter=lfs diff=lfs merge=lfs -text
*.model filter=lfs diff=lfs merge=lfs -text
*.msgpack filter=lfs diff=lfs merge=lfs -text
*.npy filter=lfs diff=lfs merge=lfs -text
*.npz filter=lfs diff=lfs merge=lfs -text
*.onnx filter=lfs diff=lfs merge=lfs -text
*.ot filter=lfs diff=lfs merge=lfs -text
*.parquet filter=lfs diff=lfs merge=lfs -text
*.pb filter=lfs diff=lfs merge=lfs -text
*.pickle filter=lfs diff=lfs merge=lfs -text
*.pkl filter=lfs diff=lfs merge=lfs -text
*.pt filter=lfs diff=lfs merge=lfs -text
*.pth filter=lfs diff=lfs merge=lfs -text
*.rar filter=lfs diff=lfs merge=lfs -text
*.safetensors filter=lfs diff=lfs merge=lfs -text
saved_model/**/* filter=lfs diff=lfs merge=lfs -text
*.tar.* filter=lfs diff=lfs merge=lfs -text
*.tar filter=lfs diff=lfs merge=lfs -text
*.tflite filter=lfs diff=lfs merge=lfs -text
*.tgz filter=lfs diff=lfs merge=lfs -text
*.wasm filter=lfs diff=lfs merge=lfs -text
*.xz filter=lfs diff=lfs merge=lfs -text
*.zip filter=lfs diff=lfs merge=lfs -text
*.zst filter=lfs diff=lfs merge=lfs -text
*tfevents* filter=lfs diff=lfs merge=lfs -text
`

// defaultLastModified is what info reports when a repo sets no time: fixed,
// so that outputs are the same on every run.
var defaultLastModified = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Commit is the content of one revision.
type Commit struct {
	// ID forces the commit id (40 lowercase hex digits); empty derives it
	// from the files (see the package doc).
	ID string
	// Files maps a slash-separated repo path to the file's content.
	Files map[string][]byte
}

// RepoOptions are the visibility settings of a repo.
type RepoOptions struct {
	Private  bool // only the org's user and ApprovedTokens see it
	Gated    bool // "manual" gating: downloads need an approved token
	Disabled bool // every request answers 403 "Access to this resource is disabled."
	// ApprovedTokens may read the repo when it is private and download
	// from it when it is gated.
	ApprovedTokens []string
	// LastModified is reported by the info endpoint; zero means
	// 2024-01-01T00:00:00Z.
	LastModified time.Time
}

// Repo is a repo to serve.
type Repo struct {
	RepoOptions
	// Branches maps a branch name ("main", "dev", "refs/pr/1") to its
	// head commit. Names starting with refs/pr/ are listed as pull
	// requests by the refs endpoint.
	Branches map[string]Commit
	// Tags maps a tag name to a branch name or a commit id of the repo.
	Tags map[string]string
}

// file is one file of a commit with every hash a client may ask for.
type file struct {
	path    string
	content []byte
	lfs     bool
	// blobID is the git blob sha1 of what git stores: the content for a
	// regular file, the pointer for an LFS file.
	blobID string
	// sha256 of the content, LFS files only: their etag in the cache.
	sha256      string
	pointerSize int
}

// etag is the name the cache gives the file's blob.
func (f *file) etag() string {
	if f.lfs {
		return f.sha256
	}
	return f.blobID
}

type commit struct {
	id    string
	files map[string]*file
	paths []string // sorted
	// parent and title are set for commits made through the commit API;
	// commits given to AddRepo have neither.
	parent, title string
}

// repo is never changed once served: writes (commits, branches) build a
// changed copy with clone and swap it into Hub.repos under h.mu, so that
// handlers holding the old one read a consistent state without locks.
type repo struct {
	id       string
	opts     RepoOptions
	branches map[string]*commit
	tags     map[string]*commit
	commits  map[string]*commit // every commit ever served, by id
}

// clone copies the maps of rp (the commits themselves are immutable).
func (rp *repo) clone() *repo {
	c := *rp
	c.branches = maps.Clone(rp.branches)
	c.tags = maps.Clone(rp.tags)
	c.commits = maps.Clone(rp.commits)
	return &c
}

// lfsPointer is the Git LFS pointer text git stores instead of the content.
func lfsPointer(sha256hex string, size int) string {
	return fmt.Sprintf("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n", sha256hex, size)
}

// gitBlobSHA1 is git's object id of a blob: sha1("blob <n>\0" + content).
func gitBlobSHA1(content []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(content))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}

// newFile is a file of a repo given to AddRepo: LFS exactly when the Hub's
// default .gitattributes (or the size) would make it one.
func newFile(p string, content []byte) *file {
	return makeFile(p, content, cachewrite.IsLFS(p, int64(len(content))))
}

// makeFile is a file whose storage is decided by the caller, as a commit
// decides it: lfsFile operations make LFS files, file operations regular
// ones, whatever the name.
func makeFile(p string, content []byte, lfs bool) *file {
	f := &file{path: p, content: content, lfs: lfs}
	if !f.lfs {
		f.blobID = gitBlobSHA1(content)
		return f
	}
	sum := sha256.Sum256(content)
	f.sha256 = hex.EncodeToString(sum[:])
	ptr := lfsPointer(f.sha256, len(content))
	f.pointerSize = len(ptr)
	f.blobID = gitBlobSHA1([]byte(ptr))
	return f
}

// newCommit builds a commit; content is copied so a test that reuses its
// map cannot change what the hub serves.
func newCommit(c Commit) (*commit, error) {
	cm := &commit{files: make(map[string]*file, len(c.Files))}
	for p, content := range c.Files {
		if p == "" || strings.ContainsRune(p, 0) {
			return nil, fmt.Errorf("file path %q is empty or contains NUL", p)
		}
		cm.files[p] = newFile(p, slices.Clone(content))
	}
	cm.paths = slices.Sorted(maps.Keys(cm.files))
	cm.id = c.ID
	if cm.id == "" {
		// The derivation cachewrite.Write uses, so both agree on a folder.
		h := sha1.New()
		for _, p := range cm.paths {
			fmt.Fprintf(h, "%s %s\n", p, cm.files[p].etag())
		}
		cm.id = hex.EncodeToString(h.Sum(nil))
	} else if !isCommitID(cm.id) {
		return nil, fmt.Errorf("commit id %q is not 40 lowercase hex digits", cm.id)
	}
	return cm, nil
}

func isCommitID(s string) bool { return isLowerHex(s, 40) }

// isLowerHex reports whether s is n lowercase hex digits.
func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// checkRepoID accepts org/name with two non-empty parts; it is laxer than
// the client's validation on purpose, so tests can serve odd names.
func checkRepoID(id string) error {
	org, name, ok := strings.Cut(id, "/")
	if !ok || org == "" || name == "" || strings.Contains(name, "/") ||
		org == "." || org == ".." || name == "." || name == ".." {
		return fmt.Errorf("repo id %q is not org/name", id)
	}
	return nil
}

// buildRepo turns a Repo into the served model; old keeps the commits of
// the repo it replaces reachable by id.
func buildRepo(id string, r Repo, old *repo) (*repo, error) {
	if err := checkRepoID(id); err != nil {
		return nil, err
	}
	rp := &repo{
		id:       id,
		opts:     r.RepoOptions,
		branches: map[string]*commit{},
		tags:     map[string]*commit{},
		commits:  map[string]*commit{},
	}
	rp.opts.ApprovedTokens = slices.Clone(r.ApprovedTokens)
	if old != nil {
		maps.Copy(rp.commits, old.commits)
	}
	for name, c := range r.Branches {
		if name == "" {
			return nil, fmt.Errorf("repo %s: empty branch name", id)
		}
		cm, err := newCommit(c)
		if err != nil {
			return nil, fmt.Errorf("repo %s branch %s: %w", id, name, err)
		}
		rp.branches[name] = cm
		rp.commits[cm.id] = cm
	}
	for tag, target := range r.Tags {
		cm := rp.branches[target]
		if cm == nil {
			cm = rp.commits[target]
		}
		if cm == nil {
			return nil, fmt.Errorf("repo %s tag %s: %q is neither a branch nor a commit of the repo", id, tag, target)
		}
		rp.tags[tag] = cm
	}
	return rp, nil
}

// resolve finds the commit a revision names: a branch, a tag (also spelt
// refs/heads/<b> and refs/tags/<t>), a commit id, or a commit prefix of 7
// or more hex digits that names exactly one commit (as git, and the Hub,
// accept short hashes).
func (rp *repo) resolve(rev string) *commit {
	if c := rp.branches[rev]; c != nil {
		return c
	}
	if c := rp.tags[rev]; c != nil {
		return c
	}
	if b, ok := strings.CutPrefix(rev, "refs/heads/"); ok {
		return rp.branches[b]
	}
	if t, ok := strings.CutPrefix(rev, "refs/tags/"); ok {
		return rp.tags[t]
	}
	if c := rp.commits[rev]; c != nil {
		return c
	}
	if len(rev) < 7 || len(rev) >= 40 || strings.Trim(rev, "0123456789abcdef") != "" {
		return nil
	}
	var hit *commit
	for id, c := range rp.commits {
		if strings.HasPrefix(id, rev) {
			if hit != nil {
				return nil // ambiguous
			}
			hit = c
		}
	}
	return hit
}

// treeEntry is one item of the tree API (§3.3).
type treeEntry struct {
	Type string    `json:"type"`
	OID  string    `json:"oid"`
	Size int64     `json:"size"`
	Path string    `json:"path"`
	LFS  *lfsEntry `json:"lfs,omitempty"`
}

type lfsEntry struct {
	OID         string `json:"oid"`
	Size        int64  `json:"size"`
	PointerSize int    `json:"pointerSize"`
}

// tree lists the folder dir ("" for the root), recursively or not, in
// path order. ok is false when dir is not a folder of the commit.
func (c *commit) tree(dir string, recursive bool) (entries []treeEntry, ok bool) {
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	dirs := map[string][]*file{} // folder path → every file below it
	var files []*file
	for _, p := range c.paths {
		rest, below := strings.CutPrefix(p, prefix)
		if !below {
			continue
		}
		ok = true
		f := c.files[p]
		parts := strings.Split(rest, "/")
		for i := 1; i < len(parts); i++ {
			if !recursive && i > 1 {
				break
			}
			d := prefix + strings.Join(parts[:i], "/")
			dirs[d] = append(dirs[d], f)
		}
		if recursive || len(parts) == 1 {
			files = append(files, f)
		}
	}
	for d, under := range dirs {
		entries = append(entries, treeEntry{Type: "directory", OID: treeOID(d, under), Path: d})
	}
	for _, f := range files {
		e := treeEntry{Type: "file", OID: f.blobID, Size: int64(len(f.content)), Path: f.path}
		if f.lfs {
			e.LFS = &lfsEntry{OID: f.sha256, Size: int64(len(f.content)), PointerSize: f.pointerSize}
		}
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b treeEntry) int { return strings.Compare(a.Path, b.Path) })
	return entries, ok
}

// treeOID is a stand-in for git's tree sha1: stable and different for
// different content, which is all a client can rely on.
func treeOID(dir string, files []*file) string {
	h := sha1.New()
	fmt.Fprintf(h, "tree %s\n", dir)
	for _, f := range files {
		fmt.Fprintf(h, "%s %s\n", f.path, f.blobID)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// AddRepo adds the repo id ("org/name"), or replaces it; the commits of a
// replaced repo stay resolvable by id.
func (h *Hub) AddRepo(id string, r Repo) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	rp, err := buildRepo(id, r, h.repos[id])
	if err != nil {
		return err
	}
	h.repos[id] = rp
	for _, c := range rp.commits {
		for _, f := range c.files {
			if f.lfs {
				h.addObject(f)
			}
		}
	}
	return nil
}

// AddRepoFromDir adds the repo id whose main branch holds the files under
// dir (paths relative to dir).
func (h *Hub) AddRepoFromDir(id, dir string, opts RepoOptions) error {
	files, err := readTree(dir)
	if err != nil {
		return fmt.Errorf("repo %s: %w", id, err)
	}
	return h.AddRepo(id, Repo{RepoOptions: opts, Branches: map[string]Commit{"main": {Files: files}}})
}

// CommitID returns the commit a revision of a repo resolves to, so tests
// can check the refs a client writes.
func (h *Hub) CommitID(id, rev string) (string, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	rp := h.repos[id]
	if rp == nil {
		return "", fmt.Errorf("no repo %s", id)
	}
	c := rp.resolve(rev)
	if c == nil {
		return "", fmt.Errorf("repo %s has no revision %q", id, rev)
	}
	return c.id, nil
}

// Repos lists the ids of the served repos, sorted.
func (h *Hub) Repos() []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return slices.Sorted(maps.Keys(h.repos))
}

// RemoveRepo deletes a repo; afterwards it answers RepoNotFound.
func (h *Hub) RemoveRepo(id string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.repos[id] == nil {
		return errors.New("no repo " + id)
	}
	delete(h.repos, id)
	return nil
}
