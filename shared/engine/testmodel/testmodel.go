// Package testmodel generates tiny random models in the exact on-disk layout
// mlx-lm writes (config.json, MLX safetensors shards, the shard index), for
// every architecture the engine supports, as float and MLX-quantized
// variants. Values come from a PCG stream seeded per tensor, and only exact
// IEEE operations turn them into floats, so the bytes are the same on every
// machine and every Go release: tests and an external reference
// implementation can rely on them. The quantized variants go through
// mlxconvert, the code behind the convert verb.
package testmodel

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"slices"
	"strings"

	"github.com/mlxk/mlxk/shared/mlxconvert"
	"github.com/mlxk/mlxk/shared/safetensors"
)

// QuantParams are per-module quantization parameters; Bits == 0 keeps the
// module in float (false in the config).
type QuantParams = mlxconvert.QuantParams

// Spec describes one test model.
type Spec struct {
	Name string
	// Arch is the mlx-lm model_type: llama, mistral, qwen2, qwen3, phi3,
	// gemma2 or gemma3_text.
	Arch string
	// DType is the float type of the weights (and of scales and biases when
	// quantized): float32, bfloat16 or float16.
	DType string
	// Bits is the quantization width (0 = not quantized); GroupSize its
	// group size (0 = 64).
	Bits      int
	GroupSize int
	// Overrides are per-module quantization parameters (module path keys).
	Overrides map[string]QuantParams
	// Shards > 1 splits the weights into that many files.
	Shards int
	// Config adds or replaces config.json keys after the architecture's own.
	Config map[string]any
	// Seed selects the random weights; variants of one architecture share
	// it, so the bf16 and quantized models derive from the same weights.
	Seed uint64
}

// Dimensions shared by every test model.
const (
	Hidden       = 64
	Layers       = 2
	Gemma3Layers = 4
	Heads        = 4
	KVHeads      = 2
	HeadDim      = 16 // hidden/heads
	WideHeadDim  = 32 // qwen3 and gemma: differs from hidden/heads
	Intermediate = 128
	Vocab        = 256
)

var archSeeds = []struct {
	arch, short string
	seed        uint64
}{
	{"llama", "llama", 1},
	{"mistral", "mistral", 2},
	{"qwen2", "qwen2", 3},
	{"qwen3", "qwen3", 4},
	{"phi3", "phi3", 5},
	{"gemma2", "gemma2", 6},
	{"gemma3_text", "gemma3", 7},
}

// Catalog lists the standard test models: every architecture as float32,
// bfloat16, 4-bit (from bf16, group 64) and 8-bit (from bf16, group 32),
// plus a 2-shard model, a mixed-precision model, 2-, 5-bit and float16 ones.
func Catalog() []Spec {
	var out []Spec
	for _, a := range archSeeds {
		out = append(out,
			Spec{Name: a.short + "-f32", Arch: a.arch, DType: "float32", Seed: a.seed},
			Spec{Name: a.short + "-bf16", Arch: a.arch, DType: "bfloat16", Seed: a.seed},
			Spec{Name: a.short + "-q4", Arch: a.arch, DType: "bfloat16", Bits: 4, GroupSize: 64, Seed: a.seed},
			Spec{Name: a.short + "-q8", Arch: a.arch, DType: "bfloat16", Bits: 8, GroupSize: 32, Seed: a.seed},
		)
	}
	out = append(out,
		Spec{Name: "qwen2-sharded", Arch: "qwen2", DType: "bfloat16", Shards: 2, Seed: 3},
		Spec{Name: "qwen2-mixed", Arch: "qwen2", DType: "bfloat16", Bits: 4, GroupSize: 64, Seed: 3,
			Config: map[string]any{"tie_word_embeddings": false},
			Overrides: map[string]QuantParams{
				"lm_head":                         {GroupSize: 64, Bits: 6},
				"model.embed_tokens":              {GroupSize: 64, Bits: 6},
				"model.layers.0.mlp.down_proj":    {GroupSize: 32, Bits: 3},
				"model.layers.1.self_attn.v_proj": {}, // kept in bf16
			}},
		Spec{Name: "llama-q2", Arch: "llama", DType: "bfloat16", Bits: 2, GroupSize: 64, Seed: 1},
		Spec{Name: "qwen3-q5", Arch: "qwen3", DType: "bfloat16", Bits: 5, GroupSize: 32, Seed: 4},
		Spec{Name: "qwen2-f16", Arch: "qwen2", DType: "float16", Seed: 3},
		Spec{Name: "qwen2-q4-f16", Arch: "qwen2", DType: "float16", Bits: 4, GroupSize: 64, Seed: 3},
	)
	return out
}

// Lookup finds a catalog entry by name.
func Lookup(name string) (Spec, bool) {
	i := slices.IndexFunc(Catalog(), func(s Spec) bool { return s.Name == name })
	if i < 0 {
		return Spec{}, false
	}
	return Catalog()[i], true
}

// Write generates the model s into dir (created if missing; it must hold no
// model files): config.json, model.safetensors or model-0000i-of-0000N
// shards, and model.safetensors.index.json, as mlx-lm writes them.
func Write(dir string, s Spec) error {
	cfg, src, err := Build(s)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("testmodel: %w", err)
	}
	_, err = mlxconvert.Write(dir, src, cfg, mlxconvert.Options{
		Bits: s.Bits, GroupSize: s.GroupSize, DType: s.DType, Overrides: s.Overrides, Shards: s.Shards,
	})
	if err != nil {
		return fmt.Errorf("testmodel %s: %w", s.Name, err)
	}
	return nil
}

// Source is an in-memory set of tensors (implements mlxconvert.Source).
type Source map[string]safetensors.Tensor

// Names lists the tensor names, sorted.
func (m Source) Names() []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Tensor returns the named tensor.
func (m Source) Tensor(name string) (safetensors.Tensor, bool) {
	t, ok := m[name]
	return t, ok
}

// layout is what differs between architectures.
type layout struct {
	layers    int
	headDim   int
	qkvBias   bool // qwen2
	qkNorm    bool // qwen3, gemma3_text
	fused     bool // phi3: qkv_proj, gate_up_proj
	gemma     bool // (1+w) norms, pre/post feed-forward norms, always tied
	tiedByDef bool // mlx-lm's default for tie_word_embeddings
}

func layoutOf(arch string) (layout, error) {
	switch arch {
	case "llama", "mistral":
		return layout{layers: Layers, headDim: HeadDim, tiedByDef: true}, nil
	case "qwen2":
		return layout{layers: Layers, headDim: HeadDim, qkvBias: true, tiedByDef: true}, nil
	case "qwen3":
		return layout{layers: Layers, headDim: WideHeadDim, qkNorm: true}, nil
	case "phi3":
		return layout{layers: Layers, headDim: HeadDim, fused: true}, nil
	case "gemma2":
		return layout{layers: Layers, headDim: WideHeadDim, gemma: true, tiedByDef: true}, nil
	case "gemma3_text":
		return layout{layers: Gemma3Layers, headDim: WideHeadDim, gemma: true, qkNorm: true, tiedByDef: true}, nil
	}
	return layout{}, fmt.Errorf("testmodel: unknown architecture %q", arch)
}

// Build returns the config and the float tensors (in s.DType) of s, before
// any quantization.
func Build(s Spec) (*mlxconvert.Config, Source, error) {
	lay, err := layoutOf(s.Arch)
	if err != nil {
		return nil, nil, err
	}
	dtype, ok := mlxconvert.DTypeOf(s.DType)
	if !ok {
		return nil, nil, fmt.Errorf("testmodel: dtype %q (want float32, bfloat16 or float16)", s.DType)
	}
	cfg := archConfig(s.Arch, lay)
	cfg.Set("torch_dtype", s.DType)
	for k, v := range s.Config {
		cfg.Set(k, v)
	}
	tied := lay.tiedByDef
	if v, ok := cfg.Get("tie_word_embeddings"); ok && !lay.gemma {
		tied, _ = v.(bool)
	}

	src := Source{}
	add := func(name string, kind valueKind, shape ...int) {
		src[name] = safetensors.Tensor{Name: name, DType: dtype, Shape: shape, Data: safetensors.EncodeFloats(values(s.Seed, name, kind, shape), dtype)}
	}
	d := lay.headDim
	normKind := norm
	if lay.gemma {
		normKind = gemmaNorm
	}
	embedKind := weight
	if lay.gemma {
		// Gemma multiplies embeddings by sqrt(hidden) = 8; smaller rows keep
		// the tied head from just echoing the last token, so greedy
		// continuations test something.
		embedKind = gemmaEmbed
	}
	add("model.embed_tokens.weight", embedKind, Vocab, Hidden)
	for i := range lay.layers {
		p := fmt.Sprintf("model.layers.%d.", i)
		if lay.fused {
			add(p+"self_attn.qkv_proj.weight", weight, (Heads+2*KVHeads)*d, Hidden)
			add(p+"mlp.gate_up_proj.weight", weight, 2*Intermediate, Hidden)
		} else {
			add(p+"self_attn.q_proj.weight", weight, Heads*d, Hidden)
			add(p+"self_attn.k_proj.weight", weight, KVHeads*d, Hidden)
			add(p+"self_attn.v_proj.weight", weight, KVHeads*d, Hidden)
			add(p+"mlp.gate_proj.weight", weight, Intermediate, Hidden)
			add(p+"mlp.up_proj.weight", weight, Intermediate, Hidden)
		}
		if lay.qkvBias {
			add(p+"self_attn.q_proj.bias", weight, Heads*d)
			add(p+"self_attn.k_proj.bias", weight, KVHeads*d)
			add(p+"self_attn.v_proj.bias", weight, KVHeads*d)
		}
		if lay.qkNorm {
			add(p+"self_attn.q_norm.weight", normKind, d)
			add(p+"self_attn.k_norm.weight", normKind, d)
		}
		add(p+"self_attn.o_proj.weight", weight, Hidden, Heads*d)
		add(p+"mlp.down_proj.weight", weight, Hidden, Intermediate)
		add(p+"input_layernorm.weight", normKind, Hidden)
		add(p+"post_attention_layernorm.weight", normKind, Hidden)
		if lay.gemma {
			add(p+"pre_feedforward_layernorm.weight", normKind, Hidden)
			add(p+"post_feedforward_layernorm.weight", normKind, Hidden)
		}
	}
	add("model.norm.weight", normKind, Hidden)
	if !tied && !lay.gemma {
		add("lm_head.weight", weight, Vocab, Hidden)
	}
	return cfg, src, nil
}

// archConfig is the config.json of an architecture (keys sorted, as
// mlx-lm's save_config writes them).
func archConfig(arch string, lay layout) *mlxconvert.Config {
	c := mlxconvert.NewConfig()
	set := func(kv ...any) {
		for i := 0; i < len(kv); i += 2 {
			c.Set(kv[i].(string), kv[i+1])
		}
	}
	set("model_type", arch,
		"hidden_size", Hidden,
		"intermediate_size", Intermediate,
		"num_hidden_layers", lay.layers,
		"num_attention_heads", Heads,
		"num_key_value_heads", KVHeads,
		"vocab_size", Vocab,
		"rms_norm_eps", 1e-5,
		"max_position_embeddings", 256,
		"bos_token_id", 1,
		"eos_token_id", 2,
		"hidden_act", "silu",
	)
	switch arch {
	case "llama":
		set("architectures", []any{"LlamaForCausalLM"},
			"rope_theta", 10000.0,
			"tie_word_embeddings", false,
			"attention_bias", false,
			"mlp_bias", false,
			// original_max_position_embeddings 64 puts the 8 frequencies of a
			// 16-wide head in all three llama3 bands (high, medium, low).
			"rope_scaling", map[string]any{"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 64})
	case "mistral":
		set("architectures", []any{"MistralForCausalLM"}, "rope_theta", 10000.0)
	case "qwen2":
		set("architectures", []any{"Qwen2ForCausalLM"}, "rope_theta", 1000000.0)
	case "qwen3":
		set("architectures", []any{"Qwen3ForCausalLM"},
			"rope_theta", 1000000.0,
			"head_dim", lay.headDim,
			"tie_word_embeddings", true,
			"attention_bias", false)
	case "phi3":
		// rope dims = head_dim·0.5 = 8, so each factor list has 8/2 entries.
		set("architectures", []any{"Phi3ForCausalLM"},
			"rope_theta", 10000.0,
			"partial_rotary_factor", 0.5,
			"max_position_embeddings", 64,
			"original_max_position_embeddings", 16,
			"tie_word_embeddings", false,
			"rope_scaling", map[string]any{
				"type":                             "longrope",
				"short_factor":                     []any{1.0, 1.25, 1.5, 2.0},
				"long_factor":                      []any{1.0, 2.0, 4.0, 8.0},
				"original_max_position_embeddings": 16,
			})
	case "gemma2":
		set("architectures", []any{"Gemma2ForCausalLM"},
			"rms_norm_eps", 1e-6,
			"rope_theta", 10000.0,
			"head_dim", lay.headDim,
			"query_pre_attn_scalar", 24, // not head_dim, so a decoder using head_dim^-0.5 fails
			"attn_logit_softcapping", 50.0,
			"final_logit_softcapping", 30.0,
			"hidden_act", "gelu_pytorch_tanh",
			"hidden_activation", "gelu_pytorch_tanh")
	case "gemma3_text":
		set("architectures", []any{"Gemma3ForCausalLM"},
			"rms_norm_eps", 1e-6,
			"rope_theta", 1000000.0,
			"rope_local_base_freq", 10000.0,
			"head_dim", lay.headDim,
			"query_pre_attn_scalar", 24, // not head_dim, so a decoder using head_dim^-0.5 fails
			"sliding_window", 4,
			"sliding_window_pattern", 2,
			"hidden_act", "gelu_pytorch_tanh",
			"hidden_activation", "gelu_pytorch_tanh")
	}
	return c
}

type valueKind int

const (
	weight     valueKind = iota // N(0, 0.2²)
	norm                        // 1 + 0.1·N(0, 1)
	gemmaNorm                   // 0.1·N(0, 1), applied as (1 + w)
	gemmaEmbed                  // N(0, 0.025²): 0.2/sqrt(hidden)
)

// values draws the tensor's values from a PCG stream keyed by the seed and
// the tensor name, so a tensor does not depend on which others exist.
func values(seed uint64, name string, kind valueKind, shape []int) []float32 {
	h := fnv.New64a()
	h.Write([]byte(name))
	r := rand.New(rand.NewPCG(seed, h.Sum64()))
	n := 1
	for _, d := range shape {
		n *= d
	}
	out := make([]float32, n)
	for i := range out {
		z := normal(r)
		switch kind {
		case weight:
			out[i] = float32(0.2 * z)
		case norm:
			out[i] = float32(1 + float64(0.1*z)) // explicit rounding: no fused multiply-add
		case gemmaNorm:
			out[i] = float32(0.1 * z)
		case gemmaEmbed:
			out[i] = float32(0.025 * z)
		}
	}
	return out
}

// normal is an approximately standard normal value (Irwin–Hall: the sum of
// 12 uniforms minus 6), computed with exact-or-correctly-rounded IEEE
// operations only, unlike math/rand's NormFloat64, whose algorithm is not
// promised to stay the same.
func normal(r *rand.Rand) float64 {
	var s float64
	for range 12 {
		s += float64(r.Uint64()>>11) * (1.0 / (1 << 53))
	}
	return s - 6
}

// Names of the catalog, for usage messages.
func Names() string {
	var names []string
	for _, s := range Catalog() {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}
