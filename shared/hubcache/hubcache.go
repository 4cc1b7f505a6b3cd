// Package hubcache reads the Hugging Face hub cache exactly as
// huggingface_hub lays it out: models--org--name folders holding blobs/,
// snapshots/<commit>/ with relative symlinks, and refs/<revision> files.
// It never writes and never locks; writers live in the pull and clone
// binaries.
package hubcache

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mlxk/mlxk/shared/fastio"
	"github.com/mlxk/mlxk/shared/modelref"
)

// Locate returns the hub cache directory the way huggingface_hub does:
// HF_HUB_CACHE, then HUGGINGFACE_HUB_CACHE, then $HF_HOME/hub, then
// $XDG_CACHE_HOME/huggingface/hub, then ~/.cache/huggingface/hub, with "~"
// and $VARS expanded. Unlike mlx-knife 2.0.3, which read only HF_HOME, this
// reads where huggingface_hub (and mlxk pull) write.
func Locate(getenv func(string) string, home string) string {
	if v := getenv("HF_HUB_CACHE"); v != "" {
		return expandPath(v, getenv, home)
	}
	if v := getenv("HUGGINGFACE_HUB_CACHE"); v != "" {
		return expandPath(v, getenv, home)
	}
	return filepath.Join(HFHome(getenv, home), "hub")
}

// HFHome returns the Hugging Face home: $HF_HOME, else
// $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface.
func HFHome(getenv func(string) string, home string) string {
	if v := getenv("HF_HOME"); v != "" {
		return expandPath(v, getenv, home)
	}
	if v := getenv("XDG_CACHE_HOME"); v != "" {
		return filepath.Join(expandPath(v, getenv, home), "huggingface")
	}
	return filepath.Join(home, ".cache", "huggingface")
}

// expandPath expands a leading "~" and $VARS as Python's expanduser and
// expandvars do: a variable that is unset (or empty) stays as written
// instead of collapsing to "", which would move the cache to "/hub".
func expandPath(p string, getenv func(string) string, home string) string {
	if p == "~" {
		p = home
	} else if strings.HasPrefix(p, "~/") {
		p = filepath.Join(home, p[2:])
	}
	return os.Expand(p, func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return "$" + k
	})
}

// Cache is a hub cache directory.
type Cache struct {
	Dir string
}

// Repo is one model folder in the cache.
type Repo struct {
	ID        string // repo id, e.g. "mlx-community/Phi-3-mini-4k-instruct-4bit"
	CacheName string // folder name, e.g. "models--mlx-community--Phi-3-mini-4k-instruct-4bit"
	Dir       string // absolute folder path
}

// Hidden reports whether the repo is the test-cache sentinel that
// mlx-knife's test suites plant; listings leave it out.
func (r Repo) Hidden() bool { return strings.Contains(r.CacheName, "TEST-CACHE-SENTINEL") }

// Repos returns the model folders of the cache sorted by repo id. A missing
// cache is an empty cache. Entries that are not directories are skipped.
func (c Cache) Repos() ([]Repo, error) {
	ents, err := os.ReadDir(c.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	repos := make([]Repo, 0, len(ents))
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, modelref.CachePrefix) {
			continue
		}
		dir := filepath.Join(c.Dir, name)
		if !e.IsDir() {
			if e.Type()&fs.ModeSymlink == 0 {
				continue
			}
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				continue
			}
		}
		repos = append(repos, Repo{ID: modelref.RepoIDFromCacheDir(name), CacheName: name, Dir: dir})
	}
	slices.SortFunc(repos, func(a, b Repo) int { return strings.Compare(a.ID, b.ID) })
	return repos, nil
}

// Repo returns the folder for a repo id, whether or not it exists.
func (c Cache) Repo(id string) Repo {
	name := modelref.CacheDirName(id)
	return Repo{ID: modelref.RepoIDFromCacheDir(name), CacheName: name, Dir: filepath.Join(c.Dir, name)}
}

// Snapshot is one snapshots/<name> folder.
type Snapshot struct {
	Name    string // usually a 40-hex commit
	Path    string
	ModTime time.Time
}

// Hash returns the commit id of the snapshot, or "" when its name is not a
// 40-hex commit.
func (s Snapshot) Hash() string {
	if modelref.IsCommitHash(s.Name) {
		return s.Name
	}
	return ""
}

// Snapshots returns the snapshot folders sorted by name. A repo without
// snapshots/ has none.
func (r Repo) Snapshots() ([]Snapshot, error) {
	dir := filepath.Join(r.Dir, "snapshots")
	d, err := fastio.OpenDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer d.Close()
	ents, err := d.Entries()
	if err != nil {
		return nil, err
	}
	var out []Snapshot
	for _, e := range ents {
		st, err := d.Stat(e.Name, true)
		if err != nil || st.Mode != fs.ModeDir {
			continue
		}
		out = append(out, Snapshot{Name: e.Name, Path: filepath.Join(dir, e.Name), ModTime: time.Unix(0, st.MTime)})
	}
	slices.SortFunc(out, func(a, b Snapshot) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Refs returns revision name → commit for every file under refs/, with
// nested names such as "refs/pr/1" kept as paths. Contents are trimmed, as
// huggingface_hub's resolve_revision does.
func (r Repo) Refs() (map[string]string, error) {
	root := filepath.Join(r.Dir, "refs")
	refs := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return nil // unreadable ref folders are skipped, not fatal
		}
		if d.IsDir() {
			return nil
		}
		b, err := readSmall(p, 1024)
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		refs[filepath.ToSlash(rel)] = strings.TrimSpace(string(b))
		return nil
	})
	return refs, err
}

// Current returns the snapshot a bare name means: the one refs/main points
// at when it is cached, otherwise the most recently modified snapshot.
// ok is false when the repo has no snapshots.
func (r Repo) Current() (snap Snapshot, ok bool, err error) {
	if b, err := readSmall(filepath.Join(r.Dir, "refs", "main"), 1024); err == nil {
		main := strings.TrimSpace(string(b))
		if main != "" && !strings.ContainsAny(main, `/\`) && main != "." && main != ".." {
			p := filepath.Join(r.Dir, "snapshots", main)
			if st, err := fastio.StatPath(p); err == nil && st.Mode == fs.ModeDir {
				return Snapshot{Name: main, Path: p, ModTime: time.Unix(0, st.MTime)}, true, nil
			}
		}
	}
	snaps, err := r.Snapshots()
	if err != nil || len(snaps) == 0 {
		return Snapshot{}, false, err
	}
	best := snaps[0]
	for _, s := range snaps[1:] {
		if s.ModTime.After(best.ModTime) || s.ModTime.Equal(best.ModTime) && s.Name > best.Name {
			best = s
		}
	}
	return best, true, nil
}

// IncompleteBlobs lists blobs/*.incomplete leftovers of interrupted
// downloads, as paths relative to the repo folder.
func (r Repo) IncompleteBlobs() []string {
	ents, err := os.ReadDir(filepath.Join(r.Dir, "blobs"))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".incomplete") {
			out = append(out, "blobs/"+e.Name())
		}
	}
	return out
}

// readSmall reads a small file such as a ref.
func readSmall(p string, limit int64) ([]byte, error) {
	return fastio.ReadFile(p, 0, limit)
}
