package live

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mlxk/mlxk/shared/cachewrite"
	"github.com/mlxk/mlxk/shared/modelref"
	"github.com/mlxk/mlxk/shared/workspace"
)

// SentinelRepo is the repo a test cache carries to say what it is. Its
// name follows MLX Knife's TEST-CACHE-SENTINEL convention, which every
// mlxk listing hides.
const SentinelRepo = "TEST-CACHE-SENTINEL/mlxk-live"

// ErrNotTestCache is returned by every destructive step asked to touch a
// path that is not inside a test cache this process created.
var ErrNotTestCache = errors.New("refusing to modify: not a live-test cache")

// ErrTooLargeToCopy says a model's smallest weight file is above the copy
// limit, so the test that needs a copy is skipped.
var ErrTooLargeToCopy = errors.New("smallest weight file is above the copy limit")

// TestCache is an isolated hub cache (an HF_HOME) for the live tests that
// change files. It is created empty with a sentinel holding a random
// token; Guard accepts a path only while the sentinel still holds that
// token and the path lies inside the cache and outside the source cache.
type TestCache struct {
	// Home is the HF_HOME of the test cache; the hub cache is Home/hub.
	Home   string
	token  string
	source string // the cache under test, resolved; never writable here
}

// NewTestCache creates a test cache in a new folder under parent. source
// is the HF_HOME (or hub folder) of the cache under test, which the test
// cache must neither be nor contain nor lie in.
func NewTestCache(parent, source string) (*TestCache, error) {
	home, err := os.MkdirTemp(parent, "mlxk-live-cache-")
	if err != nil {
		return nil, fmt.Errorf("test cache: %w", err)
	}
	home, err = filepath.EvalSymlinks(home)
	if err != nil {
		return nil, fmt.Errorf("test cache: %w", err)
	}
	src, err := resolvedAbs(source)
	if err != nil {
		return nil, fmt.Errorf("test cache: source %s: %w", source, err)
	}
	if within(home, src) || within(src, home) {
		os.RemoveAll(home)
		return nil, fmt.Errorf("%w: %s overlaps the cache under test %s", ErrNotTestCache, home, src)
	}
	var b [16]byte
	rand.Read(b[:])
	tc := &TestCache{Home: home, token: hex.EncodeToString(b[:]), source: src}
	dir := tc.sentinelDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("test cache: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(tc.token), 0o644); err != nil {
		return nil, fmt.Errorf("test cache: %w", err)
	}
	return tc, nil
}

// Hub is the test cache's hub folder.
func (c *TestCache) Hub() string { return filepath.Join(c.Home, "hub") }

func (c *TestCache) sentinelDir() string {
	return filepath.Join(c.Hub(), modelref.CacheDirName(SentinelRepo))
}

// Guard returns nil only when path may be modified: it lies inside this
// test cache (after resolving symlinks of its folder), outside the cache
// under test, and the sentinel still holds this cache's token.
func (c *TestCache) Guard(path string) error {
	if c == nil || c.token == "" {
		return fmt.Errorf("%w: no test cache", ErrNotTestCache)
	}
	b, err := os.ReadFile(filepath.Join(c.sentinelDir(), "token"))
	if err != nil || string(b) != c.token {
		return fmt.Errorf("%w: %s has no sentinel of this run", ErrNotTestCache, c.Home)
	}
	p, err := resolvedAbs(path)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrNotTestCache, path, err)
	}
	if !within(p, c.Home) || p == c.Home {
		return fmt.Errorf("%w: %s is outside %s", ErrNotTestCache, path, c.Home)
	}
	if within(p, c.source) {
		return fmt.Errorf("%w: %s is in the cache under test", ErrNotTestCache, path)
	}
	return nil
}

// Remove deletes the test cache (after checking its sentinel).
func (c *TestCache) Remove() error {
	if err := c.Guard(c.sentinelDir()); err != nil {
		return err
	}
	return os.RemoveAll(c.Home)
}

// resolvedAbs makes p absolute and resolves the symlinks of its longest
// existing prefix, so a path and its real location compare equal.
func resolvedAbs(p string) (string, error) {
	p, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	rest := ""
	for cur := p; ; {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(r, rest), nil
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return p, nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// within reports whether p is dir or inside it.
func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// Copied is a model copied into a test cache.
type Copied struct {
	Repo string
	// Snapshot is the copied snapshot folder.
	Snapshot string
	// Files are the repo paths copied; Weight is the weight file among them.
	Files  []string
	Weight string
}

// CopyMinimal copies the least of a model that a health test needs into
// the test cache: every file of the snapshot that is not a weight file,
// and the smallest weight file, each as a blob with the snapshot symlink
// and ref that point at it, exactly as the source cache has them. It
// refuses (ErrTooLargeToCopy) when the smallest weight file is larger than
// limit bytes.
func (c *TestCache) CopyMinimal(sourceHub, repo, commit string, limit int64) (Copied, error) {
	srcRepo := filepath.Join(sourceHub, modelref.CacheDirName(repo))
	srcSnap := filepath.Join(srcRepo, "snapshots", commit)
	type file struct {
		rel  string
		size int64
	}
	var others []file
	var weights []file
	err := filepath.WalkDir(srcSnap, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(srcSnap, p)
		f := file{filepath.ToSlash(rel), st.Size()}
		if strings.HasSuffix(f.rel, ".safetensors") {
			weights = append(weights, f)
		} else {
			others = append(others, f)
		}
		return nil
	})
	if err != nil {
		return Copied{}, fmt.Errorf("copy %s: %w", repo, err)
	}
	if len(weights) == 0 {
		return Copied{}, fmt.Errorf("copy %s: the snapshot has no safetensors file", repo)
	}
	sort.Slice(weights, func(i, j int) bool {
		return weights[i].size < weights[j].size || weights[i].size == weights[j].size && weights[i].rel < weights[j].rel
	})
	w := weights[0]
	if w.size > limit {
		return Copied{}, fmt.Errorf("%w: %s is %s, limit %s (MLXK_LIVE_COPY_LIMIT)", ErrTooLargeToCopy, w.rel,
			FormatBytes(uint64(w.size)), FormatBytes(uint64(limit)))
	}
	dstRepo := filepath.Join(c.Hub(), modelref.CacheDirName(repo))
	out := Copied{Repo: repo, Snapshot: filepath.Join(dstRepo, "snapshots", commit), Weight: w.rel}
	for _, f := range append(others, w) {
		if err := c.copyEntry(srcSnap, out.Snapshot, f.rel); err != nil {
			return Copied{}, fmt.Errorf("copy %s: %w", repo, err)
		}
		out.Files = append(out.Files, f.rel)
	}
	if err := c.Guard(filepath.Join(dstRepo, "refs")); err != nil {
		return Copied{}, err
	}
	if err := cachewrite.WriteRef(dstRepo, "main", commit); err != nil {
		return Copied{}, err
	}
	return out, nil
}

// copyEntry copies one snapshot entry: a symlink into blobs/ becomes the
// same symlink and a copy of its blob; a plain file is copied as it is.
func (c *TestCache) copyEntry(srcSnap, dstSnap, rel string) error {
	src := filepath.Join(srcSnap, filepath.FromSlash(rel))
	dst := filepath.Join(dstSnap, filepath.FromSlash(rel))
	if err := c.Guard(dst); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	target, err := os.Readlink(src)
	if err != nil { // not a symlink: a real file in the snapshot
		_, err := workspace.CopyFile(src, dst)
		return err
	}
	blobSrc := filepath.Join(filepath.Dir(src), target)
	blobDst := filepath.Join(filepath.Dir(dst), target)
	if err := c.Guard(blobDst); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(blobDst), 0o755); err != nil {
		return err
	}
	if _, err := os.Stat(blobDst); errors.Is(err, fs.ErrNotExist) {
		if _, err := workspace.CopyFile(blobSrc, blobDst); err != nil {
			return err
		}
	}
	return os.Symlink(target, dst)
}

// Damage flips every bit of one byte in the middle of the file behind
// path (a snapshot entry of the test cache), as silent disk corruption
// would; the size stays the same.
func (c *TestCache) Damage(path string) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("damage %s: %w", path, err)
	}
	if err := c.Guard(path); err != nil {
		return err
	}
	if err := c.Guard(real); err != nil {
		return err
	}
	f, err := os.OpenFile(real, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("damage %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return fmt.Errorf("damage %s: empty or unreadable file", path)
	}
	var b [1]byte
	off := st.Size() / 2
	if _, err := f.ReadAt(b[:], off); err != nil {
		return fmt.Errorf("damage %s: %w", path, err)
	}
	b[0] ^= 0xFF
	if _, err := f.WriteAt(b[:], off); err != nil {
		return fmt.Errorf("damage %s: %w", path, err)
	}
	return f.Close()
}
