package health_test

import (
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlxk/mlxk/shared/cachewrite"
	"github.com/mlxk/mlxk/shared/health"
	"github.com/mlxk/mlxk/shared/modeltypes"
	"github.com/mlxk/mlxk/shared/snapfiles"
)

// Special contents understood by the layouts.
const (
	broken = "\x00BROKEN" // a dangling symlink
	fifo   = "\x00FIFO"   // a named pipe
)

const lfsPointer = "version https://git-lfs.github.com/spec/v1\n" +
	"oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n" +
	"size 4000000000\n"

const (
	config  = `{"model_type":"llama","hidden_size":768}`
	weights = "\x08\x00\x00\x00\x00\x00\x00\x00{}      " // a tiny safetensors-like blob
)

// layout writes files into a fresh snapshot folder and returns it.
type layout func(t *testing.T, files map[string]string) string

// cacheLayout writes the files through cachewrite, as huggingface_hub lays
// them out (symlinks into blobs/); broken entries get their blob removed.
func cacheLayout(t *testing.T, files map[string]string) string {
	t.Helper()
	src := t.TempDir()
	var fs []cachewrite.File
	var brokenPaths []string
	for rel, content := range files {
		if content == fifo {
			continue
		}
		if content == broken {
			// Unique content so that removing the blob breaks only this link.
			content = "broken:" + rel
			brokenPaths = append(brokenPaths, rel)
		}
		p := filepath.Join(src, filepath.FromSlash(rel))
		mustWrite(t, p, content)
		fs = append(fs, cachewrite.File{Path: rel, Src: p})
	}
	w, err := cachewrite.Write(t.TempDir(), cachewrite.Snapshot{RepoID: "org/model", Refs: []string{"main"}, Files: fs})
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range brokenPaths {
		if err := os.Remove(w.Blobs[rel]); err != nil {
			t.Fatal(err)
		}
	}
	for rel, content := range files {
		if content == fifo {
			mkfifo(t, filepath.Join(w.Dir, filepath.FromSlash(rel)))
		}
	}
	return w.Dir
}

// plainLayout writes regular files into a folder (a workspace).
func plainLayout(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "snap")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for rel, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		switch content {
		case broken:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("does-not-exist", p); err != nil {
				t.Fatal(err)
			}
		case fifo:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			mkfifo(t, p)
		default:
			mustWrite(t, p, content)
		}
	}
	return dir
}

func mustWrite(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mkfifo(t *testing.T, p string) {
	t.Helper()
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
}

func index(files ...string) string {
	wm := map[string]string{}
	for i, f := range files {
		wm["layer."+string(rune('a'+i))+".weight"] = f
	}
	b, _ := json.Marshal(map[string]any{"metadata": map[string]any{"total_size": 123}, "weight_map": wm})
	return string(b)
}

// checkWithin runs Check and fails the test if it blocks.
func checkWithin(t *testing.T, dir string) health.Result {
	t.Helper()
	done := make(chan health.Result, 1)
	go func() { done <- health.Check(snapfiles.Scan(dir)) }()
	select {
	case r := <-done:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("health.Check blocked")
	}
	return health.Result{}
}

const (
	s1of2 = "model-00001-of-00002.safetensors"
	s2of2 = "model-00002-of-00002.safetensors"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		files   map[string]string
		healthy bool
		reason  string
	}{
		// config.json
		{"config missing", map[string]string{"model.safetensors": weights}, false, "config.json missing"},
		{"config dangling", map[string]string{"config.json": broken, "model.safetensors": weights}, false, "config.json missing"},
		{"config empty object", map[string]string{"config.json": "{}", "model.safetensors": weights}, false, "config.json is empty or invalid"},
		{"config array", map[string]string{"config.json": "[1]", "model.safetensors": weights}, false, "config.json is empty or invalid"},
		{"config string", map[string]string{"config.json": `"llama"`, "model.safetensors": weights}, false, "config.json is empty or invalid"},
		{"config invalid JSON", map[string]string{"config.json": `{"model_type":`, "model.safetensors": weights}, false, "config.json contains invalid JSON"},
		{"config empty file", map[string]string{"config.json": "", "model.safetensors": weights}, false, "config.json contains invalid JSON"},
		{"config FIFO", map[string]string{"config.json": fifo, "model.safetensors": weights}, false, "config.json is not a regular file"},
		{"config before weights", map[string]string{"config.json": "{}"}, false, "config.json is empty or invalid"},

		// Index path.
		{"index complete", map[string]string{"config.json": config, "model.safetensors.index.json": index(s1of2, s2of2),
			s1of2: weights, s2of2: weights}, true, "Multi-file model complete"},
		{"index missing shard", map[string]string{"config.json": config, "model.safetensors.index.json": index(s1of2, s2of2),
			s1of2: weights}, false, "Missing weight shards: " + s2of2},
		{"index dangling shard", map[string]string{"config.json": config, "model.safetensors.index.json": index(s1of2, s2of2),
			s1of2: weights, s2of2: broken}, false, "Missing weight shards: " + s2of2},
		{"index all shards missing, sorted", map[string]string{"config.json": config, "model.safetensors.index.json": index(s2of2, s1of2),
			"other.safetensors": weights}, false, "Missing weight shards: " + s1of2 + ", " + s2of2},
		{"index empty shard", map[string]string{"config.json": config, "model.safetensors.index.json": index(s1of2, s2of2),
			s1of2: weights, s2of2: ""}, false, "Empty weight shards: " + s2of2},
		{"index LFS pointer shard", map[string]string{"config.json": config, "model.safetensors.index.json": index(s1of2, s2of2),
			s1of2: lfsPointer, s2of2: weights}, false, "LFS pointers instead of files: " + s1of2},
		{"index missing beats empty", map[string]string{"config.json": config, "model.safetensors.index.json": index("a.safetensors", "b.safetensors"),
			"a.safetensors": ""}, false, "Missing weight shards: b.safetensors"},
		{"index: shard referenced twice", map[string]string{"config.json": config, "model.safetensors.index.json": index(s1of2, s1of2, s2of2),
			s1of2: weights, s2of2: weights}, true, "Multi-file model complete"},
		{"index skips partial and LFS scans", map[string]string{"config.json": config, "model.safetensors.index.json": index(s1of2, s2of2),
			s1of2: weights, s2of2: weights, "x.partial": "p", "README.md": lfsPointer}, true, "Multi-file model complete"},
		{"index shard in a folder", map[string]string{"config.json": config, "model.safetensors.index.json": index("sub/w.safetensors"),
			"sub/w.safetensors": weights}, true, "Multi-file model complete"},
		{"index: empty weight_map", map[string]string{"config.json": config, "model.safetensors.index.json": `{"weight_map":{}}`,
			"model.safetensors": weights}, false, "Empty or invalid weight_map in index"},
		{"index: no weight_map", map[string]string{"config.json": config, "model.safetensors.index.json": `{"metadata":{}}`,
			"model.safetensors": weights}, false, "Empty or invalid weight_map in index"},
		{"index: null weight_map", map[string]string{"config.json": config, "model.safetensors.index.json": `{"weight_map":null}`,
			"model.safetensors": weights}, false, "Empty or invalid weight_map in index"},
		{"index: list weight_map", map[string]string{"config.json": config, "model.safetensors.index.json": `{"weight_map":["model.safetensors"]}`,
			"model.safetensors": weights}, false, "Empty or invalid weight_map in index"},
		{"index: non-string shard", map[string]string{"config.json": config, "model.safetensors.index.json": `{"weight_map":{"a":1}}`,
			"model.safetensors": weights}, false, "Empty or invalid weight_map in index"},
		{"index: invalid JSON", map[string]string{"config.json": config, "model.safetensors.index.json": `{"weight_map":`,
			"model.safetensors": weights}, false, "Invalid index file"},
		{"index: FIFO", map[string]string{"config.json": config, "model.safetensors.index.json": fifo,
			"model.safetensors": weights}, false, "Invalid index file"},
		{"index ignored without safetensors", map[string]string{"config.json": config, "model.safetensors.index.json": index("gone.safetensors"),
			"model.gguf": weights}, true, "Model is healthy"},
		{"pytorch index complete", map[string]string{"config.json": config,
			"pytorch_model.bin.index.json":     index("pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin"),
			"pytorch_model-00001-of-00002.bin": weights, "pytorch_model-00002-of-00002.bin": weights}, true, "Multi-file model complete"},
		{"pytorch index missing shard", map[string]string{"config.json": config,
			"pytorch_model.bin.index.json":     index("pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin"),
			"pytorch_model-00001-of-00002.bin": weights}, false, "Missing weight shards: pytorch_model-00002-of-00002.bin"},
		{"hostile index escaping the snapshot", map[string]string{"config.json": config,
			"model.safetensors.index.json": index("../../etc/passwd", "model.safetensors"), "model.safetensors": weights},
			false, "Missing weight shards: ../../etc/passwd"},
		{"hostile index: absolute path", map[string]string{"config.json": config,
			"model.safetensors.index.json": index("/etc/passwd"), "model.safetensors": weights},
			false, "Missing weight shards: /etc/passwd"},
		{"index complete but a dangling extra file", map[string]string{"config.json": config, "model.safetensors.index.json": index(s1of2, s2of2),
			s1of2: weights, s2of2: weights, "tokenizer.json": broken}, false, "Missing files (dangling symlinks): tokenizer.json"},

		// No-index path: shard pattern.
		{"pattern missing shards", map[string]string{"config.json": config,
			"model-00001-of-00003.safetensors": weights, "model-00003-of-00003.safetensors": weights},
			false, "Missing shards by pattern: 2/3 present"},
		{"pattern inconsistent totals", map[string]string{"config.json": config,
			"model-00001-of-00002.safetensors": weights, "model-00001-of-00003.safetensors": weights},
			false, "Inconsistent shard totals detected"},
		{"pattern empty shard", map[string]string{"config.json": config, s1of2: weights, s2of2: ""},
			false, "Empty shards: " + s2of2},
		{"pattern complete without index", map[string]string{"config.json": config, s1of2: weights, s2of2: weights},
			false, "Safetensors index missing for sharded model"},
		{"pattern complete, index is a dangling link", map[string]string{"config.json": config, s1of2: weights, s2of2: weights,
			"model.safetensors.index.json": broken}, false, "Safetensors index missing for sharded model"},
		{"pattern dangling shard", map[string]string{"config.json": config, s1of2: weights, s2of2: broken},
			false, "Missing weight files (dangling symlinks): " + s2of2},

		// No-index path: other rules.
		{"partial marker .partial.tmp", map[string]string{"config.json": config, "model.safetensors": weights,
			"model.safetensors.partial.tmp": "x"}, false, "Partial download marker detected"},
		{"partial marker .tmp", map[string]string{"config.json": config, "model.safetensors": weights,
			"download.TMP": "x"}, false, "Partial download marker detected"},
		{"partial marker .partial in a folder", map[string]string{"config.json": config, "model.safetensors": weights,
			"sub/blob.partial": "x"}, false, "Partial download marker detected"},
		{"partial in the name", map[string]string{"config.json": config, "model.safetensors": weights,
			"Partial_notes.txt": "x"}, false, "Partial download marker detected"},
		{"no weights", map[string]string{"config.json": config}, false, "No model weights found"},
		{"no weights, other files", map[string]string{"config.json": config, "tokenizer.json": "{}", "README.md": "# m"},
			false, "No model weights found"},
		{"empty weights", map[string]string{"config.json": config, "model.safetensors": ""}, false, "Empty weight files: model.safetensors"},
		{"empty weights listed", map[string]string{"config.json": config, "a.safetensors": "", "b.bin": "", "c.gguf": weights},
			false, "Empty weight files: a.safetensors, b.bin"},
		{"FIFO weight is empty", map[string]string{"config.json": config, "model.safetensors": fifo},
			false, "Empty weight files: model.safetensors"},
		{"LFS pointer weight", map[string]string{"config.json": config, "model.safetensors": lfsPointer},
			false, "LFS pointers instead of files: model.safetensors"},
		{"LFS pointer non-weight", map[string]string{"config.json": config, "model.safetensors": weights, "sub/tokenizer.json": lfsPointer},
			false, "LFS pointers instead of files: sub/tokenizer.json"},
		{"dangling weight", map[string]string{"config.json": config, "model.safetensors": broken},
			false, "Missing weight files (dangling symlinks): model.safetensors"},
		{"dangling non-weight", map[string]string{"config.json": config, "model.safetensors": weights, "tokenizer.json": broken},
			false, "Missing files (dangling symlinks): tokenizer.json"},
		{"healthy", map[string]string{"config.json": config, "model.safetensors": weights, "tokenizer.json": "{}"},
			true, "Model is healthy"},
		{"healthy GGUF", map[string]string{"config.json": config, "model-q4_0.gguf": weights}, true, "Model is healthy"},
		{"healthy bin", map[string]string{"config.json": config, "pytorch_model.bin": weights}, true, "Model is healthy"},
		{"healthy nested weights", map[string]string{"config.json": config, "sub/model.safetensors": weights}, true, "Model is healthy"},
		{"top-level weights hide nested ones", map[string]string{"config.json": config, "model.safetensors": weights,
			"sub/empty.safetensors": ""}, true, "Model is healthy"},
		{"legacy weights are healthy", map[string]string{"config.json": config, "weights.00.safetensors": weights},
			true, "Model is healthy"},
	}
	layouts := map[string]layout{"cache": cacheLayout, "plain": plainLayout}
	for lname, mk := range layouts {
		for _, tc := range tests {
			t.Run(lname+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				dir := mk(t, tc.files)
				r := checkWithin(t, dir)
				if r.Healthy != tc.healthy || r.Reason != tc.reason {
					t.Errorf("Check = {%v %q}, want {%v %q}", r.Healthy, r.Reason, tc.healthy, tc.reason)
				}
			})
		}
	}
}

func TestCheckPathDoesNotExist(t *testing.T) {
	t.Parallel()
	r := health.Check(snapfiles.Scan(filepath.Join(t.TempDir(), "gone")))
	if r.Healthy || r.Reason != "Model path does not exist" {
		t.Errorf("Check(missing) = %+v", r)
	}
}

// A hostile index pointing at a real file outside the snapshot must not
// find it.
func TestCheckIndexNeverLeavesSnapshot(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "snapshots", "abc")
	mustWrite(t, filepath.Join(root, "outside.safetensors"), weights)
	mustWrite(t, filepath.Join(root, "snapshots", "sibling.safetensors"), weights)
	abs := filepath.Join(root, "outside.safetensors")
	mustWrite(t, filepath.Join(dir, "config.json"), config)
	mustWrite(t, filepath.Join(dir, "model.safetensors"), weights)
	for _, ref := range []string{"../../outside.safetensors", "../sibling.safetensors", abs, "sub/../../sibling.safetensors"} {
		mustWrite(t, filepath.Join(dir, "model.safetensors.index.json"), index(ref))
		r := health.Check(snapfiles.Scan(dir))
		if r.Healthy || r.Reason != "Missing weight shards: "+ref {
			t.Errorf("index ref %q: Check = %+v, want it reported missing", ref, r)
		}
	}
}

func TestCheckUnreadableFolder(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root reads every folder")
	}
	dir := plainLayout(t, map[string]string{"config.json": config, "model.safetensors": weights, "locked/x": "x"})
	if err := os.Chmod(filepath.Join(dir, "locked"), 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(dir, "locked"), 0o755) })
	r := health.Check(snapfiles.Scan(dir))
	if r.Healthy || r.Reason != "Unreadable folders: locked" {
		t.Errorf("Check = %+v", r)
	}
}

func TestRuntime(t *testing.T) {
	t.Parallel()
	llama := map[string]any{"model_type": "llama"}
	tests := []struct {
		name      string
		files     map[string]string
		config    map[string]any
		framework string
		ok        bool
		reason    string // exact, unless contains is set
		contains  []string
	}{
		{"GGUF", map[string]string{"model.gguf": weights, "tokenizer.json": "{}"}, llama, "GGUF", false, "Incompatible: GGUF", nil},
		{"PyTorch", map[string]string{"model.safetensors": weights, "tokenizer.json": "{}"}, llama, "PyTorch", false, "Incompatible: PyTorch", nil},
		{"Unknown", map[string]string{"model.safetensors": weights}, llama, "Unknown", false, "Incompatible: Unknown", nil},
		{"GGUF before legacy", map[string]string{"weights.00.safetensors": weights}, llama, "GGUF", false, "Incompatible: GGUF", nil},
		{"legacy weights.00", map[string]string{"weights.00.safetensors": weights, "tokenizer.json": "{}"}, llama, "MLX",
			false, "Legacy format not supported by mlx-lm", nil},
		{"legacy pytorch_model-00001", map[string]string{"pytorch_model-00001.safetensors": weights, "tokenizer.json": "{}"}, llama, "MLX",
			false, "Legacy format not supported by mlx-lm", nil},
		{"legacy before model_type", map[string]string{"weights.1.safetensors": weights}, map[string]any{"model_type": "nope"}, "MLX",
			false, "Legacy format not supported by mlx-lm", nil},
		{"legacy + model.safetensors passes gate 2", map[string]string{"weights.00.safetensors": weights, "model.safetensors": weights,
			"tokenizer.json": "{}"}, llama, "MLX", true, "", nil},
		{"legacy + sharded modern passes", map[string]string{"pytorch_model-00001.safetensors": weights, s1of2: weights, s2of2: weights,
			"tokenizer.json": "{}"}, llama, "MLX", true, "", nil},
		{"sharded modern passes", map[string]string{s1of2: weights, s2of2: weights, "tokenizer.json": "{}"}, llama, "MLX", true, "", nil},
		{"other names pass", map[string]string{"foo.safetensors": weights, "tokenizer.json": "{}"}, llama, "MLX", true, "", nil},
		{"nested legacy is not checked", map[string]string{"sub/weights.00.safetensors": weights, "tokenizer.json": "{}"}, llama, "MLX", true, "", nil},
		{"no config", map[string]string{"model.safetensors": weights, "tokenizer.json": "{}"}, nil, "MLX",
			false, "config.json missing (required for model_type detection)", nil},
		{"no model_type", map[string]string{"model.safetensors": weights, "tokenizer.json": "{}"}, map[string]any{"hidden_size": 1}, "MLX",
			false, "config.json missing model_type field", nil},
		{"empty model_type", map[string]string{"model.safetensors": weights, "tokenizer.json": "{}"}, map[string]any{"model_type": ""}, "MLX",
			false, "config.json missing model_type field", nil},
		{"non-string model_type", map[string]string{"model.safetensors": weights, "tokenizer.json": "{}"}, map[string]any{"model_type": 7}, "MLX",
			false, "config.json missing model_type field", nil},
		{"unsupported model_type", map[string]string{"model.safetensors": weights, "tokenizer.json": "{}"},
			map[string]any{"model_type": "fake_arch_xyz"}, "MLX", false, "", []string{"model_type", "fake_arch_xyz", "not supported"}},
		{"llama compatible", map[string]string{"model.safetensors": weights, "tokenizer.json": "{}"}, llama, "MLX", true, "", nil},
		{"missing tokenizer.json", map[string]string{"model.safetensors": weights, "tokenizer_config.json": "{}"}, llama, "MLX",
			false, "tokenizer.json missing (required by the mlxk engine)", nil},
		{"dangling tokenizer.json", map[string]string{"model.safetensors": weights, "tokenizer.json": broken}, llama, "MLX",
			false, "tokenizer.json missing (required by the mlxk engine)", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := snapfiles.Scan(cacheLayout(t, tc.files))
			ok, reason := health.Runtime(l, tc.config, tc.framework)
			if ok != tc.ok {
				t.Errorf("Runtime ok = %v (%q), want %v", ok, reason, tc.ok)
			}
			if tc.contains != nil {
				for _, s := range tc.contains {
					if !strings.Contains(reason, s) {
						t.Errorf("reason %q does not mention %q", reason, s)
					}
				}
				for _, s := range []string{"Incompatible", "Legacy"} {
					if strings.Contains(reason, s) {
						t.Errorf("reason %q mentions %q", reason, s)
					}
				}
			} else if reason != tc.reason {
				t.Errorf("Runtime reason = %q, want %q", reason, tc.reason)
			}
		})
	}
}

func TestRuntimeEverySupportedType(t *testing.T) {
	t.Parallel()
	l := snapfiles.Scan(plainLayout(t, map[string]string{"model.safetensors": weights, "tokenizer.json": "{}"}))
	types := modeltypes.All()
	if len(types) == 0 {
		t.Fatal("modeltypes.All() is empty")
	}
	for _, mt := range types {
		if ok, reason := health.Runtime(l, map[string]any{"model_type": mt}, "MLX"); !ok {
			t.Errorf("model_type %s: %q", mt, reason)
		}
	}
}

func FuzzCheck(f *testing.F) {
	f.Add([]byte(config), []byte(index(s1of2, s2of2)), uint8(0b0011))
	f.Add([]byte(config), []byte(index(s1of2, s2of2)), uint8(0b0001))
	f.Add([]byte(config), []byte(index("../../etc/passwd")), uint8(0b1111))
	f.Add([]byte(`{}`), []byte(`{"weight_map":{}}`), uint8(0b0100))
	f.Add([]byte(`{"a":`), []byte(`[]`), uint8(0))
	f.Add([]byte(config), []byte(`{"weight_map":{"a":"../outside.safetensors"}}`), uint8(0b0111))
	f.Add([]byte(config), []byte(`{"weight_map":{"a":"model.safetensors","b":null}}`), uint8(0b1100))
	f.Add([]byte(config), []byte(`{"weight_map":{"a":"sub/x.safetensors"}}`), uint8(0b1000))
	f.Fuzz(func(t *testing.T, cfg, idx []byte, flags uint8) {
		root := t.TempDir()
		dir := filepath.Join(root, "snapshots", "snap")
		mustWrite(t, filepath.Join(root, "outside.safetensors"), weights)
		mustWrite(t, filepath.Join(dir, "config.json"), string(cfg))
		mustWrite(t, filepath.Join(dir, "model.safetensors.index.json"), string(idx))
		if flags&1 != 0 {
			mustWrite(t, filepath.Join(dir, s1of2), weights)
		}
		if flags&2 != 0 {
			mustWrite(t, filepath.Join(dir, s2of2), weights)
		}
		if flags&4 != 0 {
			mustWrite(t, filepath.Join(dir, "model.safetensors"), weights)
		}
		if flags&8 != 0 {
			mustWrite(t, filepath.Join(dir, "sub", "x.safetensors"), lfsPointer)
		}
		l := snapfiles.Scan(dir)
		r := health.Check(l)
		if r.Reason == "" {
			t.Fatalf("Check returned an empty reason (healthy %v)", r.Healthy)
		}
		_, cst, _ := snapfiles.ParseJSONObject(cfg)
		if cst != snapfiles.JSONOK && r.Healthy {
			t.Fatalf("healthy with config %q", cfg)
		}
		if !r.Healthy {
			return
		}
		if r.Reason != "Multi-file model complete" && r.Reason != "Model is healthy" {
			t.Fatalf("healthy with reason %q", r.Reason)
		}
		if r.Reason != "Multi-file model complete" {
			return
		}
		// Healthy through the index: every referenced shard is a
		// non-empty, real file inside the snapshot.
		var doc struct {
			WeightMap map[string]string `json:"weight_map"`
		}
		if err := json.Unmarshal(idx, &doc); err != nil || len(doc.WeightMap) == 0 {
			t.Fatalf("healthy via an index the standard library rejects: %v", err)
		}
		for _, ref := range doc.WeightMap {
			clean := path.Clean(strings.TrimPrefix(ref, "./"))
			if !filepath.IsLocal(clean) {
				t.Fatalf("healthy although the index references %q outside the snapshot", ref)
			}
			f, ok := l.Get(clean)
			if !ok || f.Broken || f.Size == 0 || l.IsLFSPointer(f) {
				t.Fatalf("healthy although shard %q is %+v (found %v)", ref, f, ok)
			}
		}
	})
}

func TestCheckConfigTooLarge(t *testing.T) {
	t.Parallel()
	dir := plainLayout(t, map[string]string{"model.safetensors": weights})
	// A sparse config.json one byte over the limit is refused unread.
	f, err := os.Create(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(snapfiles.ConfigLimit + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r := health.Check(snapfiles.Scan(dir))
	if r.Healthy || r.Reason != "config.json is too large" {
		t.Errorf("Check = %+v, want config.json is too large", r)
	}
}
