// Package hubpush uploads a workspace folder to a Hub repository branch
// the way huggingface_hub's upload_folder does, as a mirror: files that are
// new or changed are sent (LFS objects only when the Hub does not already
// hold them), files gone from the workspace are deleted, and nothing is
// committed when nothing changed.
package hubpush

import (
	"bufio"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	sha256 "github.com/minio/sha256-simd"

	"github.com/mlxk/mlxk/shared/hubpull"
	"github.com/mlxk/mlxk/shared/workspace"
)

// DefaultIgnore are the patterns never uploaded (mlx-knife's defaults, in
// its order), to which .hfignore adds its lines.
var DefaultIgnore = []string{
	"**/.git/**", "**/.git", "**/.DS_Store", ".DS_Store", "**/.hfignore", ".hfignore",
	"**/.gitignore", ".gitignore", "**/__pycache__/**", "**/.venv/**", "**/venv/**", "**/*.pyc",
	workspace.SentinelName, ".hf_cache/", ".cache/",
}

// IgnorePatterns returns the defaults followed by the lines of the
// workspace's .hfignore (blank lines and # comments skipped), without
// duplicates.
func IgnorePatterns(dir string) []string {
	out := slices.Clone(DefaultIgnore)
	f, err := os.Open(filepath.Join(dir, ".hfignore"))
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") && !slices.Contains(out, line) {
			out = append(out, line)
		}
	}
	return out
}

// Ignorer decides which workspace paths are not uploaded.
type Ignorer struct {
	pats []hubpull.Pattern
	raw  []string
}

// NewIgnorer compiles ignore patterns.
func NewIgnorer(patterns []string) (Ignorer, error) {
	ig := Ignorer{raw: patterns}
	for _, p := range patterns {
		c, err := hubpull.CompilePattern(p)
		if err != nil {
			return ig, fmt.Errorf("ignore pattern %q: %w", p, err)
		}
		ig.pats = append(ig.pats, c)
	}
	return ig, nil
}

// Ignored reports whether a slash-separated relative path is left out: a
// pattern equal to its base name or its path, an fnmatch match of the path
// (also with a leading "/", so "**/.git/**" covers a top-level .git), or of
// any path suffix (Python's PurePosixPath.match), or a folder pattern
// ("x/") naming one of its folders.
func (ig Ignorer) Ignored(rel string) bool {
	base := path.Base(rel)
	for i, p := range ig.pats {
		raw := ig.raw[i]
		// "/"+rel lets "**/x" patterns match at the top level too, as
		// git and huggingface_hub treat them.
		if raw == base || raw == rel || p.Match(rel) || p.Match("/"+rel) {
			return true
		}
		if strings.HasSuffix(raw, "/") && (strings.HasPrefix(rel, raw) || strings.Contains(rel, "/"+raw)) {
			return true
		}
		parts := strings.Split(rel, "/")
		for j := 1; j < len(parts); j++ {
			if p.Match(strings.Join(parts[j:], "/")) {
				return true
			}
		}
	}
	return false
}

// LocalFile is one file of the workspace to upload.
type LocalFile struct {
	Path   string // slash-separated, relative to the workspace
	Abs    string
	Size   int64
	SHA256 string // LFS object id
	GitSHA string // git blob id (only below the LFS threshold)
	Sample []byte // up to 512 leading bytes, for the preupload call
}

// regularLimit is the largest size a file may have to be sent inline
// (the Hub rejects larger regular files); only files below it need a git
// blob id.
const regularLimit = 10 << 20

// Collect lists and hashes the workspace's files that are not ignored, in
// path order. It never follows a symlinked folder.
func Collect(dir string, ig Ignorer) ([]LocalFile, int, error) {
	var files []LocalFile
	total := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if ig.Ignored(rel) || ig.Ignored(rel+"/") {
				return fs.SkipDir
			}
			return nil
		}
		total++
		if ig.Ignored(rel) {
			return nil
		}
		f, err := hashFile(p, rel)
		if err != nil {
			return err
		}
		files = append(files, f)
		return nil
	})
	slices.SortFunc(files, func(a, b LocalFile) int { return strings.Compare(a.Path, b.Path) })
	return files, total, err
}

func hashFile(abs, rel string) (LocalFile, error) {
	in, err := os.Open(abs)
	if err != nil {
		return LocalFile{}, err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return LocalFile{}, err
	}
	if !st.Mode().IsRegular() {
		return LocalFile{}, fmt.Errorf("%s is not a regular file", rel)
	}
	lf := LocalFile{Path: rel, Abs: abs, Size: st.Size()}
	s256 := sha256.New()
	var git hash.Hash
	w := io.Writer(s256)
	if st.Size() < regularLimit {
		git = sha1.New()
		fmt.Fprintf(git, "blob %d\x00", st.Size())
		w = io.MultiWriter(s256, git)
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(in, head)
	lf.Sample = head[:n]
	w.Write(lf.Sample)
	if _, err := io.Copy(w, in); err != nil {
		return LocalFile{}, fmt.Errorf("%s: %w", rel, err)
	}
	lf.SHA256 = hex.EncodeToString(s256.Sum(nil))
	if git != nil {
		lf.GitSHA = hex.EncodeToString(git.Sum(nil))
	}
	return lf, nil
}
