package live

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/mlxk/mlxk/shared/verify"
)

// Tree is a fingerprint of a folder tree: one line per entry with its
// relative path, kind, permissions, size, modification time, and the
// sha256 of a file's bytes or a symlink's target. Two fingerprints of the
// same tree are equal exactly when nothing in it was created, removed,
// renamed, written, truncated, re-linked or re-permissioned (a folder's
// modification time changes when an entry is added or removed, even if
// it is removed again).
type Tree struct {
	Root    string
	Entries map[string]string // relative path → description
}

// HashTree fingerprints root. With content it reads every file (with up
// to two readers at a time, to leave the machine to the tests); without,
// it records each entry's inode change time instead, which the kernel
// moves on every write, chmod, link or rename and no program can set
// back: as strict for "was anything changed", and instant on a cache of
// hundreds of gigabytes.
func HashTree(root string, content bool) (*Tree, error) {
	t := &Tree{Root: root, Entries: map[string]string{}}
	type job struct{ rel, path string }
	var files []job
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		head := fmt.Sprintf("mode=%v mtime=%d", info.Mode(), info.ModTime().UnixNano())
		if !content {
			head += fmt.Sprintf(" ctime=%d", changeTime(info))
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			t.Entries[rel] = "link " + target + " " + head
		case d.IsDir():
			t.Entries[rel] = "dir " + head
		case d.Type().IsRegular():
			t.Entries[rel] = fmt.Sprintf("file size=%d %s", info.Size(), head)
			if content {
				files = append(files, job{rel, p})
			}
		default:
			t.Entries[rel] = "other " + head
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("hash tree %s: %w", root, err)
	}
	var (
		mu       sync.Mutex
		firstErr error
	)
	pool := verify.NewPool(2)
	for _, j := range files {
		pool.Submit(verify.Job{Path: j.path, Algo: verify.SHA256}, func(r verify.Result) {
			mu.Lock()
			defer mu.Unlock()
			if r.Err != nil && firstErr == nil {
				firstErr = r.Err
			}
			t.Entries[j.rel] += " sha256=" + r.Digest
		})
	}
	pool.Wait()
	if firstErr != nil {
		return nil, fmt.Errorf("hash tree %s: %w", root, firstErr)
	}
	return t, nil
}

// Lines are the entries as sorted "path: description" lines.
func (t *Tree) Lines() []string {
	out := make([]string, 0, len(t.Entries))
	for p, d := range t.Entries {
		out = append(out, p+": "+d)
	}
	sort.Strings(out)
	return out
}

// Digest is the sha256 of Lines: one value for the whole tree.
func (t *Tree) Digest() string {
	h := sha256.New()
	for _, l := range t.Lines() {
		io.WriteString(h, l+"\n")
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Diff lists what differs from before to t: "+ path" (new), "- path"
// (gone), "~ path: before → after" (changed). Empty when identical.
func (t *Tree) Diff(before *Tree) []string {
	var out []string
	for p, d := range before.Entries {
		now, ok := t.Entries[p]
		switch {
		case !ok:
			out = append(out, "- "+p)
		case now != d:
			out = append(out, fmt.Sprintf("~ %s: %s → %s", p, d, now))
		}
	}
	for p := range t.Entries {
		if _, ok := before.Entries[p]; !ok {
			out = append(out, "+ "+p)
		}
	}
	sort.Strings(out)
	return out
}

// WriteTo writes the digest and then the lines, the form the testscript
// command prints and compares.
func (t *Tree) WriteTo(w io.Writer) (int64, error) {
	n, err := fmt.Fprintf(w, "digest %s\n%s\n", t.Digest(), strings.Join(t.Lines(), "\n"))
	return int64(n), err
}
