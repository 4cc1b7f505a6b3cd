package hubcache_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlxk/mlxk/shared/internal/testutil"

	"github.com/mlxk/mlxk/shared/cachewrite"
	"github.com/mlxk/mlxk/shared/hubcache"
	"github.com/mlxk/mlxk/shared/mlxkerr"
)

func commit(prefix string) string {
	return prefix + strings.Repeat("0", 40-len(prefix))
}

func setMtime(t *testing.T, p string, tm time.Time) {
	t.Helper()
	if err := os.Chtimes(p, tm, tm); err != nil {
		t.Fatal(err)
	}
}

func TestLocate(t *testing.T) {
	t.Parallel()
	const home = "/home/alice"
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"default", nil, "/home/alice/.cache/huggingface/hub"},
		{"HF_HUB_CACHE wins over everything", map[string]string{
			"HF_HUB_CACHE": "/hc", "HUGGINGFACE_HUB_CACHE": "/legacy", "HF_HOME": "/hfh", "XDG_CACHE_HOME": "/xdg",
		}, "/hc"},
		{"HUGGINGFACE_HUB_CACHE beats HF_HOME", map[string]string{
			"HUGGINGFACE_HUB_CACHE": "/legacy", "HF_HOME": "/hfh", "XDG_CACHE_HOME": "/xdg",
		}, "/legacy"},
		{"HF_HOME beats XDG", map[string]string{"HF_HOME": "/hfh", "XDG_CACHE_HOME": "/xdg"}, "/hfh/hub"},
		{"XDG_CACHE_HOME", map[string]string{"XDG_CACHE_HOME": "/xdg"}, "/xdg/huggingface/hub"},
		{"tilde in HF_HUB_CACHE", map[string]string{"HF_HUB_CACHE": "~/hc"}, "/home/alice/hc"},
		{"bare tilde in HF_HUB_CACHE", map[string]string{"HF_HUB_CACHE": "~"}, "/home/alice"},
		{"tilde in HUGGINGFACE_HUB_CACHE", map[string]string{"HUGGINGFACE_HUB_CACHE": "~/legacy"}, "/home/alice/legacy"},
		{"tilde in HF_HOME", map[string]string{"HF_HOME": "~/hf"}, "/home/alice/hf/hub"},
		{"bare tilde HF_HOME", map[string]string{"HF_HOME": "~"}, "/home/alice/hub"},
		{"tilde in XDG", map[string]string{"XDG_CACHE_HOME": "~/xc"}, "/home/alice/xc/huggingface/hub"},
		{"var in HF_HUB_CACHE", map[string]string{"HF_HUB_CACHE": "$DATA/hub", "DATA": "/mnt/data"}, "/mnt/data/hub"},
		{"braced var in HF_HOME", map[string]string{"HF_HOME": "${DATA}/hf", "DATA": "/mnt/data"}, "/mnt/data/hf/hub"},
		{"var in XDG", map[string]string{"XDG_CACHE_HOME": "$DATA", "DATA": "/d"}, "/d/huggingface/hub"},
		{"empty means unset", map[string]string{"HF_HUB_CACHE": "", "HF_HOME": "/hfh"}, "/hfh/hub"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			getenv := func(k string) string { return tc.env[k] }
			if got := hubcache.Locate(getenv, home); got != tc.want {
				t.Errorf("Locate(%v) = %q, want %q", tc.env, got, tc.want)
			}
		})
	}
}

func TestHFHome(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env  map[string]string
		want string
	}{
		{nil, "/h/.cache/huggingface"},
		{map[string]string{"HF_HOME": "/x"}, "/x"},
		{map[string]string{"XDG_CACHE_HOME": "/c"}, "/c/huggingface"},
		{map[string]string{"HF_HOME": "~/y", "XDG_CACHE_HOME": "/c"}, "/h/y"},
	}
	for _, tc := range tests {
		getenv := func(k string) string { return tc.env[k] }
		if got := hubcache.HFHome(getenv, "/h"); got != tc.want {
			t.Errorf("HFHome(%v) = %q, want %q", tc.env, got, tc.want)
		}
	}
}

func TestReposMissingCache(t *testing.T) {
	t.Parallel()
	repos, err := hubcache.Cache{Dir: filepath.Join(t.TempDir(), "nope")}.Repos()
	if err != nil || len(repos) != 0 {
		t.Fatalf("Repos() of a missing cache = %v, %v; want empty, nil", repos, err)
	}
}

func TestReposSortedAndFiltered(t *testing.T) {
	t.Parallel()
	hub := t.TempDir()
	files := map[string]string{"config.json": `{"model_type":"llama"}`}
	testutil.PutModel(t, hub, "b/x", "", []string{"main"}, files)
	testutil.PutModel(t, hub, "a/b", "", []string{"main"}, files)
	testutil.PutModel(t, hub, "a-b", "", []string{"main"}, files)
	// Entries that are not model folders.
	must(t, os.WriteFile(filepath.Join(hub, "models--file--notdir"), []byte("x"), 0o644))
	must(t, os.MkdirAll(filepath.Join(hub, "datasets--org--data"), 0o755))
	must(t, os.MkdirAll(filepath.Join(hub, "random"), 0o755))
	must(t, os.Symlink("models--a--b", filepath.Join(hub, "models--linked--dir")))
	must(t, os.Symlink("models--file--notdir", filepath.Join(hub, "models--linked--file")))
	must(t, os.Symlink("missing", filepath.Join(hub, "models--linked--broken")))

	repos, err := hubcache.Cache{Dir: hub}.Repos()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range repos {
		ids = append(ids, r.ID)
		if r.Dir != filepath.Join(hub, r.CacheName) {
			t.Errorf("repo %s: Dir = %q, want it under the cache", r.ID, r.Dir)
		}
	}
	// Sorted by repo id, not by folder name: "a-b" < "a/b" although
	// "models--a--b" < "models--a-b".
	want := []string{"a-b", "a/b", "b/x", "linked/dir"}
	if !slices.Equal(ids, want) {
		t.Errorf("Repos() ids = %q, want %q", ids, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestRepoAndHidden(t *testing.T) {
	t.Parallel()
	c := hubcache.Cache{Dir: "/cache"}
	r := c.Repo("org/sub/model")
	if r.ID != "org/sub/model" || r.CacheName != "models--org--sub--model" || r.Dir != "/cache/models--org--sub--model" {
		t.Errorf("Repo() = %+v", r)
	}
	r = c.Repo("models--org--m")
	if r.ID != "org/m" || r.CacheName != "models--org--m" {
		t.Errorf("Repo(cache name) = %+v", r)
	}
	if !c.Repo("TEST-CACHE-SENTINEL/mlxk2-safety-check").Hidden() {
		t.Error("the sentinel repo is not Hidden")
	}
	if c.Repo("org/model").Hidden() {
		t.Error("an ordinary repo is Hidden")
	}
}

func TestSnapshotsAndRefs(t *testing.T) {
	t.Parallel()
	hub := t.TempDir()
	c1, c2 := commit("bbbb"), commit("aaaa")
	testutil.PutModel(t, hub, "org/m", c1, []string{"main", "refs/pr/1"}, map[string]string{"config.json": "{}"})
	testutil.PutModel(t, hub, "org/m", c2, []string{"v1.0"}, map[string]string{"config.json": `{"a":1}`})
	repo := hubcache.Cache{Dir: hub}.Repo("org/m")
	// A stray file in snapshots/ is not a snapshot.
	must(t, os.WriteFile(filepath.Join(repo.Dir, "snapshots", "stray"), nil, 0o644))
	must(t, os.MkdirAll(filepath.Join(repo.Dir, "snapshots", "main"), 0o755))

	snaps, err := repo.Snapshots()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range snaps {
		names = append(names, s.Name)
		if s.Path != filepath.Join(repo.Dir, "snapshots", s.Name) || s.ModTime.IsZero() {
			t.Errorf("snapshot %+v", s)
		}
	}
	if want := []string{c2, c1, "main"}; !slices.Equal(names, want) {
		t.Errorf("Snapshots() = %q, want %q", names, want)
	}
	if snaps[0].Hash() != c2 || snaps[2].Hash() != "" {
		t.Errorf("Hash() = %q, %q; want %q, \"\"", snaps[0].Hash(), snaps[2].Hash(), c2)
	}

	// Ref files written with trailing whitespace by other tools are trimmed.
	must(t, os.WriteFile(filepath.Join(repo.Dir, "refs", "dev"), []byte(c2+"\n"), 0o644))
	refs, err := repo.Refs()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"main": c1, "refs/pr/1": c1, "v1.0": c2, "dev": c2}
	if len(refs) != len(want) {
		t.Errorf("Refs() = %v, want %v", refs, want)
	}
	for k, v := range want {
		if refs[k] != v {
			t.Errorf("Refs()[%q] = %q, want %q", k, refs[k], v)
		}
	}

	empty := hubcache.Cache{Dir: hub}.Repo("org/none")
	if s, err := empty.Snapshots(); err != nil || s != nil {
		t.Errorf("Snapshots() of a missing repo = %v, %v", s, err)
	}
	if r, err := empty.Refs(); err != nil || len(r) != 0 {
		t.Errorf("Refs() of a missing repo = %v, %v", r, err)
	}
}

func TestCurrent(t *testing.T) {
	t.Parallel()
	old := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	newer := old.Add(time.Hour)
	tests := []struct {
		name     string
		mainRef  string // "" = no refs/main; "missing" = points at an uncached commit
		mtimes   [2]time.Time
		wantSnap int // index into the two commits
	}{
		{"refs/main wins over a newer snapshot", "0", [2]time.Time{old, newer}, 0},
		{"refs/main wins when it is the newer one", "1", [2]time.Time{old, newer}, 1},
		{"no refs/main: newest mtime", "", [2]time.Time{newer, old}, 0},
		{"no refs/main: newest mtime (other order)", "", [2]time.Time{old, newer}, 1},
		{"refs/main to a missing snapshot: newest mtime", "missing", [2]time.Time{newer, old}, 0},
		{"equal mtimes: greater name", "", [2]time.Time{old, old}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hub := t.TempDir()
			commits := [2]string{commit("1111"), commit("2222")}
			var dirs [2]string
			for i, c := range commits {
				dirs[i] = testutil.PutModel(t, hub, "org/m", c, nil, map[string]string{"config.json": "{}"}).Dir
			}
			repo := hubcache.Cache{Dir: hub}.Repo("org/m")
			switch tc.mainRef {
			case "0", "1":
				i := int(tc.mainRef[0] - '0')
				must(t, cachewrite.WriteRef(repo.Dir, "main", commits[i]))
			case "missing":
				must(t, cachewrite.WriteRef(repo.Dir, "main", commit("ffff")))
			}
			for i, d := range dirs {
				setMtime(t, d, tc.mtimes[i])
			}
			snap, ok, err := repo.Current()
			if err != nil || !ok {
				t.Fatalf("Current() = %v, %v, %v", snap, ok, err)
			}
			if snap.Name != commits[tc.wantSnap] {
				t.Errorf("Current() = %s, want %s", snap.Name, commits[tc.wantSnap])
			}
		})
	}
	t.Run("no snapshots", func(t *testing.T) {
		t.Parallel()
		hub := t.TempDir()
		repo := hubcache.Cache{Dir: hub}.Repo("org/m")
		must(t, os.MkdirAll(filepath.Join(repo.Dir, "snapshots"), 0o755))
		if _, ok, err := repo.Current(); ok || err != nil {
			t.Errorf("Current() = ok %v, err %v; want false, nil", ok, err)
		}
	})
}

func TestIncompleteBlobs(t *testing.T) {
	t.Parallel()
	hub := t.TempDir()
	testutil.PutModel(t, hub, "org/m", "", []string{"main"}, map[string]string{"config.json": "{}"})
	repo := hubcache.Cache{Dir: hub}.Repo("org/m")
	if got := repo.IncompleteBlobs(); len(got) != 0 {
		t.Errorf("IncompleteBlobs() of a clean repo = %q", got)
	}
	must(t, os.WriteFile(filepath.Join(repo.Dir, "blobs", "abc.incomplete"), []byte("x"), 0o644))
	must(t, os.WriteFile(filepath.Join(repo.Dir, "blobs", "def.1a2b3c4d.incomplete"), nil, 0o644))
	got := repo.IncompleteBlobs()
	slices.Sort(got)
	if want := []string{"blobs/abc.incomplete", "blobs/def.1a2b3c4d.incomplete"}; !slices.Equal(got, want) {
		t.Errorf("IncompleteBlobs() = %q, want %q", got, want)
	}
}

// Commits of the mock cache (mlx-knife's mock_models: the two
// mlx-community models share a snapshot hash).
const (
	hashE96  = "e9675aa3def456789abcdef0123456789abcdef0"
	hashBeef = "beef1234567890abcdef1234567890abcdef1234"
	hashD1   = "d1a1000000000000000000000000000000000000"
	hashD2   = "d1b2000000000000000000000000000000000000"
	hashD3   = "abc1000000000000000000000000000000000000"
)

func mockCache(t *testing.T) hubcache.Cache {
	t.Helper()
	hub := t.TempDir()
	cfg := map[string]string{"config.json": `{"model_type":"llama"}`}
	testutil.PutModel(t, hub, "mlx-community/Phi-3-mini-4k-instruct-4bit", hashE96, []string{"main"}, cfg)
	testutil.PutModel(t, hub, "mlx-community/Qwen3-30B-A3B-4bit", hashE96, []string{"main"}, cfg)
	testutil.PutModel(t, hub, "Qwen/Qwen3-Coder-30B", hashBeef, []string{"main"}, cfg)
	testutil.PutModel(t, hub, "microsoft/DialoGPT-small", hashD1, []string{"main"}, cfg)
	testutil.PutModel(t, hub, "microsoft/DialoGPT-small", hashD2, []string{"dev"}, map[string]string{"config.json": `{"v":2}`})
	testutil.PutModel(t, hub, "microsoft/DialoGPT-small", hashD3, nil, map[string]string{"config.json": `{"v":3}`})
	testutil.PutModel(t, hub, "TheBloke/Llama-2-7B-Chat-GGUF", "", []string{"main"}, cfg)
	testutil.PutModel(t, hub, "sentence-transformers/all-MiniLM-L6-v2", "", []string{"main"}, cfg)
	testutil.PutModel(t, hub, "TEST-CACHE-SENTINEL/mlxk2-safety-check", "", []string{"main"}, cfg)
	testutil.PutModel(t, hub, "other/foo", "", []string{"main"}, cfg)
	testutil.PutModel(t, hub, "mlx-community/Foo", "", []string{"main"}, cfg)
	testutil.PutModel(t, hub, "x/llama", "", []string{"main"}, cfg)
	testutil.PutModel(t, hub, "x/llama-2", "", []string{"main"}, cfg)
	// A repo without snapshots.
	must(t, os.MkdirAll(filepath.Join(hub, "models--org--nosnap", "blobs"), 0o755))
	// refs/stale points at a commit that is not cached.
	must(t, cachewrite.WriteRef(filepath.Join(hub, "models--Qwen--Qwen3-Coder-30B"), "stale", commit("ffff")))
	return hubcache.Cache{Dir: hub}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	c := mockCache(t)
	tests := []struct {
		spec    string
		id      string // expected repo; "" when an error is expected
		snap    string // expected snapshot name; "" = do not check
		pinned  bool
		errType string
		matches []string
		hashes  []string
	}{
		// Tier 1: exact repo id or folder name.
		{spec: "microsoft/DialoGPT-small", id: "microsoft/DialoGPT-small", snap: hashD1},
		{spec: "models--microsoft--DialoGPT-small", id: "microsoft/DialoGPT-small"},
		{spec: "x/llama", id: "x/llama"},
		// Tier 2: short names expand under mlx-community/.
		{spec: "Phi-3-mini-4k-instruct-4bit", id: "mlx-community/Phi-3-mini-4k-instruct-4bit", snap: hashE96},
		{spec: "Foo", id: "mlx-community/Foo"},
		// Tier 3: case-insensitive id or short name.
		{spec: "phi-3-mini-4k-instruct-4bit", id: "mlx-community/Phi-3-mini-4k-instruct-4bit"},
		{spec: "MICROSOFT/dialogpt-SMALL", id: "microsoft/DialoGPT-small"},
		{spec: "LLAMA", id: "x/llama"},
		{spec: "foo", errType: mlxkerr.AmbiguousMatch, matches: []string{"mlx-community/Foo", "other/foo"}},
		// Tier 4: substring.
		{spec: "DialoGPT", id: "microsoft/DialoGPT-small"},
		{spec: "minilm", id: "sentence-transformers/all-MiniLM-L6-v2"},
		{spec: "Qwen3", errType: mlxkerr.AmbiguousMatch, matches: []string{"Qwen/Qwen3-Coder-30B", "mlx-community/Qwen3-30B-A3B-4bit"}},
		{spec: "nonexistent", errType: mlxkerr.ModelNotFound},
		// The sentinel is hidden from fuzzy matching.
		{spec: "SENTINEL", errType: mlxkerr.ModelNotFound},
		{spec: "safety-check", errType: mlxkerr.ModelNotFound},
		{spec: "test-cache-sentinel/mlxk2-safety-check", errType: mlxkerr.ModelNotFound},
		// Revisions.
		{spec: "Qwen3@e96", id: "mlx-community/Qwen3-30B-A3B-4bit", snap: hashE96, pinned: true},
		{spec: "Qwen3@beef", id: "Qwen/Qwen3-Coder-30B", snap: hashBeef, pinned: true},
		{spec: "Qwen3@main", errType: mlxkerr.AmbiguousMatch, matches: []string{"Qwen/Qwen3-Coder-30B", "mlx-community/Qwen3-30B-A3B-4bit"}},
		{spec: "Qwen3@0123", errType: mlxkerr.AmbiguousMatch},
		{spec: "DialoGPT@main", id: "microsoft/DialoGPT-small", snap: hashD1, pinned: true},
		{spec: "DialoGPT@dev", id: "microsoft/DialoGPT-small", snap: hashD2, pinned: true},
		{spec: "DialoGPT@" + hashD3, id: "microsoft/DialoGPT-small", snap: hashD3, pinned: true},
		{spec: "DialoGPT@abc", id: "microsoft/DialoGPT-small", snap: hashD3, pinned: true},
		{spec: "DialoGPT@ABC1", id: "microsoft/DialoGPT-small", snap: hashD3, pinned: true},
		{spec: "DialoGPT@d1b", id: "microsoft/DialoGPT-small", snap: hashD2, pinned: true},
		{spec: "DialoGPT@d1", errType: mlxkerr.AmbiguousMatch, matches: []string{hashD1, hashD2}},
		{spec: "DialoGPT@fff", errType: mlxkerr.HashNotFound, hashes: []string{hashD3, hashD1, hashD2}},
		{spec: "DialoGPT@../../refs/main", errType: mlxkerr.HashNotFound},
		{spec: "Qwen/Qwen3-Coder-30B@stale", errType: mlxkerr.HashNotFound, hashes: []string{hashBeef}},
		{spec: "DialoGPT@", id: "microsoft/DialoGPT-small", snap: hashD1},
		{spec: "Model@hash@x", errType: mlxkerr.ModelNotFound},
		// Empty names are usage errors.
		{spec: "", errType: mlxkerr.CommandError},
		{spec: "   ", errType: mlxkerr.CommandError},
		{spec: "@abc", errType: mlxkerr.CommandError},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			t.Parallel()
			res, err := c.Resolve(tc.spec)
			if tc.errType != "" {
				var e *mlxkerr.Error
				if !errors.As(err, &e) {
					t.Fatalf("Resolve(%q) = %+v, %v; want a *mlxkerr.Error %s", tc.spec, res.Repo, err, tc.errType)
				}
				if e.Type != tc.errType {
					t.Fatalf("Resolve(%q) error type %q (%s), want %q", tc.spec, e.Type, e.Message, tc.errType)
				}
				if tc.matches != nil && !slices.Equal(e.Matches, tc.matches) {
					t.Errorf("Matches = %q, want %q", e.Matches, tc.matches)
				}
				if tc.hashes != nil && !slices.Equal(e.AvailableHashes, tc.hashes) {
					t.Errorf("AvailableHashes = %q, want %q", e.AvailableHashes, tc.hashes)
				}
				if tc.errType == mlxkerr.CommandError && mlxkerr.ExitCode(err) != 2 {
					t.Errorf("ExitCode = %d, want 2 for a usage error", mlxkerr.ExitCode(err))
				}
				if e.Message == "" {
					t.Error("error without a message")
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve(%q): %v", tc.spec, err)
			}
			if res.Repo.ID != tc.id {
				t.Errorf("Resolve(%q).Repo.ID = %q, want %q", tc.spec, res.Repo.ID, tc.id)
			}
			if !res.HasSnapshot {
				t.Fatalf("Resolve(%q) has no snapshot", tc.spec)
			}
			if tc.snap != "" && res.Snapshot.Name != tc.snap {
				t.Errorf("Resolve(%q).Snapshot = %q, want %q", tc.spec, res.Snapshot.Name, tc.snap)
			}
			if res.Pinned != tc.pinned {
				t.Errorf("Resolve(%q).Pinned = %v, want %v", tc.spec, res.Pinned, tc.pinned)
			}
			if res.Path() != res.Snapshot.Path {
				t.Errorf("Path() = %q, want the snapshot %q", res.Path(), res.Snapshot.Path)
			}
		})
	}
}

func TestResolveMessages(t *testing.T) {
	t.Parallel()
	c := mockCache(t)
	_, err := c.Resolve("nonexistent")
	if err == nil || err.Error() != "No model found matching 'nonexistent'" {
		t.Errorf("not found message = %v", err)
	}
	_, err = c.Resolve("Qwen3")
	if err == nil || err.Error() != "Multiple models match 'Qwen3'" {
		t.Errorf("ambiguous message = %v", err)
	}
	_, err = c.Resolve("DialoGPT@fff")
	if err == nil || err.Error() != "Hash 'fff' not found for model 'microsoft/DialoGPT-small'" {
		t.Errorf("hash message = %v", err)
	}
}

func TestResolveSubstringNeverListsSentinel(t *testing.T) {
	t.Parallel()
	c := mockCache(t)
	_, err := c.Resolve("-")
	var e *mlxkerr.Error
	if !errors.As(err, &e) || e.Type != mlxkerr.AmbiguousMatch {
		t.Fatalf("Resolve(\"-\") = %v, want ambiguous_match", err)
	}
	for _, m := range e.Matches {
		if strings.Contains(m, "TEST-CACHE-SENTINEL") {
			t.Errorf("Matches %q include the sentinel", e.Matches)
		}
	}
	if !slices.IsSorted(e.Matches) {
		t.Errorf("Matches %q are not sorted", e.Matches)
	}
}

func TestResolveNoSnapshot(t *testing.T) {
	t.Parallel()
	c := mockCache(t)
	res, err := c.Resolve("org/nosnap")
	if err != nil {
		t.Fatal(err)
	}
	if res.HasSnapshot || res.Pinned {
		t.Errorf("Resolve(org/nosnap) = %+v, want no snapshot", res)
	}
	if res.Path() != res.Repo.Dir {
		t.Errorf("Path() = %q, want the repo folder %q", res.Path(), res.Repo.Dir)
	}
	_, err = c.Resolve("org/nosnap@main")
	var e *mlxkerr.Error
	if !errors.As(err, &e) || e.Type != mlxkerr.HashNotFound || len(e.AvailableHashes) != 0 {
		t.Errorf("Resolve(org/nosnap@main) = %v, want hash_not_found with no hashes", err)
	}
}

func TestResolveMissingCache(t *testing.T) {
	t.Parallel()
	c := hubcache.Cache{Dir: filepath.Join(t.TempDir(), "missing")}
	_, err := c.Resolve("anything")
	var e *mlxkerr.Error
	if !errors.As(err, &e) || e.Type != mlxkerr.ModelNotFound {
		t.Errorf("Resolve on a missing cache = %v, want model_not_found", err)
	}
}

// A FIFO planted under refs/ must not block the readers (opening a FIFO for
// reading blocks until a writer appears).
func TestRefsFIFODoesNotBlock(t *testing.T) {
	t.Parallel()
	hub := t.TempDir()
	c := commit("abcd")
	testutil.PutModel(t, hub, "org/m", c, nil, map[string]string{"config.json": "{}"})
	repo := hubcache.Cache{Dir: hub}.Repo("org/m")
	must(t, os.MkdirAll(filepath.Join(repo.Dir, "refs"), 0o755))
	for _, name := range []string{"main", "dev"} {
		if err := syscall.Mkfifo(filepath.Join(repo.Dir, "refs", name), 0o644); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
	}
	done := make(chan string, 1)
	go func() {
		snap, ok, err := repo.Current()
		if err != nil || !ok || snap.Name != c {
			done <- "Current() = " + snap.Name
			return
		}
		if _, err := repo.Refs(); err != nil {
			done <- "Refs(): " + err.Error()
			return
		}
		if _, err := (hubcache.Cache{Dir: hub}).Resolve("org/m@dev"); err == nil {
			done <- "Resolve(org/m@dev) through a FIFO succeeded"
			return
		}
		done <- ""
	}()
	select {
	case msg := <-done:
		if msg != "" {
			t.Error(msg)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reading refs/ blocked on a FIFO")
	}
}
