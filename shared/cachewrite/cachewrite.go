// Package cachewrite lays files out in a hub cache byte for byte as
// huggingface_hub writes them: content in blobs/<etag> (sha256 for LFS
// files, git blob sha1 for the others), relative symlinks under
// snapshots/<commit>/, refs/<revision> without a trailing newline, an empty
// lock file per blob under .locks/, and CACHEDIR.TAG at the root.
//
// The test harness and the benchmarks build their caches with it, so that
// what the tests read is what the real tools write; the pull and clone
// binaries build on the same primitives.
package cachewrite

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"errors"
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

	"github.com/mlxk/mlxk/shared/modelref"
)

// CacheDirTag is the exact content huggingface_hub writes to CACHEDIR.TAG.
const CacheDirTag = "Signature: 8a477f597d28d172789f06886806bc55\n" +
	"# This file is a cache directory tag created by huggingface_hub.\n" +
	"# For information about cache directory tags, see:\n" +
	"#\thttps://bford.info/cachedir/\n"

// lfsSuffixes are the patterns of the Hub's default .gitattributes that
// put a file in Git LFS; anything larger than lfsThreshold goes there too.
var lfsSuffixes = []string{
	".7z", ".arrow", ".bin", ".bz2", ".ckpt", ".ftz", ".gguf", ".gz", ".h5", ".joblib", ".mlmodel",
	".model", ".msgpack", ".npy", ".npz", ".onnx", ".ot", ".parquet", ".pb", ".pickle", ".pkl",
	".pt", ".pth", ".rar", ".safetensors", ".tar", ".tflite", ".tgz", ".wasm", ".xz", ".zip", ".zst",
}

const lfsThreshold = 10 << 20

// IsLFS reports whether the Hub would store a file of this name and size
// in Git LFS.
func IsLFS(name string, size int64) bool {
	if size > lfsThreshold || strings.HasSuffix(name, "tfevents") {
		return true
	}
	for _, s := range lfsSuffixes {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// File is one file of a snapshot to write.
type File struct {
	Path string // repo-relative, slash-separated
	Src  string // local file holding the content
}

// Snapshot describes one commit to lay out.
type Snapshot struct {
	RepoID string
	Commit string   // 40-hex; derived from the content when empty
	Refs   []string // revision names to point at the commit, e.g. "main"
	Files  []File
}

// Written reports what Write produced.
type Written struct {
	Commit string
	Dir    string            // the snapshot folder
	Blobs  map[string]string // repo path → absolute blob path
}

// Write lays the snapshot out under the hub cache dir.
func Write(hub string, s Snapshot) (Written, error) {
	if err := modelref.ValidateRepoID(s.RepoID); err != nil {
		return Written{}, err
	}
	repoDir := filepath.Join(hub, modelref.CacheDirName(s.RepoID))
	lockDir := filepath.Join(hub, ".locks", modelref.CacheDirName(s.RepoID))
	for _, d := range []string{filepath.Join(repoDir, "blobs"), lockDir} {
		if err := os.MkdirAll(d, 0o777); err != nil {
			return Written{}, err
		}
	}
	if err := writeTag(hub); err != nil {
		return Written{}, err
	}
	files := slices.Clone(s.Files)
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	for _, f := range files {
		if err := checkRepoPath(f.Path); err != nil {
			return Written{}, err // before anything is written
		}
	}
	etags := make([]string, len(files))
	for i, f := range files {
		etag, err := PutBlob(repoDir, f.Src, IsLFS(f.Path, fileSize(f.Src)))
		if err != nil {
			return Written{}, fmt.Errorf("%s: %w", f.Path, err)
		}
		etags[i] = etag
		lock, err := os.OpenFile(filepath.Join(lockDir, etag+".lock"), os.O_CREATE|os.O_WRONLY, 0o666)
		if err != nil {
			return Written{}, err
		}
		lock.Close()
	}
	commit := s.Commit
	if commit == "" {
		h := sha1.New()
		for i, f := range files {
			fmt.Fprintf(h, "%s %s\n", f.Path, etags[i])
		}
		commit = hex.EncodeToString(h.Sum(nil))
	}
	if !modelref.IsCommitHash(commit) {
		return Written{}, fmt.Errorf("commit %q is not 40 lowercase hex digits", commit)
	}
	w := Written{Commit: commit, Dir: filepath.Join(repoDir, "snapshots", commit), Blobs: map[string]string{}}
	for i, f := range files {
		blob := filepath.Join(repoDir, "blobs", etags[i])
		if err := Link(w.Dir, f.Path, blob); err != nil {
			return Written{}, err
		}
		w.Blobs[f.Path] = blob
	}
	if err := os.MkdirAll(w.Dir, 0o777); err != nil {
		return Written{}, err
	}
	for _, ref := range s.Refs {
		if err := WriteRef(repoDir, ref, commit); err != nil {
			return Written{}, err
		}
	}
	return w, nil
}

func checkRepoPath(p string) error {
	if p == "" || path.IsAbs(p) || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../") {
		return fmt.Errorf("repo path %q escapes the snapshot", p)
	}
	return nil
}

func fileSize(p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return st.Size()
}

// EnsureTag writes CACHEDIR.TAG at the cache root when it is missing, as
// huggingface_hub does before each download.
func EnsureTag(hub string) error { return writeTag(hub) }

func writeTag(hub string) error {
	p := filepath.Join(hub, "CACHEDIR.TAG")
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	return os.WriteFile(p, []byte(CacheDirTag), 0o666)
}

// PutBlob copies src into repoDir/blobs/<etag> and returns the etag: the
// sha256 of the content for LFS files, the git blob sha1 otherwise. The
// blob is written to a temporary name and renamed, with mode 0666 minus the
// umask as huggingface_hub does. An existing blob is kept.
func PutBlob(repoDir, src string, lfs bool) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return "", err
	}
	var h hash.Hash
	if lfs {
		h = sha256.New()
	} else {
		h = sha1.New()
		fmt.Fprintf(h, "blob %d\x00", st.Size())
	}
	blobs := filepath.Join(repoDir, "blobs")
	tmp, err := createTemp(blobs)
	if err != nil {
		return "", err
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if _, err := io.Copy(io.MultiWriter(tmp, h), in); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	etag := hex.EncodeToString(h.Sum(nil))
	dst := filepath.Join(blobs, etag)
	if _, err := os.Stat(dst); err == nil {
		return etag, nil
	}
	return etag, os.Rename(tmpName, dst)
}

// createTemp creates a fresh file in dir with mode 0666 minus the umask
// (os.CreateTemp uses 0600, which would make blobs unreadable to other
// users of a shared cache).
func createTemp(dir string) (*os.File, error) {
	var rnd [8]byte
	for range 100 {
		if _, err := rand.Read(rnd[:]); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(filepath.Join(dir, "put-"+hex.EncodeToString(rnd[:])+".incomplete"), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o666)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, errors.New("no free temporary name")
}

// Link creates snapshotDir/<repoPath> as a relative symlink to blob,
// replacing whatever was there.
func Link(snapshotDir, repoPath, blob string) error {
	ptr := filepath.Join(snapshotDir, filepath.FromSlash(repoPath))
	if err := os.MkdirAll(filepath.Dir(ptr), 0o777); err != nil {
		return err
	}
	rel, err := filepath.Rel(filepath.Dir(ptr), blob)
	if err != nil {
		return err
	}
	if err := os.Remove(ptr); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.Symlink(rel, ptr)
}

// WriteRef writes refs/<name> holding commit with no trailing newline,
// through a temporary file and a rename so readers never see half a ref.
func WriteRef(repoDir, name, commit string) error {
	if err := checkRepoPath(name); err != nil {
		return fmt.Errorf("ref %q: %w", name, err)
	}
	p := filepath.Join(repoDir, "refs", filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
		return err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(commit), 0o666); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// FilesFromDir lists every regular file under dir as a File whose repo
// path is its path relative to dir: a local folder as a snapshot.
func FilesFromDir(dir string) ([]File, error) {
	var files []File
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files = append(files, File{Path: filepath.ToSlash(rel), Src: p})
		return nil
	})
	return files, err
}
