package hubpush

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mlxk/mlxk/shared/hubclient"
	"github.com/mlxk/mlxk/shared/internal/testutil"
)

func TestIgnorer(t *testing.T) {
	t.Parallel()
	ig, err := NewIgnorer(append(DefaultIgnore, "notes/", "*.log", "secret.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for rel, want := range map[string]bool{
		"config.json":           false,
		"model.safetensors":     false,
		".git":                  true,
		".git/HEAD":             true,
		"sub/.git/config":       true,
		".DS_Store":             true,
		"deep/dir/.DS_Store":    true,
		"__pycache__/x.pyc":     true,
		"pkg/__pycache__/y.pyc": true,
		"tool.pyc":              true,
		".hfignore":             true,
		".mlxk_workspace.json":  true,
		"notes/draft.md":        true,
		"sub/notes/draft.md":    true,
		"notes.md":              false,
		"run.log":               true,
		"logs/run.log":          true,
		"secret.txt":            true,
		"sub/secret.txt":        true,
		"venv/lib/site.py":      true,
		"not-venv/lib/site.py":  false,
		".hf_cache/hub/x":       true,
		"tokenizer_config.json": false,
		"original/params.json":  false,
		".gitattributes":        false,
	} {
		if got := ig.Ignored(rel); got != want {
			t.Errorf("Ignored(%q) = %v, want %v", rel, got, want)
		}
	}
}

func TestCollectAndDiff(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("config.json", `{"a":1}`)
	write("same.txt", "unchanged")
	write("model.safetensors", "weights v2")
	write(".DS_Store", "x")
	ig, err := NewIgnorer(DefaultIgnore)
	if err != nil {
		t.Fatal(err)
	}
	files, total, err := Collect(dir, ig)
	if err != nil {
		t.Fatal(err)
	}
	if total != 4 || len(files) != 3 {
		t.Fatalf("Collect: total %d, files %d, want 4 and 3", total, len(files))
	}
	for _, f := range files {
		b, _ := os.ReadFile(f.Abs)
		if f.SHA256 != testutil.SHA256Hex(b) || f.GitSHA != testutil.GitSHA1Hex(b) {
			t.Errorf("%s: hashes %s %s do not match the content", f.Path, f.SHA256, f.GitSHA)
		}
	}
	lfs := func(oid string) *struct {
		OID  string `json:"oid"`
		Size int64  `json:"size"`
	} {
		return &struct {
			OID  string `json:"oid"`
			Size int64  `json:"size"`
		}{OID: oid}
	}
	remote := []hubclient.TreeEntry{
		{Type: "file", Path: ".gitattributes", OID: "aa"},
		{Type: "file", Path: "same.txt", OID: testutil.GitSHA1Hex([]byte("unchanged"))},
		{Type: "file", Path: "model.safetensors", LFS: lfs(testutil.SHA256Hex([]byte("weights v1")))},
		{Type: "file", Path: "gone.txt", OID: "bb"},
		{Type: "file", Path: "sub/.DS_Store", OID: "cc"},
	}
	ch := diff(files, remote, ig)
	if !slices.Equal(ch.Added, []string{"config.json"}) || !slices.Equal(ch.Modified, []string{"model.safetensors"}) || !slices.Equal(ch.Deleted, []string{"gone.txt"}) {
		t.Errorf("diff = %+v", ch)
	}
}
