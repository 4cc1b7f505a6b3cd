package live

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlxk/mlxk/shared/cachewrite"
)

// sourceCache writes a two-shard model into a fresh hub cache and returns
// its HF_HOME and commit.
func sourceCache(t *testing.T) (home, commit string) {
	t.Helper()
	home = t.TempDir()
	src := t.TempDir()
	files := map[string]string{
		"config.json":                      `{"model_type":"llama"}`,
		"tokenizer.json":                   `{}`,
		"model-00001-of-00002.safetensors": string(bytes.Repeat([]byte("a"), 3000)),
		"model-00002-of-00002.safetensors": string(bytes.Repeat([]byte("b"), 1000)),
		"model.safetensors.index.json":     `{"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}}`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fs, err := cachewrite.FilesFromDir(src)
	if err != nil {
		t.Fatal(err)
	}
	w, err := cachewrite.Write(filepath.Join(home, "hub"), cachewrite.Snapshot{RepoID: "org/model", Refs: []string{"main"}, Files: fs})
	if err != nil {
		t.Fatal(err)
	}
	return home, w.Commit
}

func TestTestCacheGuard(t *testing.T) {
	source, _ := sourceCache(t)
	tc, err := NewTestCache(t.TempDir(), source)
	if err != nil {
		t.Fatal(err)
	}
	inside := filepath.Join(tc.Hub(), "models--org--model", "blobs", "x")
	if err := tc.Guard(inside); err != nil {
		t.Errorf("Guard(inside) = %v", err)
	}
	for name, p := range map[string]string{
		"the source cache":      filepath.Join(source, "hub", "models--org--model"),
		"the test cache itself": tc.Home,
		"a sibling folder":      filepath.Join(filepath.Dir(tc.Home), "other"),
		"an escape by ..":       filepath.Join(tc.Hub(), "..", "..", "x"),
		"the root":              "/",
	} {
		if err := tc.Guard(p); !errors.Is(err, ErrNotTestCache) {
			t.Errorf("Guard(%s) = %v, want ErrNotTestCache", name, err)
		}
	}
	// A symlink inside the test cache pointing into the source is refused.
	link := filepath.Join(tc.Hub(), "sneaky")
	if err := os.Symlink(filepath.Join(source, "hub"), link); err != nil {
		t.Fatal(err)
	}
	if err := tc.Guard(filepath.Join(link, "models--org--model")); !errors.Is(err, ErrNotTestCache) {
		t.Errorf("Guard(through a symlink into the source) = %v", err)
	}
	// Without its sentinel, or with another run's token, nothing is allowed.
	token := filepath.Join(tc.sentinelDir(), "token")
	if err := os.WriteFile(token, []byte("someone else"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := tc.Guard(inside); !errors.Is(err, ErrNotTestCache) {
		t.Errorf("Guard with a foreign token = %v", err)
	}
	os.Remove(token)
	if err := tc.Guard(inside); !errors.Is(err, ErrNotTestCache) {
		t.Errorf("Guard without a sentinel = %v", err)
	}
	if err := (*TestCache)(nil).Guard(inside); !errors.Is(err, ErrNotTestCache) {
		t.Errorf("nil Guard = %v", err)
	}
	if err := tc.Remove(); !errors.Is(err, ErrNotTestCache) {
		t.Errorf("Remove without a sentinel = %v", err)
	}
}

func TestNewTestCacheRefusesOverlap(t *testing.T) {
	source, _ := sourceCache(t)
	if _, err := NewTestCache(filepath.Join(source, "hub"), source); !errors.Is(err, ErrNotTestCache) {
		t.Errorf("a test cache inside the source: %v", err)
	}
}

func TestCopyMinimalAndDamage(t *testing.T) {
	source, commit := sourceCache(t)
	before, err := HashTree(source, true)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := NewTestCache(t.TempDir(), source)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tc.CopyMinimal(filepath.Join(source, "hub"), "org/model", commit, 100); !errors.Is(err, ErrTooLargeToCopy) {
		t.Errorf("copy over the limit: %v", err)
	}
	cp, err := tc.CopyMinimal(filepath.Join(source, "hub"), "org/model", commit, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Weight != "model-00002-of-00002.safetensors" || len(cp.Files) != 4 {
		t.Errorf("copied %v, weight %s; want the small files and the smaller shard", cp.Files, cp.Weight)
	}
	// Same layout as the source: relative symlinks into blobs/, a ref.
	for _, f := range cp.Files {
		want, _ := os.Readlink(filepath.Join(source, "hub", "models--org--model", "snapshots", commit, f))
		got, err := os.Readlink(filepath.Join(cp.Snapshot, f))
		if err != nil || got != want {
			t.Errorf("%s links to %q (%v), the source to %q", f, got, err, want)
		}
	}
	if ref, _ := os.ReadFile(filepath.Join(tc.Hub(), "models--org--model", "refs", "main")); string(ref) != commit {
		t.Errorf("refs/main = %q", ref)
	}
	weight := filepath.Join(cp.Snapshot, cp.Weight)
	if err := tc.Damage(weight); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(weight)
	if len(b) != 1000 || b[500] != 'b'^0xFF || bytes.Count(b, []byte("b")) != 999 {
		t.Errorf("Damage did not flip exactly the middle byte")
	}
	// The source is untouched, and its files cannot be damaged.
	if err := tc.Damage(filepath.Join(source, "hub", "models--org--model", "snapshots", commit, cp.Weight)); !errors.Is(err, ErrNotTestCache) {
		t.Errorf("Damage(source) = %v", err)
	}
	after, err := HashTree(source, true)
	if err != nil {
		t.Fatal(err)
	}
	if d := after.Diff(before); len(d) > 0 {
		t.Errorf("the source changed: %v", d)
	}
	if err := tc.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tc.Home); !os.IsNotExist(err) {
		t.Errorf("Remove left %s", tc.Home)
	}
}
