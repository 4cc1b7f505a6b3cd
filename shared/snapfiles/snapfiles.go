// Package snapfiles lists the files of one snapshot (or workspace) folder in
// a single pass, following the snapshot's symlinks into blobs/, so that
// health, detection, sizes and verification all read the same picture
// without walking the tree twice.
//
// A symlink whose target is missing, or loops, is listed as Broken instead
// of failing the walk: in a hub cache it means a blob is gone, which is a
// health finding, not a crash.
package snapfiles

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/mlxk/mlxk/shared/fastio"
)

// File is one non-directory entry under the snapshot.
type File struct {
	Rel    string // slash-separated path relative to the snapshot
	Size   int64  // size of the target (0 when Broken)
	IsLink bool   // a symlink (in a hub cache: into blobs/)
	Broken bool   // a symlink whose target cannot be reached
	// Irregular marks a target that is neither a regular file nor a
	// directory (a FIFO or a device): it is never opened.
	Irregular bool
}

// Base returns the file name without folders.
func (f File) Base() string { return path.Base(f.Rel) }

// Listing is the result of Scan.
type Listing struct {
	Dir    string
	Exists bool
	Files  []File // sorted by Rel
	// Unreadable lists folders (relative, "." for the root) that could not
	// be read; their contents are missing from Files.
	Unreadable []string
	index      map[string]int
}

// Scan walks dir once. It never fails: problems are recorded in the
// listing. Symlinks are followed to their targets for sizes, but their
// link text is not read (see Target). Each file costs one stat relative to
// its open folder (package fastio).
func Scan(dir string) Listing {
	l := Listing{Dir: dir}
	d, err := fastio.OpenDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return l
		}
		l.Exists = true
		l.Unreadable = []string{"."}
		return l
	}
	l.Exists = true
	walk(&l, d, dir, "")
	sort.Slice(l.Files, func(i, j int) bool { return l.Files[i].Rel < l.Files[j].Rel })
	l.index = make(map[string]int, len(l.Files))
	for i, f := range l.Files {
		l.index[f.Rel] = i
	}
	return l
}

// walk lists the open folder d (abs, rel from the root) into l and closes
// it, recursing into real subfolders only: a symlinked folder is not
// followed, so there are no cycles.
func walk(l *Listing, d fastio.Dir, abs, rel string) {
	defer d.Close()
	ents, err := d.Entries()
	if err != nil {
		l.Unreadable = append(l.Unreadable, relOrDot(rel))
	}
	for _, e := range ents {
		childRel := e.Name
		if rel != "" {
			childRel = rel + "/" + e.Name
		}
		typ := e.Type
		if typ == fastio.Unknown {
			st, err := d.Stat(e.Name, false)
			if err != nil {
				continue // vanished while listing
			}
			typ = st.Mode
		}
		if typ == fs.ModeDir {
			childAbs := filepath.Join(abs, e.Name)
			sub, err := fastio.OpenDir(childAbs)
			if err != nil {
				l.Unreadable = append(l.Unreadable, childRel)
				continue
			}
			walk(l, sub, childAbs, childRel)
			continue
		}
		f := File{Rel: childRel, IsLink: typ == fs.ModeSymlink}
		st, err := d.Stat(e.Name, true)
		switch {
		case err != nil:
			f.Broken = true
		case st.Mode == fs.ModeDir:
			continue // a linked folder is not followed
		default:
			f.Size = st.Size
			f.Irregular = st.Mode != 0
		}
		l.Files = append(l.Files, f)
	}
}

func relOrDot(rel string) string {
	if rel == "" {
		return "."
	}
	return rel
}

// Target returns the link text of a symlinked file (for a hub cache,
// "../../blobs/<etag>"), or "" for a regular file or on error.
func (l Listing) Target(f File) string {
	if !f.IsLink {
		return ""
	}
	t, err := os.Readlink(l.Abs(f))
	if err != nil {
		return ""
	}
	return t
}

// Get returns the file at a slash-separated relative path. Paths that
// would leave the snapshot ("..", absolute) are never found.
func (l Listing) Get(rel string) (File, bool) {
	rel = path.Clean(strings.TrimPrefix(rel, "./"))
	if strings.HasPrefix(rel, "../") || rel == ".." || strings.HasPrefix(rel, "/") {
		return File{}, false
	}
	i, ok := l.index[rel]
	if !ok {
		return File{}, false
	}
	return l.Files[i], true
}

// Present reports whether rel exists and can be read (not Broken).
func (l Listing) Present(rel string) bool {
	f, ok := l.Get(rel)
	return ok && !f.Broken
}

// TotalSize sums the sizes of all reachable files.
func (l Listing) TotalSize() int64 {
	var n int64
	for _, f := range l.Files {
		n += f.Size
	}
	return n
}

// Abs returns the absolute path of a listed file.
func (l Listing) Abs(f File) string { return filepath.Join(l.Dir, filepath.FromSlash(f.Rel)) }

// Errors returned by ReadFile.
var (
	ErrMissing   = errors.New("missing")
	ErrTooLarge  = errors.New("too large")
	ErrIrregular = errors.New("not a regular file")
)

// ReadFile reads a listed file of at most limit bytes. Missing and broken
// files give ErrMissing; FIFOs and devices ErrIrregular (they are never
// opened, so a hostile snapshot cannot block the reader).
func (l Listing) ReadFile(rel string, limit int64) ([]byte, error) {
	f, ok := l.Get(rel)
	if !ok || f.Broken {
		return nil, ErrMissing
	}
	if f.Irregular {
		return nil, ErrIrregular
	}
	if f.Size > limit {
		return nil, fmt.Errorf("%s: %w (%d bytes, limit %d)", rel, ErrTooLarge, f.Size, limit)
	}
	b, err := fastio.ReadFile(l.Abs(f), f.Size, limit)
	if errors.Is(err, fastio.ErrTooLarge) {
		return nil, fmt.Errorf("%s: %w (grew past the limit of %d)", rel, ErrTooLarge, limit)
	}
	return b, err
}

// Head returns up to n leading bytes of a listed file, or nil when it cannot
// be read.
func (l Listing) Head(f File, n int) []byte {
	if f.Broken || f.Irregular {
		return nil
	}
	b, err := fastio.ReadPrefix(l.Abs(f), int(min(int64(n), f.Size)))
	if err != nil {
		return nil
	}
	return b
}

// lfsMarker starts every Git LFS pointer file.
var lfsMarker = []byte("version https://git-lfs.github.com/spec/v1")

// IsLFSPointer reports whether f is a Git LFS pointer left where the real
// content should be: smaller than 200 bytes with the LFS marker in its
// first 100 bytes (mlx-knife's rule).
func (l Listing) IsLFSPointer(f File) bool {
	if f.Broken || f.Size >= 200 || f.Size < int64(len(lfsMarker)) {
		return false // too large, or too small to hold the marker: no read
	}
	return bytes.Contains(l.Head(f, 100), lfsMarker)
}

// ConfigLimit bounds JSON files read for metadata (config.json,
// tokenizer_config.json, index files): real ones are kilobytes; larger ones
// are treated as hostile rather than read into memory.
const ConfigLimit = 16 << 20

// JSONStatus classifies the outcome of ReadJSONObject.
type JSONStatus int

const (
	JSONOK        JSONStatus = iota
	JSONMissing              // absent or a dangling symlink
	JSONInvalid              // not parseable JSON, unreadable, irregular or too large
	JSONNotObject            // valid JSON but not an object, or an empty object
)

// ReadJSONObject reads and parses a JSON object file of the snapshot.
func (l Listing) ReadJSONObject(rel string) (map[string]any, JSONStatus, error) {
	b, err := l.ReadFile(rel, ConfigLimit)
	if errors.Is(err, ErrMissing) {
		return nil, JSONMissing, err
	}
	if err != nil {
		return nil, JSONInvalid, err
	}
	return ParseJSONObject(b)
}

// ParseJSONObject parses b as a non-empty JSON object.
func ParseJSONObject(b []byte) (map[string]any, JSONStatus, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, JSONInvalid, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, JSONInvalid, errors.New("trailing data after JSON value")
	}
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return nil, JSONNotObject, errors.New("not a non-empty JSON object")
	}
	return m, JSONOK, nil
}
