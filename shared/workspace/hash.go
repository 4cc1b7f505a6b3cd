package workspace

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// IndexEntry is one file of the content hash.
type IndexEntry struct {
	Path string `json:"path"`
	Size int64  `json:"size"`
	SHA  string `json:"sha"`
}

// Excludes are the names the content hash ignores: a folder pattern ends
// with "/", file patterns match the base name (fnmatch).
var Excludes = []string{
	".hf_cache/", SentinelName, ".git/", ".github/", "__pycache__/", ".vscode/", ".idea/", ".ipynb_checkpoints/",
	".mypy_cache/", ".pytest_cache/", ".ruff_cache/", ".tox/", "node_modules/", ".venv/", "venv/",
	"*.lock", "*.tmp", "*.log", "*.bak", ".DS_Store", "._*", "Thumbs.db", "desktop.ini", "*~", ".*.swp", ".*.swo",
}

// hugeFile is where the hash stops reading whole files (their name and
// size stand in), so hashing a workspace stays fast.
const hugeFile = 1 << 30

// maxHeader bounds a safetensors header.
const maxHeader = 100 << 20

// ErrUnhashable means the workspace holds something the hash cannot
// describe (a corrupt safetensors header, a link leaving the workspace).
var ErrUnhashable = errors.New("workspace content cannot be hashed")

// ContentHash computes the v2 content hash of a workspace: per file the
// sha256 of a safetensors header (the 8-byte length and the JSON it
// announces: tensors are described, their bytes not read), of the name
// and size for files over 1 GiB, or of the whole content; symlinks inside
// the workspace hash their target text. The aggregate is the sha256 of
// path, NUL and per-file hash for every file in path order.
func ContentHash(root string) (string, []IndexEntry, error) {
	var index []IndexEntry
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if excluded(d.Name(), d.IsDir()) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		e, err := hashEntry(root, p, rel, d)
		if err != nil {
			return err
		}
		index = append(index, e)
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	sort.Slice(index, func(i, j int) bool { return index[i].Path < index[j].Path })
	h := sha256.New()
	for _, e := range index {
		io.WriteString(h, e.Path+"\x00"+e.SHA)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), index, nil
}

func excluded(name string, dir bool) bool {
	for _, pat := range Excludes {
		if strings.HasSuffix(pat, "/") {
			if dir && name == strings.TrimSuffix(pat, "/") {
				return true
			}
			continue
		}
		if ok, _ := path.Match(pat, name); ok {
			return true
		}
	}
	return false
}

func hashEntry(root, p, rel string, d fs.DirEntry) (IndexEntry, error) {
	sum := func(b []byte) string { s := sha256.Sum256(b); return "sha256:" + hex.EncodeToString(s[:]) }
	if d.Type()&fs.ModeSymlink != 0 {
		t, err := os.Readlink(p)
		if err != nil {
			return IndexEntry{}, err
		}
		abs := t
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(filepath.Dir(p), t)
		}
		if r, err := filepath.Rel(root, filepath.Clean(abs)); err != nil || r == ".." || strings.HasPrefix(r, "../") {
			return IndexEntry{}, fmt.Errorf("%w: %s links outside the workspace", ErrUnhashable, rel)
		}
		return IndexEntry{Path: rel, SHA: sum([]byte("SYMLINK\x00" + t))}, nil
	}
	info, err := d.Info()
	if err != nil {
		return IndexEntry{}, err
	}
	e := IndexEntry{Path: rel, Size: info.Size()}
	f, err := os.Open(p)
	if err != nil {
		return e, err
	}
	defer f.Close()
	switch {
	case strings.HasSuffix(rel, ".safetensors"):
		var n [8]byte
		if _, err := io.ReadFull(f, n[:]); err != nil {
			return e, fmt.Errorf("%w: %s has no safetensors header", ErrUnhashable, rel)
		}
		size := binary.LittleEndian.Uint64(n[:])
		if size == 0 || size > maxHeader {
			return e, fmt.Errorf("%w: %s has a safetensors header of %d bytes", ErrUnhashable, rel, size)
		}
		h := sha256.New()
		h.Write(n[:])
		if _, err := io.CopyN(h, f, int64(size)); err != nil {
			return e, fmt.Errorf("%w: %s: short safetensors header", ErrUnhashable, rel)
		}
		e.SHA = "sha256:" + hex.EncodeToString(h.Sum(nil))
	case info.Size() > hugeFile:
		e.SHA = sum([]byte(fmt.Sprintf("%s\x00%d", path.Base(rel), info.Size())))
	default:
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return e, err
		}
		e.SHA = "sha256:" + hex.EncodeToString(h.Sum(nil))
	}
	return e, nil
}
