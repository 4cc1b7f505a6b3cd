// Command mkbenchcache generates the synthetic hub cache of the read-side
// benchmark (bench/listhealth.sh): N models of about 20 files each, laid out
// by cachewrite.Write exactly as huggingface_hub lays out a download (blobs
// named by their hash, relative snapshot symlinks, refs/main, .locks,
// CACHEDIR.TAG).
//
//	mkbenchcache -hub DIR [-n 1000] [-weight-bytes 262144] [-seed 1]
//
// The cache mixes mlx-community models (quantized MLX, mostly runnable),
// other organisations' MLX conversions recognised by their model card,
// PyTorch safetensors models (single file or sharded with an index),
// pytorch_model.bin models, GGUF repositories and embedding models, with the
// metadata files real repositories carry (config.json, tokenizer files, a
// chat template for most, README front-matter for some, generation config)
// plus small extras. Content is deterministic for a given seed and differs
// from model to model, so every blob is distinct and --verify hashes real
// data. Weight bytes per model are set by -weight-bytes; the default makes a
// 1,000-model cache of about 20,000 files and 325 MB.
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mlxk/mlxk/shared/cachewrite"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mkbenchcache:", err)
		os.Exit(1)
	}
}

func run() error {
	hub := flag.String("hub", "", "hub cache directory to create (required)")
	n := flag.Int("n", 1000, "number of models")
	weightBytes := flag.Int64("weight-bytes", 256<<10, "weight bytes per model (split over the shards)")
	seed := flag.Uint64("seed", 1, "content seed")
	workers := flag.Int("j", runtime.GOMAXPROCS(0), "models generated in parallel")
	quiet := flag.Bool("q", false, "do not print the summary")
	tmpRoot := flag.String("tmp", defaultTmp(), "folder for the per-model source files (a tmpfs spares the cache's file system the churn)")
	flag.Parse()
	if *hub == "" || flag.NArg() != 0 || *n < 1 || *weightBytes < 1024 {
		return fmt.Errorf("usage: mkbenchcache -hub DIR [-n N>=1] [-weight-bytes B>=1024] [-seed S] [-j J]")
	}
	if err := os.MkdirAll(*hub, 0o777); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(*tmpRoot, "mkbenchcache-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	start := time.Now()
	specs := plan(*n, *seed)
	var files, bytes atomic.Int64
	gen := func(i int) error {
		src := filepath.Join(tmp, fmt.Sprint(i))
		defer os.RemoveAll(src)
		fs, err := writeModel(src, specs[i], *weightBytes, *seed)
		if err != nil {
			return fmt.Errorf("%s: %w", specs[i].id, err)
		}
		var sz int64
		for _, f := range fs {
			st, err := os.Stat(f.Src)
			if err != nil {
				return err
			}
			sz += st.Size()
		}
		if _, err := cachewrite.Write(*hub, cachewrite.Snapshot{RepoID: specs[i].id, Refs: []string{"main"}, Files: fs}); err != nil {
			return fmt.Errorf("%s: %w", specs[i].id, err)
		}
		files.Add(int64(len(fs)))
		bytes.Add(sz)
		return nil
	}
	// The first model alone: it writes CACHEDIR.TAG, which the parallel
	// writers would otherwise race to create.
	if err := gen(0); err != nil {
		return err
	}
	var wg sync.WaitGroup
	var firstErr error
	var once sync.Once
	next := make(chan int)
	for range max(1, *workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := gen(i); err != nil {
					once.Do(func() { firstErr = err })
				}
			}
		}()
	}
	for i := 1; i < len(specs); i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if !*quiet {
		fmt.Printf("%d models, %d files, %.1f MB in %s\n", len(specs), files.Load(), float64(bytes.Load())/1e6, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// defaultTmp prefers /dev/shm: the source files are written once, copied
// into blobs by cachewrite and deleted, and creating and deleting 20,000
// inodes on the cache's own file system slows its later inode allocation
// (ext4 scans for recently deleted inodes).
func defaultTmp() string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if f, err := os.CreateTemp("/dev/shm", "mkbenchcache-probe-"); err == nil {
			f.Close()
			os.Remove(f.Name())
			return "/dev/shm"
		}
	}
	return os.TempDir()
}

// kind is the sort of repository a model imitates.
type kind int

const (
	mlxCommunity kind = iota // mlx-community/*, quantized MLX weights
	mlxPrivate               // another org's MLX conversion, known by its model card
	torchSft                 // Hugging Face safetensors, no quantization
	torchBin                 // pytorch_model.bin (sharded with an index when large)
	gguf                     // GGUF files, usually without config.json
	embedding                // sentence-transformers style embedding model
)

type spec struct {
	id        string
	kind      kind
	modelType string
	family    family
	chat      bool // tokenizer_config.json carries a chat_template
	readme    bool
	shards    int // 0: a single weights file
	bits      int // MLX quantization bits
	extras    int // small extra files to reach ~20
	index     int
}

type family struct {
	name, modelType, arch string
	sizes                 []string
	hidden, layers, heads int
	vocab                 int
}

var families = []family{
	{"Llama-3.2", "llama", "LlamaForCausalLM", []string{"1B", "3B"}, 2048, 16, 32, 128256},
	{"Meta-Llama-3.1", "llama", "LlamaForCausalLM", []string{"8B", "70B"}, 4096, 32, 32, 128256},
	{"Qwen2.5", "qwen2", "Qwen2ForCausalLM", []string{"0.5B", "1.5B", "3B", "7B", "14B", "32B"}, 3584, 28, 28, 152064},
	{"Qwen2.5-Coder", "qwen2", "Qwen2ForCausalLM", []string{"1.5B", "7B", "32B"}, 3584, 28, 28, 152064},
	{"Qwen3", "qwen3", "Qwen3ForCausalLM", []string{"0.6B", "4B", "8B", "30B-A3B"}, 4096, 36, 32, 151936},
	{"Mistral", "mistral", "MistralForCausalLM", []string{"7B-v0.3", "Small-24B"}, 4096, 32, 32, 32768},
	{"Phi-3-mini", "phi3", "Phi3ForCausalLM", []string{"4k", "128k"}, 3072, 32, 32, 32064},
	{"Phi-3.5-mini", "phi3", "Phi3ForCausalLM", []string{"3.8B"}, 3072, 32, 32, 32064},
	{"gemma-2", "gemma2", "Gemma2ForCausalLM", []string{"2b", "9b", "27b"}, 3584, 42, 16, 256000},
	{"DeepSeek-R1-Distill-Qwen", "qwen2", "Qwen2ForCausalLM", []string{"1.5B", "7B", "14B"}, 3584, 28, 28, 152064},
	{"starcoder2", "starcoder2", "Starcoder2ForCausalLM", []string{"3b", "7b"}, 3072, 30, 24, 49152},
	{"SmolLM2", "llama", "LlamaForCausalLM", []string{"135M", "360M", "1.7B"}, 2048, 24, 32, 49152},
}

var (
	mlxOrgs   = []string{"acme-labs", "lmstudio-community", "my-finetunes", "NexaAI"}
	torchOrgs = []string{"meta-llama", "Qwen", "mistralai", "microsoft", "google", "deepseek-ai", "HuggingFaceTB", "NousResearch", "bigcode"}
	ggufOrgs  = []string{"TheBloke", "bartowski", "unsloth", "QuantFactory"}
	embedIDs  = []string{"BAAI/bge-small-en-v1.5", "BAAI/bge-base-en-v1.5", "sentence-transformers/all-MiniLM-L6-v2", "nomic-ai/nomic-embed-text-v1.5", "intfloat/e5-large-v2", "mlx-community/bge-small-en-v1.5-embed-4bit"}
	variants  = []string{"Instruct", "", "Chat", "it", "Base"}
)

// plan picks the N repositories: deterministic, unique names.
func plan(n int, seed uint64) []spec {
	r := newRNG(seed ^ 0x9e3779b97f4a7c15)
	seen := map[string]bool{}
	out := make([]spec, 0, n)
	for len(out) < n {
		var s spec
		s.index = len(out)
		f := families[r.intn(len(families))]
		s.family = f
		s.modelType = f.modelType
		v := variants[r.intn(len(variants))]
		base := f.name + "-" + f.sizes[r.intn(len(f.sizes))]
		if v != "" {
			base += "-" + v
		}
		p := r.intn(100)
		switch {
		case p < 60:
			s.kind = mlxCommunity
			s.bits = []int{4, 4, 4, 8, 6, 3}[r.intn(6)]
			s.id = fmt.Sprintf("mlx-community/%s-%dbit", base, s.bits)
		case p < 68:
			s.kind = mlxPrivate
			s.bits = []int{4, 8}[r.intn(2)]
			s.id = fmt.Sprintf("%s/%s-mlx-%dbit", mlxOrgs[r.intn(len(mlxOrgs))], base, s.bits)
		case p < 86:
			s.kind = torchSft
			s.id = torchOrgs[r.intn(len(torchOrgs))] + "/" + base
		case p < 90:
			s.kind = torchBin
			s.id = torchOrgs[r.intn(len(torchOrgs))] + "/" + base + "-hf"
		case p < 97:
			s.kind = gguf
			s.id = ggufOrgs[r.intn(len(ggufOrgs))] + "/" + base + "-GGUF"
		default:
			s.kind = embedding
			s.modelType = "bert"
			s.id = embedIDs[r.intn(len(embedIDs))]
		}
		// A second download of the same model under a fine-tune or
		// revision suffix, as real caches accumulate.
		for k := 2; seen[s.id]; k++ {
			s.id = fmt.Sprintf("%s-%s", strings.TrimSuffix(s.id, fmt.Sprintf("-ft%d", k-1)), fmt.Sprintf("ft%d", k))
		}
		seen[s.id] = true
		s.chat = s.kind != embedding && (v == "Instruct" || v == "Chat" || v == "it" || r.intn(100) < 60)
		s.readme = s.kind == mlxPrivate || r.intn(100) < 70
		switch s.kind {
		case gguf:
			s.shards = 0
		case torchBin:
			s.shards = []int{0, 2}[r.intn(2)]
		case embedding:
			s.shards = 0
		default:
			s.shards = []int{0, 0, 0, 2, 3, 4, 5}[r.intn(7)]
		}
		s.extras = r.intn(7) // 0..6 extra small files
		out = append(out, s)
	}
	return out
}

// writeModel writes the repository's files into dir and returns them for
// cachewrite.
func writeModel(dir string, s spec, weightBytes int64, seed uint64) ([]cachewrite.File, error) {
	r := newRNG(seed*0x100000001b3 + uint64(s.index)*0x9e3779b97f4a7c15 + 1)
	var files []cachewrite.File
	put := func(rel string, b []byte) error {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
			return err
		}
		files = append(files, cachewrite.File{Path: rel, Src: p})
		return os.WriteFile(p, b, 0o666)
	}
	putJSON := func(rel string, v any) error {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		return put(rel, append(b, '\n'))
	}
	f := s.family
	if err := put(".gitattributes", []byte(gitattributes)); err != nil {
		return nil, err
	}

	// config.json: GGUF repositories usually have none.
	if s.kind != gguf || r.intn(100) < 30 {
		cfg := ordered{
			{"architectures", []string{f.arch}},
			{"model_type", s.modelType},
			{"hidden_size", f.hidden},
			{"intermediate_size", f.hidden * 4},
			{"num_hidden_layers", f.layers},
			{"num_attention_heads", f.heads},
			{"num_key_value_heads", max(1, f.heads/4)},
			{"max_position_embeddings", []int{4096, 8192, 32768, 131072}[r.intn(4)]},
			{"rms_norm_eps", 1e-5},
			{"rope_theta", 500000.0},
			{"vocab_size", f.vocab},
			{"torch_dtype", "bfloat16"},
			{"tie_word_embeddings", r.intn(2) == 0},
			{"transformers_version", "4.46.1"},
		}
		if s.kind == mlxCommunity || s.kind == mlxPrivate {
			q := ordered{{"group_size", 64}, {"bits", s.bits}}
			cfg = append(cfg, kv{"quantization", q}, kv{"quantization_config", q})
		}
		if err := putJSON("config.json", cfg); err != nil {
			return nil, err
		}
	}
	if s.kind != gguf {
		if err := put("tokenizer.json", tokenizerJSON(r)); err != nil {
			return nil, err
		}
		tc := ordered{
			{"add_bos_token", true},
			{"add_eos_token", false},
			{"bos_token", "<|begin_of_text|>"},
			{"eos_token", "<|eot_id|>"},
			{"clean_up_tokenization_spaces", true},
			{"model_max_length", 131072},
			{"tokenizer_class", "PreTrainedTokenizerFast"},
		}
		if s.chat {
			tc = append(tc, kv{"chat_template", chatTemplate})
		}
		if err := putJSON("tokenizer_config.json", tc); err != nil {
			return nil, err
		}
		if err := putJSON("special_tokens_map.json", ordered{
			{"bos_token", ordered{{"content", "<|begin_of_text|>"}, {"lstrip", false}, {"normalized", false}, {"rstrip", false}, {"single_word", false}}},
			{"eos_token", ordered{{"content", "<|eot_id|>"}, {"lstrip", false}, {"normalized", false}, {"rstrip", false}, {"single_word", false}}},
		}); err != nil {
			return nil, err
		}
		if s.kind != embedding {
			if err := putJSON("generation_config.json", ordered{
				{"bos_token_id", 128000}, {"do_sample", true}, {"eos_token_id", []int{128001, 128008, 128009}},
				{"temperature", 0.6}, {"top_p", 0.9}, {"transformers_version", "4.46.1"},
			}); err != nil {
				return nil, err
			}
		}
	}
	if s.readme {
		if err := put("README.md", readme(s, r)); err != nil {
			return nil, err
		}
	}

	// Weights.
	switch s.kind {
	case gguf:
		quants := []string{"Q4_K_M", "Q5_K_M", "Q8_0"}
		k := 1 + r.intn(len(quants))
		name := s.id[strings.IndexByte(s.id, '/')+1:]
		name = strings.TrimSuffix(name, "-GGUF")
		for q := range k {
			if err := put(fmt.Sprintf("%s.%s.gguf", name, quants[q]), ggufBlob(r, weightBytes/int64(k))); err != nil {
				return nil, err
			}
		}
	case torchBin:
		if err := writeShards(put, putJSON, r, "pytorch_model", ".bin", s.shards, weightBytes, f); err != nil {
			return nil, err
		}
	default:
		if err := writeShards(put, putJSON, r, "model", ".safetensors", s.shards, weightBytes, f); err != nil {
			return nil, err
		}
	}
	if s.kind == embedding {
		if err := putJSON("modules.json", []ordered{{{"idx", 0}, {"name", "0"}, {"path", ""}, {"type", "sentence_transformers.models.Transformer"}},
			{{"idx", 1}, {"name", "1"}, {"path", "1_Pooling"}, {"type", "sentence_transformers.models.Pooling"}}}); err != nil {
			return nil, err
		}
		if err := putJSON("1_Pooling/config.json", ordered{{"word_embedding_dimension", 384}, {"pooling_mode_mean_tokens", true}}); err != nil {
			return nil, err
		}
	}

	// Small extras up to about 20 files.
	pool := []struct {
		rel  string
		size int
	}{
		{"LICENSE", 11000}, {"USE_POLICY.md", 4700}, {"NOTICE", 600}, {"added_tokens.json", 300},
		{"vocab.json", 8000}, {"merges.txt", 6000}, {"tokenizer.model", 12000},
		{"figures/benchmark.png", 9000}, {"figures/architecture.png", 6000},
		{"original/params.json", 220}, {"assets/logo.svg", 3000}, {"configuration.json", 80},
		{"CODE_OF_CONDUCT.md", 2500}, {"SECURITY.md", 900}, {"eval_results.json", 1500},
	}
	want := 18 + r.intn(5)
	for k := 0; len(files) < want && k < len(pool); k++ {
		e := pool[(k+s.index)%len(pool)]
		if err := put(e.rel, textBlob(r, e.size/2+r.intn(e.size))); err != nil {
			return nil, err
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

// writeShards writes base+ext, or base-0000i-of-0000N+ext shards with
// base+ext+".index.json" mapping tensor names to them.
func writeShards(put func(string, []byte) error, putJSON func(string, any) error, r *rng, base, ext string, shards int, weightBytes int64, f family) error {
	if shards == 0 {
		return put(base+ext, weightBlob(r, ext, weightBytes, 0, max(2, f.layers/4)))
	}
	per := weightBytes / int64(shards)
	layers := max(shards, f.layers/2)
	weightMap := ordered{}
	for i := 1; i <= shards; i++ {
		name := fmt.Sprintf("%s-%05d-of-%05d%s", base, i, shards, ext)
		lo, hi := (i-1)*layers/shards, i*layers/shards
		for l := lo; l < hi; l++ {
			for _, t := range tensorNames(l) {
				weightMap = append(weightMap, kv{t, name})
			}
		}
		if err := put(name, weightBlob(r, ext, per, lo, hi)); err != nil {
			return err
		}
	}
	sort.Slice(weightMap, func(i, j int) bool { return weightMap[i].k < weightMap[j].k })
	return putJSON(base+ext+".index.json", ordered{
		{"metadata", ordered{{"total_size", weightBytes}}},
		{"weight_map", weightMap},
	})
}

func tensorNames(layer int) []string {
	p := fmt.Sprintf("model.layers.%d.", layer)
	return []string{p + "input_layernorm.weight", p + "mlp.down_proj.weight", p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight",
		p + "self_attn.k_proj.weight", p + "self_attn.o_proj.weight", p + "self_attn.q_proj.weight", p + "self_attn.v_proj.weight"}
}

// weightBlob returns size bytes of weights: for safetensors a real header
// (8-byte length, JSON tensor table padded to 8 bytes) followed by
// pseudo-random tensor data.
func weightBlob(r *rng, ext string, size int64, lo, hi int) []byte {
	b := make([]byte, size)
	if ext != ".safetensors" {
		r.fill(b)
		copy(b, "PK\x03\x04") // a torch zip archive starts like this
		return b
	}
	var names []string
	for l := lo; l < max(hi, lo+1); l++ {
		names = append(names, tensorNames(l)...)
	}
	header := func(dataLen int64) []byte {
		h := ordered{{"__metadata__", ordered{{"format", "mlx"}}}}
		per := dataLen / int64(len(names))
		var off int64
		for i, n := range names {
			end := off + per
			if i == len(names)-1 {
				end = dataLen
			}
			h = append(h, kv{n, ordered{{"dtype", "U8"}, {"shape", []int64{end - off}}, {"data_offsets", []int64{off, end}}}})
			off = end
		}
		j, _ := json.Marshal(h)
		return j
	}
	// The header's length depends on the offsets, which depend on the
	// header's length: iterate until the padded length is stable.
	hlen := int64(0)
	var head []byte
	for range 8 {
		for len(names) > 1 && 8+hlen+int64(len(names)) > size {
			names = names[:len(names)/2]
		}
		head = header(max(0, size-8-hlen))
		n := (int64(len(head)) + 7) &^ 7
		if n == hlen {
			break
		}
		hlen = n
	}
	if 8+hlen > size || int64(len(head)) > hlen {
		r.fill(b) // too small for a header: plain bytes
		return b
	}
	binary.LittleEndian.PutUint64(b, uint64(hlen))
	copy(b[8:], head)
	for i := 8 + int64(len(head)); i < 8+hlen; i++ {
		b[i] = ' '
	}
	r.fill(b[8+hlen:])
	return b
}

func ggufBlob(r *rng, size int64) []byte {
	b := make([]byte, size)
	r.fill(b)
	copy(b, "GGUF\x03\x00\x00\x00")
	return b
}

const tokenChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZĠ"

// tokenizerJSON is a small but well-formed BPE tokenizer.json of a few KB.
func tokenizerJSON(r *rng) []byte {
	vocab := ordered{}
	n := 150 + r.intn(250)
	for i := range n {
		var sb strings.Builder
		for range 2 + r.intn(6) {
			sb.WriteByte(tokenChars[r.intn(52)])
		}
		vocab = append(vocab, kv{fmt.Sprintf("%s%d", sb.String(), i), i})
	}
	merges := make([]string, 0, n/3)
	for i := 0; i+1 < len(vocab) && len(merges) < n/3; i += 3 {
		merges = append(merges, vocab[i].k+" "+vocab[i+1].k)
	}
	b, _ := json.Marshal(ordered{
		{"version", "1.0"},
		{"truncation", nil},
		{"padding", nil},
		{"added_tokens", []ordered{{{"id", n}, {"content", "<|begin_of_text|>"}, {"special", true}}, {{"id", n + 1}, {"content", "<|eot_id|>"}, {"special", true}}}},
		{"normalizer", nil},
		{"pre_tokenizer", ordered{{"type", "ByteLevel"}, {"add_prefix_space", false}}},
		{"model", ordered{{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}},
	})
	return b
}

func readme(s spec, r *rng) []byte {
	var b strings.Builder
	switch {
	case s.kind == mlxCommunity || s.kind == mlxPrivate:
		b.WriteString("---\nlibrary_name: mlx\nlicense: apache-2.0\npipeline_tag: text-generation\ntags:\n- mlx\n")
		if s.chat {
			b.WriteString("- chat\n")
		}
		fmt.Fprintf(&b, "base_model: %s\n---\n\n", s.family.name)
		fmt.Fprintf(&b, "# %s\n\nThe Model [%s](https://huggingface.co/%s) was converted to MLX format using mlx-lm version **0.19.2**.\n\n", s.id, s.id, s.id)
		b.WriteString("## Use with mlx\n\n```bash\npip install mlx-lm\n```\n\n```python\nfrom mlx_lm import load, generate\n\nmodel, tokenizer = load(\"" + s.id + "\")\nresponse = generate(model, tokenizer, prompt=\"hello\", verbose=True)\n```\n")
	case s.kind == gguf:
		b.WriteString("---\nlicense: llama3.2\ntags:\n- gguf\n- llama-cpp\nquantized_by: bartowski\npipeline_tag: text-generation\n---\n\n")
		fmt.Fprintf(&b, "# %s\n\nQuantizations made with llama.cpp.\n", s.id)
	case s.kind == embedding:
		b.WriteString("---\nlicense: mit\nlibrary_name: sentence-transformers\ntags:\n- sentence-transformers\n- feature-extraction\n---\n\n")
	default:
		b.WriteString("---\nlicense: apache-2.0\nlibrary_name: transformers\nlanguage:\n- en\npipeline_tag: text-generation\n---\n\n")
	}
	b.Write(textBlob(r, 1500+r.intn(6000)))
	return []byte(b.String())
}

var words = strings.Fields("the model was trained on a large corpus of text and code with supervised fine tuning and preference optimisation for helpfulness safety reasoning evaluation benchmark results context length tokens license usage limitations")

// textBlob is about n bytes of prose-like text.
func textBlob(r *rng, n int) []byte {
	b := make([]byte, 0, n+16)
	for len(b) < n {
		b = append(b, words[r.intn(len(words))]...)
		if r.intn(12) == 0 {
			b = append(b, ".\n"...)
		} else {
			b = append(b, ' ')
		}
	}
	return b
}

const gitattributes = `*.7z filter=lfs diff=lfs merge=lfs -text
*.arrow filter=lfs diff=lfs merge=lfs -text
*.bin filter=lfs diff=lfs merge=lfs -text
*.gguf filter=lfs diff=lfs merge=lfs -text
*.model filter=lfs diff=lfs merge=lfs -text
*.safetensors filter=lfs diff=lfs merge=lfs -text
*.pt filter=lfs diff=lfs merge=lfs -text
*.pth filter=lfs diff=lfs merge=lfs -text
*tfevents* filter=lfs diff=lfs merge=lfs -text
tokenizer.json filter=lfs diff=lfs merge=lfs -text
`

const chatTemplate = "{{- bos_token }}\n{%- for message in messages %}\n    {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}\n{%- endfor %}\n{%- if add_generation_prompt %}\n    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n{%- endif %}\n"

// ordered is a JSON object that keeps its key order.
type ordered []kv

type kv struct {
	k string
	v any
}

func (o ordered) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, e := range o {
		if i > 0 {
			b = append(b, ',')
		}
		k, err := json.Marshal(e.k)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(e.v)
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}

// rng is wyrand: tiny, deterministic and several GB/s when filling buffers,
// which keeps generation I/O-bound (crypto/rand would dominate it).
type rng struct{ s uint64 }

func newRNG(seed uint64) *rng { return &rng{s: seed} }

func (r *rng) next() uint64 {
	r.s += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(r.s, r.s^0xe7037ed1a0b428db)
	return hi ^ lo
}

func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

func (r *rng) fill(b []byte) {
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, r.next())
		b = b[8:]
	}
	if len(b) > 0 {
		var t [8]byte
		binary.LittleEndian.PutUint64(t[:], r.next())
		copy(b, t[:])
	}
}
