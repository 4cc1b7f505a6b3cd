package cachewrite_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/mlxk/mlxk/shared/internal/testutil"

	"github.com/mlxk/mlxk/shared/cachewrite"
	"github.com/mlxk/mlxk/shared/modelref"
)

// sources writes each content into a temp folder and returns the file list.
func sources(t *testing.T, files map[string]string) []cachewrite.File {
	t.Helper()
	src := t.TempDir()
	var out []cachewrite.File
	i := 0
	for rel, content := range files {
		p := filepath.Join(src, fmt.Sprintf("src%03d", i))
		i++
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		out = append(out, cachewrite.File{Path: rel, Src: p})
	}
	return out
}

const huggingfaceCacheDirTag = "Signature: 8a477f597d28d172789f06886806bc55\n" +
	"# This file is a cache directory tag created by huggingface_hub.\n" +
	"# For information about cache directory tags, see:\n" +
	"#\thttps://bford.info/cachedir/\n"

func TestWriteLayout(t *testing.T) {
	t.Parallel()
	hub := t.TempDir()
	const commit = "0123456789abcdef0123456789abcdef01234567"
	files := map[string]string{
		"config.json":                  `{"model_type":"llama"}`,
		"model.safetensors":            "weights-weights-weights",
		"tokenizer.json":               `{"model":{}}`,
		"sub/nested.json":              `{"a":1}`,
		"a/b/c/deep.bin":               "bin-content",
		"README.md":                    "# card\n",
		"model.safetensors.index.json": `{"weight_map":{}}`,
	}
	w, err := cachewrite.Write(hub, cachewrite.Snapshot{RepoID: "org/sub/model", Commit: commit, Refs: []string{"main", "refs/pr/1"},
		Files: sources(t, files)})
	if err != nil {
		t.Fatal(err)
	}
	repoDir := filepath.Join(hub, "models--org--sub--model")
	if w.Commit != commit || w.Dir != filepath.Join(repoDir, "snapshots", commit) {
		t.Errorf("Written = %+v", w)
	}
	lfs := map[string]bool{"model.safetensors": true, "a/b/c/deep.bin": true}
	for rel, content := range files {
		etag := testutil.GitSHA1Hex([]byte(content))
		if lfs[rel] {
			etag = testutil.SHA256Hex([]byte(content))
		}
		blob := filepath.Join(repoDir, "blobs", etag)
		if w.Blobs[rel] != blob {
			t.Errorf("%s: blob %q, want %q", rel, w.Blobs[rel], blob)
		}
		if b, err := os.ReadFile(blob); err != nil || string(b) != content {
			t.Errorf("%s: blob content %q, %v", rel, b, err)
		}
		ptr := filepath.Join(w.Dir, filepath.FromSlash(rel))
		target, err := os.Readlink(ptr)
		if err != nil {
			t.Errorf("%s: not a symlink: %v", rel, err)
			continue
		}
		wantTarget := strings.Repeat("../", 2+strings.Count(rel, "/")) + "blobs/" + etag
		if target != wantTarget {
			t.Errorf("%s: link %q, want %q", rel, target, wantTarget)
		}
		if b, err := os.ReadFile(ptr); err != nil || string(b) != content {
			t.Errorf("%s: through the link %q, %v", rel, b, err)
		}
		if st, err := os.Stat(filepath.Join(hub, ".locks", "models--org--sub--model", etag+".lock")); err != nil || st.Size() != 0 {
			t.Errorf("%s: lock file: %v", rel, err)
		}
	}
	for _, ref := range []string{"main", "refs/pr/1"} {
		b, err := os.ReadFile(filepath.Join(repoDir, "refs", filepath.FromSlash(ref)))
		if err != nil || string(b) != commit {
			t.Errorf("refs/%s = %q, %v; want the commit without a newline", ref, b, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(hub, "CACHEDIR.TAG")); err != nil || string(b) != huggingfaceCacheDirTag {
		t.Errorf("CACHEDIR.TAG = %q, %v", b, err)
	}
	if cachewrite.CacheDirTag != huggingfaceCacheDirTag {
		t.Errorf("CacheDirTag = %q", cachewrite.CacheDirTag)
	}
	// Nothing else is left behind in blobs/ (no temporary files).
	ents, _ := os.ReadDir(filepath.Join(repoDir, "blobs"))
	if len(ents) != len(files) {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("blobs/ holds %q, want %d blobs", names, len(files))
	}
}

func TestWriteDedupAndSecondCommit(t *testing.T) {
	t.Parallel()
	hub := t.TempDir()
	same := "shared content"
	w1, err := cachewrite.Write(hub, cachewrite.Snapshot{RepoID: "org/m", Refs: []string{"main"},
		Files: sources(t, map[string]string{"a.json": same, "b.json": same, "c.json": "other"})})
	if err != nil {
		t.Fatal(err)
	}
	if w1.Blobs["a.json"] != w1.Blobs["b.json"] {
		t.Errorf("identical files got different blobs")
	}
	if !modelref.IsCommitHash(w1.Commit) {
		t.Errorf("derived commit %q", w1.Commit)
	}
	// The same content gives the same derived commit; different content a
	// different one.
	w2, err := cachewrite.Write(hub, cachewrite.Snapshot{RepoID: "org/m",
		Files: sources(t, map[string]string{"a.json": same, "b.json": same, "c.json": "other"})})
	if err != nil || w2.Commit != w1.Commit {
		t.Errorf("rewrite: commit %q vs %q, %v", w2.Commit, w1.Commit, err)
	}
	w3, err := cachewrite.Write(hub, cachewrite.Snapshot{RepoID: "org/m", Refs: []string{"main"},
		Files: sources(t, map[string]string{"a.json": same})})
	if err != nil || w3.Commit == w1.Commit {
		t.Fatalf("second commit %q, %v", w3.Commit, err)
	}
	if b, _ := os.ReadFile(filepath.Join(hub, "models--org--m", "refs", "main")); string(b) != w3.Commit {
		t.Errorf("refs/main = %q, want the newer %q", b, w3.Commit)
	}
	snaps, _ := os.ReadDir(filepath.Join(hub, "models--org--m", "snapshots"))
	if len(snaps) != 2 {
		t.Errorf("%d snapshots, want 2", len(snaps))
	}
	blobs, _ := os.ReadDir(filepath.Join(hub, "models--org--m", "blobs"))
	if len(blobs) != 2 {
		t.Errorf("%d blobs, want 2 (shared content stored once)", len(blobs))
	}
}

func TestWriteEmptySnapshot(t *testing.T) {
	t.Parallel()
	hub := t.TempDir()
	w, err := cachewrite.Write(hub, cachewrite.Snapshot{RepoID: "gpt2", Refs: []string{"main"}})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(w.Dir); err != nil || !st.IsDir() {
		t.Errorf("snapshot folder: %v", err)
	}
	if filepath.Base(filepath.Dir(filepath.Dir(w.Dir))) != "models--gpt2" {
		t.Errorf("snapshot at %s", w.Dir)
	}
}

func TestWriteRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		snap func(t *testing.T) cachewrite.Snapshot
	}{
		{"invalid repo id", func(t *testing.T) cachewrite.Snapshot {
			return cachewrite.Snapshot{RepoID: "../evil"}
		}},
		{"repo id with --", func(t *testing.T) cachewrite.Snapshot {
			return cachewrite.Snapshot{RepoID: "org--x/m"}
		}},
		{"uppercase commit", func(t *testing.T) cachewrite.Snapshot {
			return cachewrite.Snapshot{RepoID: "org/m", Commit: strings.Repeat("A", 40)}
		}},
		{"short commit", func(t *testing.T) cachewrite.Snapshot {
			return cachewrite.Snapshot{RepoID: "org/m", Commit: "abc"}
		}},
		{"missing source", func(t *testing.T) cachewrite.Snapshot {
			return cachewrite.Snapshot{RepoID: "org/m", Files: []cachewrite.File{{Path: "x", Src: filepath.Join(t.TempDir(), "nope")}}}
		}},
		{"ref escaping refs/", func(t *testing.T) cachewrite.Snapshot {
			return cachewrite.Snapshot{RepoID: "org/m", Refs: []string{"../../escape"}}
		}},
	}
	for _, path := range []string{"../x", "..", "/etc/passwd", "a/../../x", "./x", "a//b", "a/", ""} {
		path := path
		tests = append(tests, struct {
			name string
			snap func(t *testing.T) cachewrite.Snapshot
		}{"path " + path, func(t *testing.T) cachewrite.Snapshot {
			return cachewrite.Snapshot{RepoID: "org/m", Files: sources(t, map[string]string{path: "x"})}
		}})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			hub := filepath.Join(root, "hub")
			if _, err := cachewrite.Write(hub, tc.snap(t)); err == nil {
				t.Fatal("Write succeeded")
			}
			// Nothing was written outside the hub cache.
			ents, _ := os.ReadDir(root)
			for _, e := range ents {
				if e.Name() != "hub" {
					t.Errorf("Write left %q beside the cache", e.Name())
				}
			}
			if _, err := os.Stat("/etc/passwd.lock"); err == nil {
				t.Error("wrote outside the cache")
			}
		})
	}
}

func TestWriteRefAndLink(t *testing.T) {
	t.Parallel()
	repo := t.TempDir()
	const c1, c2 = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"
	if err := cachewrite.WriteRef(repo, "main", c1); err != nil {
		t.Fatal(err)
	}
	if err := cachewrite.WriteRef(repo, "main", c2); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(repo, "refs", "main")); string(b) != c2 {
		t.Errorf("refs/main = %q", b)
	}
	if _, err := os.Stat(filepath.Join(repo, "refs", "main.tmp")); err == nil {
		t.Error("temporary ref left behind")
	}
	for _, bad := range []string{"", "../x", "/abs", "a/../b"} {
		if err := cachewrite.WriteRef(repo, bad, c1); err == nil {
			t.Errorf("WriteRef(%q) succeeded", bad)
		}
	}

	// Link replaces an existing file.
	snap := filepath.Join(repo, "snapshots", c1)
	blob := filepath.Join(repo, "blobs", "abc")
	if err := os.MkdirAll(filepath.Dir(blob), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blob, []byte("blob"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(snap, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(snap, "d", "f"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cachewrite.Link(snap, "d/f", blob); err != nil {
		t.Fatal(err)
	}
	if target, _ := os.Readlink(filepath.Join(snap, "d", "f")); target != "../../../blobs/abc" {
		t.Errorf("link = %q", target)
	}
}

func TestIsLFS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		size int64
		want bool
	}{
		{"model.safetensors", 10, true},
		{"pytorch_model.bin", 10, true},
		{"model.gguf", 10, true},
		{"tokenizer.model", 10, true},
		{"events.out.tfevents", 10, true},
		{"weights.npz", 0, true},
		{"config.json", 10, false},
		{"tokenizer.json", 10 << 20, false},
		{"tokenizer.json", 10<<20 + 1, true},
		{"README.md", 100, false},
		{"model.safetensors.index.json", 100, false},
	}
	for _, tc := range tests {
		if got := cachewrite.IsLFS(tc.name, tc.size); got != tc.want {
			t.Errorf("IsLFS(%q, %d) = %v, want %v", tc.name, tc.size, got, tc.want)
		}
	}
}

// Blob modes follow the umask, as huggingface_hub's do. This test changes the
// process umask, so it does not run in parallel.
func TestBlobModeFollowsUmask(t *testing.T) {
	for _, mask := range []int{0o022, 0o077, 0o002} {
		old := syscall.Umask(mask)
		hub := t.TempDir()
		src := filepath.Join(t.TempDir(), "f")
		err := os.WriteFile(src, []byte("content"), 0o600)
		var w cachewrite.Written
		if err == nil {
			w, err = cachewrite.Write(hub, cachewrite.Snapshot{RepoID: "org/m", Files: []cachewrite.File{
				{Path: "config.json", Src: src}, {Path: "model.safetensors", Src: src}}})
		}
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		want := os.FileMode(0o666 &^ mask)
		for rel, blob := range w.Blobs {
			st, err := os.Stat(blob)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != want {
				t.Errorf("umask %03o: %s blob mode %v, want %v", mask, rel, st.Mode().Perm(), want)
			}
		}
	}
	// And with the umask the process runs under.
	cur := syscall.Umask(0)
	syscall.Umask(cur)
	hub := t.TempDir()
	src := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(src, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := cachewrite.Write(hub, cachewrite.Snapshot{RepoID: "org/m", Files: []cachewrite.File{{Path: "config.json", Src: src}}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(w.Blobs["config.json"])
	if err != nil || st.Mode().Perm() != os.FileMode(0o666&^cur) {
		t.Errorf("blob mode %v under umask %03o", st.Mode().Perm(), cur)
	}
}

func TestPutBlob(t *testing.T) {
	t.Parallel()
	repo := t.TempDir()
	if err := os.MkdirAll(filepath.Join(repo, "blobs"), 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "f")
	content := []byte("some bytes\x00\xff")
	if err := os.WriteFile(src, content, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, lfs := range []bool{true, false} {
		etag, err := cachewrite.PutBlob(repo, src, lfs)
		if err != nil {
			t.Fatal(err)
		}
		want := testutil.GitSHA1Hex(content)
		if lfs {
			want = testutil.SHA256Hex(content)
		}
		if etag != want {
			t.Errorf("PutBlob(lfs=%v) = %s, want %s", lfs, etag, want)
		}
		// Putting it again keeps the blob and leaves no temporary file.
		if again, err := cachewrite.PutBlob(repo, src, lfs); err != nil || again != etag {
			t.Errorf("second PutBlob = %s, %v", again, err)
		}
	}
	ents, _ := os.ReadDir(filepath.Join(repo, "blobs"))
	if len(ents) != 2 {
		t.Errorf("blobs/ has %d entries, want 2", len(ents))
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".incomplete") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}
