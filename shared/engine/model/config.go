// Package model turns an MLX model folder (config.json + safetensors) into
// a runnable decoder: it reads the configuration with mlx-lm's defaults,
// binds the weights by their mlx-lm names and computes logits for a batch
// of token sequences that each carry their own KV cache.
package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mlxk/mlxk/shared/floatx"
)

// ErrUnsupported reports a model the engine cannot run (architecture,
// quantization mode or a configuration feature it does not implement).
var ErrUnsupported = errors.New("unsupported model")

// ErrInvalidConfig reports a config.json that is malformed or inconsistent.
var ErrInvalidConfig = errors.New("invalid model config")

// Activation selects the MLP nonlinearity.
type Activation uint8

const (
	SiLU     Activation = iota // SwiGLU: silu(gate)·up
	GeluTanh                   // gelu with the tanh approximation (Gemma)
)

// QuantParams are the MLX affine quantization settings of one module.
type QuantParams struct {
	GroupSize int
	Bits      int
	Mode      string
}

// Quantization is config.json's "quantization": the global settings plus
// per-module overrides keyed by module path ("model.layers.0.mlp.down_proj").
type Quantization struct {
	Global    QuantParams
	Overrides map[string]QuantParams
	// Disabled lists modules the config marks `false` (kept in float).
	Disabled map[string]bool
}

// RopeSpec describes one rotary embedding: frequencies already resolved
// from the scaling rules of mlx-lm's initialize_rope.
type RopeSpec struct {
	Dims        int
	InvFreq     []float64
	Traditional bool
	PosScale    float64
	MScale      float32
}

// Config is the architecture description the decoder runs from. Each
// model_type fills it from config.json with mlx-lm's defaults, which differ
// from Hugging Face's in places (tie_word_embeddings, head_dim, rope_theta).
type Config struct {
	ModelType string // as written in config.json
	Arch      string // family after mlx-lm's remapping (mistral -> llama)

	Hidden, Intermediate, Layers int
	Heads, KVHeads, HeadDim      int
	Vocab                        int
	NormEps                      float32
	MaxPositions                 int // 0 when the config does not say

	Tied           bool
	QKVBias, OBias bool
	MLPBias        bool
	QKNorm         bool
	NormPlusOne    bool    // (1+w) RMSNorm weights (Gemma)
	PostNorms      bool    // Gemma 2/3 four-norm blocks
	EmbedScale     float32 // multiply embeddings (0: none)
	AttnScale      float32 // query scale
	AttnSoftcap    float32 // 0: none
	FinalSoftcap   float32 // 0: none
	FusedQKV       bool    // phi3 qkv_proj
	FusedGateUp    bool    // phi3 gate_up_proj
	Act            Activation
	Rope           RopeSpec
	LocalRope      *RopeSpec // sliding layers with their own base (Gemma 3)
	SlidingWindow  int
	LayerSliding   []bool
	WeightPrefix   string // "" or "language_model." (Gemma 3 wrapper)
	EOS            []int32
	BOS            []int32
	Quant          *Quantization
	TorchDType     string // config torch_dtype, for display
	TiedUnlessHead bool   // Gemma 3: tied iff lm_head.weight is absent
}

// maxLayers bounds num_hidden_layers before anything is allocated for it.
const maxLayers = 4096

// builders fill a Config for each model_type the engine runs.
var builders = map[string]func(*Config, obj) error{
	"llama":       (*Config).fromLlama,
	"mistral":     (*Config).fromLlama,
	"qwen2":       (*Config).fromQwen2,
	"qwen3":       (*Config).fromQwen3,
	"phi3":        (*Config).fromPhi3,
	"gemma2":      (*Config).fromGemma2,
	"gemma3_text": (*Config).fromGemma3Text,
	"gemma3":      (*Config).fromGemma3Text,
}

// Types lists the model_type values the engine runs, sorted.
func Types() []string {
	return slices.Sorted(maps.Keys(builders))
}

// ReadConfig reads dir/config.json.
func ReadConfig(dir string) (*Config, error) {
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return ParseConfig(b)
}

// ParseConfig builds a Config from config.json bytes.
func ParseConfig(b []byte) (*Config, error) {
	var raw map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%w: config.json: %v", ErrInvalidConfig, err)
	}
	if raw == nil {
		return nil, fmt.Errorf("%w: config.json is not an object", ErrInvalidConfig)
	}
	o := obj(raw)
	mt, _ := o.str("model_type")
	if mt == "" {
		return nil, fmt.Errorf("%w: config.json has no model_type", ErrInvalidConfig)
	}
	if _, ok := raw["model_file"]; ok {
		return nil, fmt.Errorf("%w: config.json asks for custom model code (model_file)", ErrUnsupported)
	}
	c := &Config{ModelType: mt}
	build, ok := builders[mt]
	if !ok {
		return nil, fmt.Errorf("%w: model_type %q", ErrUnsupported, mt)
	}
	if mt == "gemma3" {
		// The multimodal wrapper: the text model's settings are in
		// text_config and its weights under language_model.
		tc, _ := raw["text_config"].(map[string]any)
		if tc == nil {
			tc = map[string]any{}
		}
		o = obj(tc)
		c.WeightPrefix = "language_model."
	}
	if err := build(c, o); err != nil {
		return nil, err
	}
	var err error
	o = obj(raw)
	if c.Quant, err = parseQuant(o); err != nil {
		return nil, err
	}
	c.TorchDType, _ = o.str("torch_dtype")
	c.EOS = o.ids("eos_token_id")
	c.BOS = o.ids("bos_token_id")
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidConfig, c.ModelType, fmt.Sprintf(format, a...))
	}
	const limit = 1 << 20
	if c.Layers > maxLayers || len(c.LayerSliding) != c.Layers {
		return bad("num_hidden_layers = %d is out of range", c.Layers)
	}
	for name, v := range map[string]int{"hidden_size": c.Hidden, "intermediate_size": c.Intermediate,
		"num_hidden_layers": c.Layers, "num_attention_heads": c.Heads, "num_key_value_heads": c.KVHeads,
		"head_dim": c.HeadDim, "vocab_size": c.Vocab} {
		if v <= 0 || v > limit*4 {
			return bad("%s = %d is out of range", name, v)
		}
	}
	if c.Heads%c.KVHeads != 0 {
		return bad("num_attention_heads %d is not a multiple of num_key_value_heads %d", c.Heads, c.KVHeads)
	}
	if c.Rope.Dims <= 0 || c.Rope.Dims > c.HeadDim || c.Rope.Dims%2 != 0 || len(c.Rope.InvFreq) != c.Rope.Dims/2 {
		return bad("rotary dimensions %d do not fit head_dim %d", c.Rope.Dims, c.HeadDim)
	}
	if !(c.NormEps > 0) {
		return bad("rms_norm_eps must be positive")
	}
	return nil
}

// obj is a config object with typed accessors; numbers are json.Number.
type obj map[string]any

func (o obj) has(k string) bool { v, ok := o[k]; return ok && v != nil }

func (o obj) str(k string) (string, bool) {
	s, ok := o[k].(string)
	return s, ok
}

func (o obj) num(k string) (float64, bool) {
	n, ok := o[k].(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

func (o obj) intOr(k string, def int) int {
	if f, ok := o.num(k); ok && f == math.Trunc(f) && math.Abs(f) < 1<<40 {
		return int(f)
	}
	return def
}

func (o obj) floatOr(k string, def float64) float64 {
	if f, ok := o.num(k); ok {
		return f
	}
	return def
}

func (o obj) boolOr(k string, def bool) bool {
	if b, ok := o[k].(bool); ok {
		return b
	}
	return def
}

func (o obj) sub(k string) (obj, bool) {
	m, ok := o[k].(map[string]any)
	return obj(m), ok
}

// ids reads a token id or a list of ids.
func (o obj) ids(k string) []int32 {
	var out []int32
	add := func(v any) {
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil && i >= 0 && i < math.MaxInt32 {
				out = append(out, int32(i))
			}
		}
	}
	switch v := o[k].(type) {
	case []any:
		for _, e := range v {
			add(e)
		}
	default:
		add(v)
	}
	return out
}

// require reads required integer fields the way mlx-lm's dataclasses do:
// a missing one is an error, not a silent default.
func (o obj) require(mt string, keys ...string) error {
	var miss []string
	for _, k := range keys {
		if _, ok := o.num(k); !ok {
			miss = append(miss, k)
		}
	}
	if len(miss) > 0 {
		return fmt.Errorf("%w: %s config lacks %s", ErrInvalidConfig, mt, strings.Join(miss, ", "))
	}
	return nil
}

func (c *Config) common(o obj) {
	c.Hidden = o.intOr("hidden_size", 0)
	c.Intermediate = o.intOr("intermediate_size", 0)
	c.Layers = o.intOr("num_hidden_layers", 0)
	c.Heads = o.intOr("num_attention_heads", 0)
	c.KVHeads = o.intOr("num_key_value_heads", c.Heads)
	c.Vocab = o.intOr("vocab_size", 0)
	c.NormEps = float32(o.floatOr("rms_norm_eps", 1e-6))
	c.MaxPositions = o.intOr("max_position_embeddings", 0)
	c.Arch = c.ModelType
	c.Act = SiLU
	if c.Layers > 0 && c.Layers <= maxLayers {
		c.LayerSliding = make([]bool, c.Layers)
	}
}

func (c *Config) finishAttention() {
	if c.HeadDim > 0 {
		c.AttnScale = float32(1 / math.Sqrt(float64(c.HeadDim)))
	}
}

var base = []string{"hidden_size", "num_hidden_layers", "intermediate_size", "num_attention_heads", "vocab_size"}

func (c *Config) fromLlama(o obj) error {
	if err := o.require(c.ModelType, append(base, "rms_norm_eps")...); err != nil {
		return err
	}
	c.common(o)
	c.Arch = "llama"
	c.HeadDim = o.intOr("head_dim", 0)
	if c.HeadDim == 0 && c.Heads > 0 {
		c.HeadDim = c.Hidden / c.Heads
	}
	c.QKVBias = o.boolOr("attention_bias", false)
	c.OBias = c.QKVBias
	c.MLPBias = o.boolOr("mlp_bias", false)
	c.Tied = o.boolOr("tie_word_embeddings", true)
	if lt, ok := o["layer_types"].([]any); ok {
		c.SlidingWindow = o.intOr("sliding_window", 0)
		for i := range c.LayerSliding {
			if i < len(lt) && lt[i] == "sliding_attention" && c.SlidingWindow > 0 {
				c.LayerSliding[i] = true
			}
		}
	}
	c.finishAttention()
	r, err := ropeFromConfig(o, c.HeadDim, o.floatOr("rope_theta", 10000), c.MaxPositions)
	c.Rope = r
	return err
}

func (c *Config) fromQwen2(o obj) error {
	if err := o.require(c.ModelType, append(base, "rms_norm_eps")...); err != nil {
		return err
	}
	c.common(o)
	c.MaxPositions = o.intOr("max_position_embeddings", 32768)
	c.HeadDim = c.Hidden / max(c.Heads, 1)
	c.QKVBias = true
	c.Tied = o.boolOr("tie_word_embeddings", true)
	c.finishAttention()
	r, err := ropeFromConfig(o, c.HeadDim, o.floatOr("rope_theta", 1e6), c.MaxPositions)
	c.Rope = r
	return err
}

func (c *Config) fromQwen3(o obj) error {
	if err := o.require(c.ModelType, append(base, "rms_norm_eps", "num_key_value_heads", "max_position_embeddings", "rope_theta", "head_dim")...); err != nil {
		return err
	}
	if _, ok := o["tie_word_embeddings"].(bool); !ok {
		return fmt.Errorf("%w: qwen3 config lacks tie_word_embeddings", ErrInvalidConfig)
	}
	c.common(o)
	c.HeadDim = o.intOr("head_dim", 0)
	c.QKNorm = true
	c.Tied = o.boolOr("tie_word_embeddings", false)
	c.finishAttention()
	r, err := ropeFromConfig(o, c.HeadDim, o.floatOr("rope_theta", 1e6), c.MaxPositions)
	c.Rope = r
	return err
}

func (c *Config) fromPhi3(o obj) error {
	if err := o.require(c.ModelType, append(base, "rms_norm_eps")...); err != nil {
		return err
	}
	c.common(o)
	c.MaxPositions = o.intOr("max_position_embeddings", 131072)
	c.HeadDim = c.Hidden / max(c.Heads, 1)
	c.FusedQKV, c.FusedGateUp = true, true
	c.Tied = o.boolOr("tie_word_embeddings", false)
	c.finishAttention()
	dims := int(float64(c.HeadDim) * o.floatOr("partial_rotary_factor", 1.0))
	theta := o.floatOr("rope_theta", 10000)
	c.Rope = RopeSpec{Dims: dims, InvFreq: defaultInvFreq(dims, theta), PosScale: 1,
		Traditional: o.boolOr("rope_traditional", false)}
	rs, ok := o.sub("rope_scaling")
	if !ok {
		return nil
	}
	typ, _ := rs.str("type")
	if typ == "" {
		typ, _ = rs.str("rope_type")
	}
	switch typ {
	case "longrope", "su":
		orig := o.intOr("original_max_position_embeddings", 4096)
		long, err := floats(rs, "long_factor", dims/2)
		if err != nil {
			return err
		}
		for i := range c.Rope.InvFreq {
			c.Rope.InvFreq[i] /= long[i]
		}
		ms := float64(1)
		if f, ok := rs.num("long_mscale"); ok {
			ms = f
		} else if factor := float64(c.MaxPositions) / float64(orig); factor > 1 {
			ms = math.Sqrt(1 + math.Log(factor)/math.Log(float64(orig)))
		}
		c.Rope.MScale = float32(ms)
	case "linear":
		c.Rope.PosScale = 1 / rs.floatOr("factor", 1)
	}
	return nil
}

func (c *Config) gemmaCommon(o obj) {
	c.common(o)
	c.HeadDim = o.intOr("head_dim", 256)
	c.NormPlusOne = true
	c.PostNorms = true
	c.Act = GeluTanh
	c.Tied = true
	c.EmbedScale = floatx.RoundBF16(float32(math.Sqrt(float64(c.Hidden))))
	c.AttnScale = float32(1 / math.Sqrt(o.floatOr("query_pre_attn_scalar", 144)))
}

func (c *Config) fromGemma2(o obj) error {
	if err := o.require(c.ModelType, append(base, "head_dim", "rms_norm_eps", "num_key_value_heads")...); err != nil {
		return err
	}
	c.gemmaCommon(o)
	c.AttnSoftcap = float32(o.floatOr("attn_logit_softcapping", 50))
	c.FinalSoftcap = float32(o.floatOr("final_logit_softcapping", 30))
	theta := o.floatOr("rope_theta", 10000)
	c.Rope = RopeSpec{Dims: c.HeadDim, InvFreq: defaultInvFreq(c.HeadDim, theta), PosScale: 1,
		Traditional: o.boolOr("rope_traditional", false)}
	return nil
}

func (c *Config) fromGemma3Text(o obj) error {
	if c.ModelType == "gemma3" {
		// The wrapper's text_config may omit what mlx-lm's dataclass defaults.
		def := map[string]any{"hidden_size": json.Number("1152"), "num_hidden_layers": json.Number("26"),
			"intermediate_size": json.Number("6912"), "num_attention_heads": json.Number("4"),
			"head_dim": json.Number("256"), "vocab_size": json.Number("262144"), "num_key_value_heads": json.Number("1")}
		for k, v := range def {
			if !o.has(k) {
				o[k] = v
			}
		}
	}
	if err := o.require(c.ModelType, base...); err != nil {
		return err
	}
	c.gemmaCommon(o)
	c.KVHeads = o.intOr("num_key_value_heads", 1)
	c.QKNorm = true
	c.TiedUnlessHead = true
	c.AttnScale = float32(1 / math.Sqrt(o.floatOr("query_pre_attn_scalar", 256)))
	c.SlidingWindow = o.intOr("sliding_window", 512)
	pattern := o.intOr("sliding_window_pattern", 6)
	for i := range c.LayerSliding {
		c.LayerSliding[i] = pattern <= 0 || (i+1)%pattern != 0
	}
	var err error
	if c.Rope, err = ropeFromConfig(o, c.HeadDim, o.floatOr("rope_theta", 1e6), c.MaxPositions); err != nil {
		return err
	}
	local := o.floatOr("rope_local_base_freq", 10000)
	c.LocalRope = &RopeSpec{Dims: c.HeadDim, InvFreq: defaultInvFreq(c.HeadDim, local), PosScale: 1}
	return nil
}

func defaultInvFreq(dims int, base float64) []float64 {
	if dims <= 0 || dims > 1<<16 {
		return nil
	}
	out := make([]float64, dims/2)
	for i := range out {
		out[i] = math.Pow(base, -float64(2*i)/float64(dims))
	}
	return out
}

func floats(o obj, k string, n int) ([]float64, error) {
	arr, ok := o[k].([]any)
	if !ok || len(arr) != n {
		return nil, fmt.Errorf("%w: rope_scaling.%s must list %d numbers", ErrInvalidConfig, k, n)
	}
	out := make([]float64, n)
	for i, v := range arr {
		num, ok := v.(json.Number)
		if !ok {
			return nil, fmt.Errorf("%w: rope_scaling.%s[%d] is not a number", ErrInvalidConfig, k, i)
		}
		f, err := num.Float64()
		if err != nil || !(f > 0) {
			return nil, fmt.Errorf("%w: rope_scaling.%s[%d] must be positive", ErrInvalidConfig, k, i)
		}
		out[i] = f
	}
	return out, nil
}

// ropeFromConfig resolves rope_scaling as mlx-lm's initialize_rope does for
// the llama-style families.
func ropeFromConfig(o obj, dims int, theta float64, maxPos int) (RopeSpec, error) {
	r := RopeSpec{Dims: dims, InvFreq: defaultInvFreq(dims, theta), PosScale: 1,
		Traditional: o.boolOr("rope_traditional", false)}
	rs, ok := o.sub("rope_scaling")
	if !ok {
		return r, nil
	}
	typ, _ := rs.str("type")
	if typ == "" {
		typ, _ = rs.str("rope_type")
	}
	switch typ {
	case "", "default":
	case "linear":
		f := rs.floatOr("factor", 1)
		if !(f > 0) {
			return r, fmt.Errorf("%w: rope_scaling.factor must be positive", ErrInvalidConfig)
		}
		r.PosScale = 1 / f
	case "llama3":
		factor := rs.floatOr("factor", 1)
		low := rs.floatOr("low_freq_factor", 1)
		high := rs.floatOr("high_freq_factor", 4)
		old := rs.floatOr("original_max_position_embeddings", 8192)
		if !(factor > 0) || !(high > low) {
			return r, fmt.Errorf("%w: llama3 rope_scaling factors out of range", ErrInvalidConfig)
		}
		lowWavelen, highWavelen := old/low, old/high
		for i := range r.InvFreq {
			period := math.Pow(theta, float64(2*i)/float64(dims))
			wavelen := 2 * math.Pi * period
			switch {
			case wavelen > lowWavelen:
				period *= factor
			case wavelen > highWavelen:
				s := (old/wavelen - low) / (high - low)
				period /= (1-s)/factor + s
			}
			r.InvFreq[i] = 1 / period
		}
	default:
		return r, fmt.Errorf("%w: rope_scaling type %q", ErrUnsupported, typ)
	}
	return r, nil
}

func parseQuant(o obj) (*Quantization, error) {
	q, ok := o.sub("quantization")
	if !ok {
		return nil, nil
	}
	parse := func(m obj, def QuantParams) (QuantParams, error) {
		p := QuantParams{GroupSize: m.intOr("group_size", def.GroupSize), Bits: m.intOr("bits", def.Bits), Mode: def.Mode}
		if s, ok := m.str("mode"); ok {
			p.Mode = s
		}
		if p.Mode != "affine" {
			return p, fmt.Errorf("%w: quantization mode %q", ErrUnsupported, p.Mode)
		}
		return p, nil
	}
	g, err := parse(q, QuantParams{GroupSize: 64, Bits: 4, Mode: "affine"})
	if err != nil {
		return nil, err
	}
	out := &Quantization{Global: g, Overrides: map[string]QuantParams{}, Disabled: map[string]bool{}}
	for k, v := range q {
		switch v := v.(type) {
		case map[string]any:
			p, err := parse(obj(v), g)
			if err != nil {
				return nil, fmt.Errorf("quantization of %s: %w", k, err)
			}
			out.Overrides[k] = p
		case bool:
			if !v {
				out.Disabled[k] = true
			}
		}
	}
	return out, nil
}

// Params returns the quantization settings of a module path.
func (q *Quantization) Params(module string) QuantParams {
	if p, ok := q.Overrides[module]; ok {
		return p
	}
	return q.Global
}
