package modelinfo_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlxk/mlxk/shared/internal/testutil"

	"github.com/mlxk/mlxk/shared/hubcache"
	"github.com/mlxk/mlxk/shared/modelinfo"
	"github.com/mlxk/mlxk/shared/snapfiles"
)

const (
	llamaConfig = `{"model_type":"llama","hidden_size":768}`
	weights     = "\x08\x00\x00\x00\x00\x00\x00\x00{}      "
)

func TestParseFrontMatter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want *modelinfo.FrontMatter // nil = no front-matter
	}{
		{"inline tags", "---\ntags: [mlx, text-generation]\n---\n# Model\n",
			&modelinfo.FrontMatter{Tags: []string{"mlx", "text-generation"}}},
		{"inline quoted tags", "---\ntags: [\"mlx\", 'chat' ,  , \"\"]\n---\n",
			&modelinfo.FrontMatter{Tags: []string{"mlx", "chat"}}},
		{"block tags", "---\nlicense: mit\ntags:\n- mlx\n  -   \"quoted\"\n- 'single'\nlibrary_name: transformers\n---\n",
			&modelinfo.FrontMatter{Tags: []string{"mlx", "quoted", "single"}, LibraryName: "transformers"}},
		{"block tags end at a non-dash line", "---\ntags:\n- a\npipeline_tag: text-generation\n- b\n---\n",
			&modelinfo.FrontMatter{Tags: []string{"a"}}},
		{"block tags skip blank lines", "---\ntags:\n- a\n\n- b\n---\n",
			&modelinfo.FrontMatter{Tags: []string{"a", "b"}}},
		{"quoted library_name", "---\nlibrary_name: \"mlx\"\n---\n", &modelinfo.FrontMatter{LibraryName: "mlx"}},
		{"single-quoted library_name", "---\nlibrary_name: 'mlx'\n---\n", &modelinfo.FrontMatter{LibraryName: "mlx"}},
		{"library_name key is case-insensitive", "---\nLibrary_Name: MLX\n---\n", &modelinfo.FrontMatter{LibraryName: "MLX"}},
		{"library_name value with a colon", "---\nlibrary_name: a:b\n---\n", &modelinfo.FrontMatter{LibraryName: "a:b"}},
		{"TAGS key is case-insensitive", "---\nTAGS: [x]\n---\n", &modelinfo.FrontMatter{Tags: []string{"x"}}},
		{"scalar tags are ignored", "---\ntags: mlx\n---\n", &modelinfo.FrontMatter{}},
		{"CRLF and padded delimiters", "  ---  \r\ntags: [mlx]\r\nlibrary_name: mlx\r\n --- \r\nbody", &modelinfo.FrontMatter{Tags: []string{"mlx"}, LibraryName: "mlx"}},
		{"only the header counts", "---\nlicense: mit\n---\ntags: [mlx]\nlibrary_name: mlx\n", &modelinfo.FrontMatter{}},
		{"no closing delimiter", "---\ntags: [mlx]\nlibrary_name: mlx\n", nil},
		{"empty block", "---\n---\n", nil},
		{"not at the top", "\n---\ntags: [mlx]\n---\n", nil},
		{"no front-matter", "# Model\n\ntags: [mlx]\n", nil},
		{"empty input", "", nil},
		{"dashes only", "----\ntags: [mlx]\n---\n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := modelinfo.ParseFrontMatter([]byte(tc.in))
			if tc.want == nil {
				if got != nil {
					t.Fatalf("ParseFrontMatter = %+v, want nil", got)
				}
				return
			}
			if got == nil {
				t.Fatal("ParseFrontMatter = nil")
			}
			if !slices.Equal(got.Tags, tc.want.Tags) || got.LibraryName != tc.want.LibraryName {
				t.Errorf("ParseFrontMatter = %+v, want %+v", *got, *tc.want)
			}
		})
	}
}

func TestSaysMLX(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fm   *modelinfo.FrontMatter
		want bool
	}{
		{nil, false},
		{&modelinfo.FrontMatter{}, false},
		{&modelinfo.FrontMatter{Tags: []string{"text-generation", "MLX"}}, true},
		{&modelinfo.FrontMatter{LibraryName: "Mlx"}, true},
		{&modelinfo.FrontMatter{LibraryName: "mlx-lm"}, false},
		{&modelinfo.FrontMatter{Tags: []string{"mlx-lm", "mlx-community"}}, false},
	}
	for _, tc := range tests {
		if got := tc.fm.SaysMLX(); got != tc.want {
			t.Errorf("%+v.SaysMLX() = %v, want %v", tc.fm, got, tc.want)
		}
	}
}

func TestInspectFramework(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		id    string
		files map[string]string
		want  string
	}{
		{"mlx-community name", "mlx-community/Phi-3", map[string]string{"config.json": llamaConfig, "model.safetensors": weights}, modelinfo.MLX},
		{"mlx-community name beats GGUF", "mlx-community/x-GGUF", map[string]string{"config.json": llamaConfig, "model.gguf": weights}, modelinfo.MLX},
		{"front-matter library_name", "org/private", map[string]string{"config.json": llamaConfig, "model.safetensors": weights,
			"README.md": "---\nlibrary_name: mlx\n---\n"}, modelinfo.MLX},
		{"front-matter tag", "org/private", map[string]string{"config.json": llamaConfig, "model.safetensors": weights,
			"README.md": "---\ntags:\n- mlx\n---\n"}, modelinfo.MLX},
		{"README without front-matter", "org/private", map[string]string{"config.json": llamaConfig, "model.safetensors": weights,
			"README.md": "# library_name: mlx\n"}, modelinfo.PyTorch},
		{"gguf", "TheBloke/Llama-2-7B-Chat-GGUF", map[string]string{"config.json": llamaConfig, "q4_0.gguf": weights}, modelinfo.GGUF},
		{"nested gguf", "org/x", map[string]string{"config.json": llamaConfig, "sub/q4_0.gguf": weights, "model.safetensors": weights}, modelinfo.GGUF},
		{"config quantization", "org/private", map[string]string{"config.json": `{"model_type":"llama","quantization":{"bits":4,"group_size":64}}`,
			"model.safetensors": weights}, modelinfo.MLX},
		{"empty quantization", "org/private", map[string]string{"config.json": `{"model_type":"llama","quantization":{}}`,
			"model.safetensors": weights}, modelinfo.PyTorch},
		{"quantization_config is not MLX", "org/x", map[string]string{"config.json": `{"model_type":"llama","quantization_config":{"bits":4}}`,
			"model.safetensors": weights}, modelinfo.PyTorch},
		{"safetensors", "org/x", map[string]string{"config.json": llamaConfig, "model.safetensors": weights}, modelinfo.PyTorch},
		{"pytorch bin", "org/x", map[string]string{"config.json": llamaConfig, "pytorch_model-00001-of-00002.bin": weights}, modelinfo.PyTorch},
		{"other bin", "org/x", map[string]string{"config.json": llamaConfig, "training_args.bin": weights}, modelinfo.Unknown},
		{"nothing", "org/x", map[string]string{"config.json": llamaConfig}, modelinfo.Unknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := testutil.PutModel(t, t.TempDir(), tc.id, "", []string{"main"}, tc.files)
			in := modelinfo.Inspect(tc.id, w.Dir)
			if in.Framework != tc.want {
				t.Errorf("Framework = %q, want %q", in.Framework, tc.want)
			}
		})
	}
}

func TestInspectModelType(t *testing.T) {
	t.Parallel()
	chat := []string{"text-generation", "chat"}
	base := []string{"text-generation"}
	tests := []struct {
		name  string
		id    string
		files map[string]string
		typ   string
		caps  []string
	}{
		{"embed in name", "nomic-ai/nomic-Embed-text", map[string]string{"config.json": llamaConfig}, "embedding", []string{"embeddings"}},
		{"embed beats chat template", "org/embedder-instruct", map[string]string{"config.json": llamaConfig,
			"tokenizer_config.json": `{"chat_template":"{{ messages }}"}`}, "embedding", []string{"embeddings"}},
		{"config model_type chat", "org/x", map[string]string{"config.json": `{"model_type":"chat"}`}, "chat", chat},
		{"tokenizer_config chat_template", "org/x", map[string]string{"config.json": llamaConfig,
			"tokenizer_config.json": `{"chat_template":"{% for m in messages %}{{ m.content }}{% endfor %}"}`}, "chat", chat},
		{"blank chat_template", "org/x", map[string]string{"config.json": llamaConfig,
			"tokenizer_config.json": `{"chat_template":"  \n "}`}, "base", base},
		{"list-form chat_template", "org/x", map[string]string{"config.json": llamaConfig,
			"tokenizer_config.json": `{"chat_template":[{"name":"default","template":"{{ x }}"},{"name":"tool_use","template":""}]}`}, "chat", chat},
		{"list-form without templates", "org/x", map[string]string{"config.json": llamaConfig,
			"tokenizer_config.json": `{"chat_template":[{"name":"default","template":" "},"junk"]}`}, "base", base},
		{"chat_template.jinja", "org/x", map[string]string{"config.json": llamaConfig, "chat_template.jinja": "{{ messages }}"}, "chat", chat},
		{"chat_template.json", "org/x", map[string]string{"config.json": llamaConfig, "chat_template.json": `{"chat_template":"x"}`}, "chat", chat},
		{"tokenizer.json chat_template", "org/x", map[string]string{"config.json": llamaConfig,
			"tokenizer.json": `{"version":"1.0","chat_template":"{{ x }}"}`}, "chat", chat},
		{"tokenizer_config without template falls back to tokenizer.json", "org/x", map[string]string{"config.json": llamaConfig,
			"tokenizer_config.json": `{"bos_token":"<s>"}`, "tokenizer.json": `{"chat_template":"t"}`}, "chat", chat},
		{"invalid tokenizer_config", "org/x", map[string]string{"config.json": llamaConfig, "tokenizer_config.json": `{"chat_template":`}, "base", base},
		{"instruct in name", "mlx-community/Phi-3-mini-4k-INSTRUCT-4bit", map[string]string{"config.json": llamaConfig}, "chat", chat},
		{"chat in name", "TheBloke/Llama-2-7B-Chat-GGUF", map[string]string{"config.json": llamaConfig}, "chat", chat},
		{"base", "org/Llama-3-8B", map[string]string{"config.json": llamaConfig, "tokenizer.json": `{"model":{}}`}, "base", base},
		{"no config", "org/base", map[string]string{"README.md": "x"}, "base", base},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := testutil.PutModel(t, t.TempDir(), tc.id, "", []string{"main"}, tc.files)
			in := modelinfo.Inspect(tc.id, w.Dir)
			if in.ModelType != tc.typ || !slices.Equal(in.Capabilities, tc.caps) {
				t.Errorf("ModelType %q Capabilities %q, want %q %q", in.ModelType, in.Capabilities, tc.typ, tc.caps)
			}
		})
	}
}

func TestInspectVerdicts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		id            string
		files         map[string]string
		healthy       bool
		runtime       bool
		reason        string
		reasonHas     string
		configPresent bool
	}{
		{"compatible MLX llama", "mlx-community/Llama-3-8B-4bit", map[string]string{"config.json": llamaConfig,
			"model.safetensors": weights, "tokenizer.json": "{}"}, true, true, "", "", true},
		{"unhealthy beats framework", "org/x-GGUF", map[string]string{"q4_0.gguf": weights}, false, false, "config.json missing", "", false},
		{"unhealthy beats legacy", "mlx-community/old", map[string]string{"weights.00.safetensors": weights}, false, false, "config.json missing", "", false},
		{"healthy GGUF", "org/x-GGUF", map[string]string{"config.json": llamaConfig, "q4_0.gguf": weights}, true, false, "Incompatible: GGUF", "", true},
		{"healthy PyTorch", "org/x", map[string]string{"config.json": llamaConfig, "model.safetensors": weights,
			"tokenizer.json": "{}"}, true, false, "Incompatible: PyTorch", "", true},
		{"legacy MLX", "mlx-community/old", map[string]string{"config.json": llamaConfig, "weights.00.safetensors": weights,
			"tokenizer.json": "{}"}, true, false, "Legacy format not supported by mlx-lm", "", true},
		{"unsupported model_type", "mlx-community/odd", map[string]string{"config.json": `{"model_type":"weird_arch"}`,
			"model.safetensors": weights, "tokenizer.json": "{}"}, true, false, "", "not supported", true},
		{"no weights", "mlx-community/empty", map[string]string{"config.json": llamaConfig}, false, false, "No model weights found", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := testutil.PutModel(t, t.TempDir(), tc.id, "", []string{"main"}, tc.files)
			in := modelinfo.Inspect(tc.id, w.Dir)
			if in.RepoID != tc.id || in.Files.Dir != w.Dir {
				t.Errorf("RepoID %q Files.Dir %q", in.RepoID, in.Files.Dir)
			}
			if in.Health.Healthy != tc.healthy || in.Runtime != tc.runtime {
				t.Errorf("healthy %v runtime %v (%q), want %v %v", in.Health.Healthy, in.Runtime, in.Reason(), tc.healthy, tc.runtime)
			}
			if tc.reasonHas != "" {
				if !strings.Contains(in.Reason(), tc.reasonHas) || !strings.Contains(in.Reason(), "model_type") {
					t.Errorf("Reason() = %q, want it to mention model_type and %q", in.Reason(), tc.reasonHas)
				}
			} else if in.Reason() != tc.reason {
				t.Errorf("Reason() = %q, want %q", in.Reason(), tc.reason)
			}
			if (in.Config != nil) != tc.configPresent {
				t.Errorf("Config = %v, want present %v", in.Config, tc.configPresent)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	hub := t.TempDir()
	const c = "e9675aa3def456789abcdef0123456789abcdef0"
	files := map[string]string{"config.json": llamaConfig, "model.safetensors": weights, "tokenizer.json": "{}"}
	w := testutil.PutModel(t, hub, "mlx-community/Phi-3-mini-4k-instruct-4bit", c, []string{"main"}, files)
	mtime := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	if err := os.Chtimes(w.Dir, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	res, err := hubcache.Cache{Dir: hub}.Resolve("Phi-3-mini-4k-instruct-4bit")
	if err != nil {
		t.Fatal(err)
	}
	m, in := modelinfo.Describe(res)
	var size int64
	for _, content := range files {
		size += int64(len(content))
	}
	if m.Name != "mlx-community/Phi-3-mini-4k-instruct-4bit" || m.Hash == nil || *m.Hash != c ||
		m.SizeBytes != size || m.LastModified != "2025-03-04T05:06:07Z" || m.Framework != "MLX" ||
		m.ModelType != "chat" || !slices.Equal(m.Capabilities, []string{"text-generation", "chat"}) ||
		m.Health != "healthy" || !m.RuntimeCompatible || m.Reason != nil || !m.Cached {
		t.Errorf("Describe = %+v", m)
	}
	if in.Framework != m.Framework {
		t.Errorf("inspection framework %q", in.Framework)
	}

	// JSON keys in the order of mlx-knife's model object.
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"name", "hash", "size_bytes", "last_modified", "framework", "model_type", "capabilities",
		"health", "runtime_compatible", "reason", "cached"}
	if got := testutil.Keys(t, b); !slices.Equal(got, want) {
		t.Errorf("keys = %q, want %q", got, want)
	}
	if !bytes.Contains(b, []byte(`"reason":null`)) {
		t.Errorf("reason is not null: %s", b)
	}
}

func TestDescribeUnhealthyAndNonCommitSnapshot(t *testing.T) {
	t.Parallel()
	hub := t.TempDir()
	w := testutil.PutModel(t, hub, "org/model", "", []string{"main"}, map[string]string{"model.safetensors": weights})
	snapDir := filepath.Join(filepath.Dir(w.Dir), "main")
	if err := os.Rename(w.Dir, snapDir); err != nil {
		t.Fatal(err)
	}
	res, err := hubcache.Cache{Dir: hub}.Resolve("org/model")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := modelinfo.Describe(res)
	if m.Hash != nil {
		t.Errorf("Hash = %q, want nil for a snapshot named main", *m.Hash)
	}
	if m.Health != "unhealthy" || m.RuntimeCompatible || m.Reason == nil || *m.Reason != "config.json missing" {
		t.Errorf("Describe = %+v", m)
	}
}

func TestDescribeNoSnapshot(t *testing.T) {
	t.Parallel()
	hub := t.TempDir()
	w := testutil.PutModel(t, hub, "org/gone", "", []string{"main"}, map[string]string{"config.json": llamaConfig, "model.safetensors": weights})
	repoDir := filepath.Dir(filepath.Dir(w.Dir))
	if err := os.RemoveAll(filepath.Join(repoDir, "snapshots")); err != nil {
		t.Fatal(err)
	}
	// A hard link to a blob must not be counted twice.
	blob := w.Blobs["model.safetensors"]
	if err := os.Link(blob, filepath.Join(repoDir, "extra-link")); err != nil {
		t.Fatal(err)
	}
	res, err := hubcache.Cache{Dir: hub}.Resolve("org/gone")
	if err != nil {
		t.Fatal(err)
	}
	if res.HasSnapshot {
		t.Fatal("resolved a snapshot")
	}
	m, _ := modelinfo.Describe(res)
	if m.Health != "unhealthy" || m.Reason == nil || *m.Reason != "No snapshots found" || m.RuntimeCompatible || m.Hash != nil {
		t.Errorf("Describe = %+v", m)
	}
	// Every regular file of the repo folder once: the two blobs and refs/main
	// (40 bytes), not the hard link.
	if want := int64(len(llamaConfig) + len(weights) + 40); m.SizeBytes != want {
		t.Errorf("SizeBytes = %d, want %d (each blob once)", m.SizeBytes, want)
	}
	if !strings.HasSuffix(m.LastModified, "Z") || m.LastModified == "1970-01-01T00:00:00Z" {
		t.Errorf("LastModified = %q, want the repo folder's mtime", m.LastModified)
	}
}

func TestForEach(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 7, 1000} {
		counts := make([]atomic.Int32, n)
		modelinfo.ForEach(n, func(i int) { counts[i].Add(1) })
		for i := range counts {
			if c := counts[i].Load(); c != 1 {
				t.Fatalf("n=%d: index %d ran %d times", n, i, c)
			}
		}
	}
}

func TestExtractMetadata(t *testing.T) {
	t.Parallel()
	parse := func(s string) map[string]any {
		m, _, err := snapfiles.ParseJSONObject([]byte(s))
		if err != nil {
			t.Fatalf("bad test config %s: %v", s, err)
		}
		return m
	}
	tests := []struct {
		name   string
		config map[string]any
		want   string // JSON of the metadata, "null" for nil
	}{
		{"nil", nil, "null"},
		{"empty", map[string]any{}, "null"},
		{"unknown keys only", parse(`{"foo":1,"torch_dtype":"float16"}`), "null"},
		{"full", parse(`{"model_type":"llama","architectures":["LlamaForCausalLM","Other"],"quantization":{"group_size":64,"bits":4},` +
			`"max_position_embeddings":4096,"vocab_size":32000,"hidden_size":4096,"num_attention_heads":32,"num_hidden_layers":32}`),
			`{"model_type":"llama","architecture":"LlamaForCausalLM","quantization":"4bit","context_length":4096,` +
				`"vocab_size":32000,"hidden_size":4096,"num_attention_heads":32,"num_hidden_layers":32}`},
		{"HF quantization_config", parse(`{"quantization_config":{"bits":8,"quant_method":"gptq"}}`), `{"quantization":"8bit"}`},
		{"MLX quantization wins", parse(`{"quantization":{"bits":4},"quantization_config":{"bits":8}}`), `{"quantization":"4bit"}`},
		{"MLX quantization without bits", parse(`{"quantization":{"group_size":64},"quantization_config":{"bits":3}}`), `{"quantization":"3bit"}`},
		{"null bits", parse(`{"quantization":{"bits":null}}`), "null"},
		{"quantization not a map", parse(`{"quantization":4}`), "null"},
		{"empty architectures", parse(`{"architectures":[],"model_type":"qwen2"}`), `{"model_type":"qwen2"}`},
		{"architectures not a list", parse(`{"architectures":"X"}`), "null"},
		{"go values", map[string]any{"quantization": map[string]any{"bits": 2}, "vocab_size": 7}, `{"quantization":"2bit","vocab_size":7}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			md := modelinfo.ExtractMetadata(tc.config)
			if (md == nil) != (tc.want == "null") {
				t.Fatalf("ExtractMetadata = %+v, want %s", md, tc.want)
			}
			b, err := json.Marshal(md)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("ExtractMetadata JSON = %s, want %s", b, tc.want)
			}
		})
	}
}

func TestFormatTime(t *testing.T) {
	t.Parallel()
	east := time.FixedZone("UTC+5", 5*3600)
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Time{}, "1970-01-01T00:00:00Z"},
		{time.Date(2024, 12, 31, 23, 59, 59, 999999999, time.UTC), "2024-12-31T23:59:59Z"},
		{time.Date(2025, 1, 1, 3, 0, 0, 0, east), "2024-12-31T22:00:00Z"},
		{time.Unix(0, 0), "1970-01-01T00:00:00Z"},
	}
	for _, tc := range tests {
		if got := modelinfo.FormatTime(tc.in); got != tc.want {
			t.Errorf("FormatTime(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestReadFrontMatter(t *testing.T) {
	t.Parallel()
	w := testutil.PutModel(t, t.TempDir(), "org/x", "", []string{"main"}, map[string]string{"README.md": "---\ntags: [mlx]\n---\n" + strings.Repeat("body ", 100000)})
	fm := modelinfo.ReadFrontMatter(snapfiles.Scan(w.Dir))
	if fm == nil || !fm.SaysMLX() {
		t.Errorf("ReadFrontMatter = %+v", fm)
	}
	if fm := modelinfo.ReadFrontMatter(snapfiles.Scan(t.TempDir())); fm != nil {
		t.Errorf("ReadFrontMatter without README = %+v", fm)
	}
}

func FuzzParseFrontMatter(f *testing.F) {
	for _, s := range []string{
		"---\ntags: [mlx, chat]\nlibrary_name: mlx\n---\n",
		"---\ntags:\n- a\n- 'b'\n---\n",
		"---\n---\n",
		"---\ntags: [\n---",
		"---\r\nlibrary_name: \"x\"\r\n---\r\n",
		"",
		"---",
		"---\ntags:\n-\n-\"\n---\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fm := modelinfo.ParseFrontMatter(b)
		if fm == nil {
			return
		}
		// Front-matter starts at the first line and is closed.
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, len(b)+1)
		if !sc.Scan() || strings.TrimSpace(sc.Text()) != "---" {
			t.Fatalf("front-matter %+v found although the first line is not ---", fm)
		}
		closed := false
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "---" {
				closed = true
				break
			}
		}
		if !closed {
			t.Fatalf("front-matter %+v found without a closing ---", fm)
		}
		for _, tag := range append(slices.Clone(fm.Tags), fm.LibraryName) {
			if strings.ContainsAny(tag, "\n") {
				t.Fatalf("value %q spans lines", tag)
			}
			if !bytes.Contains(b, []byte(tag)) {
				t.Fatalf("value %q does not occur in the input", tag)
			}
		}
		if fm.SaysMLX() != (strings.EqualFold(fm.LibraryName, "mlx") || slices.ContainsFunc(fm.Tags, func(s string) bool { return strings.EqualFold(s, "mlx") })) {
			t.Fatalf("SaysMLX disagrees with %+v", fm)
		}
	})
}
