package model

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/mlxk/mlxk/shared/engine/kernels"
	"github.com/mlxk/mlxk/shared/safetensors"
)

// memSource is an in-memory TensorSource of f32 tensors.
type memSource map[string]safetensors.Tensor

func (m memSource) Tensor(name string) (safetensors.Tensor, bool) {
	t, ok := m[name]
	return t, ok
}

func (m memSource) add(rng *rand.Rand, name string, std, mean float64, shape ...int) {
	n := 1
	for _, d := range shape {
		n *= d
	}
	b := make([]byte, 4*n)
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(float32(mean+std*rng.NormFloat64())))
	}
	m[name] = safetensors.Tensor{Name: name, DType: safetensors.F32, Shape: shape, Data: b}
}

// randomModel builds a random f32 model for cfg in memory.
func randomModel(t *testing.T, cfgJSON string, seed uint64) *Model {
	t.Helper()
	cfg, err := ParseConfig([]byte(cfgJSON))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	src := memSource{}
	p := cfg.WeightPrefix + "model."
	H, I, qd, kvd := cfg.Hidden, cfg.Intermediate, cfg.Heads*cfg.HeadDim, cfg.KVHeads*cfg.HeadDim
	src.add(rng, p+"embed_tokens.weight", 0.5, 0, cfg.Vocab, H)
	src.add(rng, p+"norm.weight", 0.1, 1, H)
	if !cfg.Tied {
		src.add(rng, cfg.WeightPrefix+"lm_head.weight", 0.2, 0, cfg.Vocab, H)
	}
	for i := 0; i < cfg.Layers; i++ {
		lp := p + "layers." + strconv.Itoa(i) + "."
		for _, n := range []string{"input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm"} {
			src.add(rng, lp+n+".weight", 0.1, 1, H)
		}
		src.add(rng, lp+"self_attn.q_proj.weight", 0.2, 0, qd, H)
		src.add(rng, lp+"self_attn.k_proj.weight", 0.2, 0, kvd, H)
		src.add(rng, lp+"self_attn.v_proj.weight", 0.2, 0, kvd, H)
		src.add(rng, lp+"self_attn.q_proj.bias", 0.2, 0, qd)
		src.add(rng, lp+"self_attn.k_proj.bias", 0.2, 0, kvd)
		src.add(rng, lp+"self_attn.v_proj.bias", 0.2, 0, kvd)
		src.add(rng, lp+"self_attn.qkv_proj.weight", 0.2, 0, qd+2*kvd, H)
		src.add(rng, lp+"self_attn.o_proj.weight", 0.2, 0, H, qd)
		src.add(rng, lp+"self_attn.q_norm.weight", 0.1, 1, cfg.HeadDim)
		src.add(rng, lp+"self_attn.k_norm.weight", 0.1, 1, cfg.HeadDim)
		src.add(rng, lp+"mlp.gate_proj.weight", 0.2, 0, I, H)
		src.add(rng, lp+"mlp.up_proj.weight", 0.2, 0, I, H)
		src.add(rng, lp+"mlp.gate_up_proj.weight", 0.2, 0, 2*I, H)
		src.add(rng, lp+"mlp.down_proj.weight", 0.2, 0, H, I)
	}
	m, err := New(cfg, src, kernels.NewPool(2))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var testConfigs = map[string]string{
	"qwen2":  `{"model_type":"qwen2","hidden_size":32,"num_hidden_layers":2,"intermediate_size":48,"num_attention_heads":4,"num_key_value_heads":2,"rms_norm_eps":1e-6,"vocab_size":64}`,
	"phi3":   `{"model_type":"phi3","hidden_size":32,"num_hidden_layers":2,"intermediate_size":48,"num_attention_heads":4,"num_key_value_heads":2,"rms_norm_eps":1e-5,"vocab_size":64,"partial_rotary_factor":0.5}`,
	"gemma3": `{"model_type":"gemma3_text","hidden_size":32,"num_hidden_layers":3,"intermediate_size":48,"num_attention_heads":4,"num_key_value_heads":2,"head_dim":16,"rms_norm_eps":1e-6,"vocab_size":64,"sliding_window":3,"sliding_window_pattern":2}`,
}

func close32(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > tol*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("%s[%d] = %g, want %g", what, i, got[i], want[i])
		}
	}
}

// TestIncrementalEqualsFull: feeding tokens one at a time through the KV
// cache gives the logits of one full forward pass, and so does a prefill
// split into chunks.
func TestIncrementalEqualsFull(t *testing.T) {
	toks := []int32{3, 17, 42, 5, 9, 63, 0, 11}
	for name, cfg := range testConfigs {
		t.Run(name, func(t *testing.T) {
			m := randomModel(t, cfg, 7)
			full, err := m.Forward([]Input{{Cache: m.NewCache(), Tokens: toks, AllLogits: true}})
			if err != nil {
				t.Fatal(err)
			}
			V := m.Config().Vocab
			c := m.NewCache()
			for i, tk := range toks {
				out, err := m.Forward([]Input{{Cache: c, Tokens: []int32{tk}}})
				if err != nil {
					t.Fatal(err)
				}
				close32(t, "step "+strconv.Itoa(i), out[0], full[0][i*V:(i+1)*V], 1e-4)
			}
			c2 := m.NewCache()
			if _, err := m.Forward([]Input{{Cache: c2, Tokens: toks[:3]}}); err != nil {
				t.Fatal(err)
			}
			out, err := m.Forward([]Input{{Cache: c2, Tokens: toks[3:], AllLogits: true}})
			if err != nil {
				t.Fatal(err)
			}
			close32(t, "chunked", out[0], full[0][3*V:], 1e-4)
		})
	}
}

// TestBatchEqualsSeparate: sequences forwarded together in one batch get
// the logits they get alone, and truncating a cache rewinds exactly.
func TestBatchEqualsSeparate(t *testing.T) {
	m := randomModel(t, testConfigs["gemma3"], 3)
	a, b := []int32{1, 2, 3, 4, 5}, []int32{9, 8}
	ca, cb := m.NewCache(), m.NewCache()
	both, err := m.Forward([]Input{{Cache: ca, Tokens: a}, {Cache: cb, Tokens: b}})
	if err != nil {
		t.Fatal(err)
	}
	alone, _ := m.Forward([]Input{{Cache: m.NewCache(), Tokens: a}})
	close32(t, "a", both[0], alone[0], 1e-5)
	alone, _ = m.Forward([]Input{{Cache: m.NewCache(), Tokens: b}})
	close32(t, "b", both[1], alone[0], 1e-5)

	// Rewind a to its first 3 tokens and continue with b's tokens.
	ca.Truncate(3)
	got, _ := m.Forward([]Input{{Cache: ca, Tokens: b}})
	want, _ := m.Forward([]Input{{Cache: m.NewCache(), Tokens: append(append([]int32{}, a[:3]...), b...)}})
	close32(t, "rewound", got[0], want[0], 1e-5)
}

func TestForwardRejectsBadTokens(t *testing.T) {
	m := randomModel(t, testConfigs["qwen2"], 1)
	if _, err := m.Forward([]Input{{Cache: m.NewCache(), Tokens: []int32{64}}}); err == nil {
		t.Fatal("token id == vocab accepted")
	}
	if _, err := m.Forward([]Input{{Cache: m.NewCache()}}); err == nil {
		t.Fatal("empty input accepted")
	}
}

// TestEmbedPoolsWhatTheHeadReads: the LM head applied to an embedding
// gives the logits Forward computes (checked against an independent
// implementation by TestGoldenLogits): the last token's for PoolLast, and,
// the head being linear, the mean of all tokens' logits for PoolMean. A
// batch embeds as its inputs do alone.
func TestEmbedPoolsWhatTheHeadReads(t *testing.T) {
	for _, name := range []string{"qwen2", "gemma3"} {
		m := randomModel(t, testConfigs[name], 5)
		V, H := m.cfg.Vocab, m.cfg.Hidden
		a, b := []int32{1, 2, 3, 4, 5}, []int32{9, 8}
		all, err := m.Forward([]Input{{Cache: m.NewCache(), Tokens: a, AllLogits: true}})
		if err != nil {
			t.Fatal(err)
		}
		head := func(v []float32) []float32 {
			out := make([]float32, V)
			kernels.MatMul(nil, m.w.lmHead, out, v, 1)
			return out
		}
		last, err := m.Embed([]Input{{Cache: m.NewCache(), Tokens: a}, {Cache: m.NewCache(), Tokens: b}}, PoolLast)
		if err != nil {
			t.Fatal(err)
		}
		if len(last) != 2 || len(last[0]) != H {
			t.Fatalf("%s: %d embeddings of %d", name, len(last), len(last[0]))
		}
		close32(t, name+" last", head(last[0]), all[0][(len(a)-1)*V:], 1e-4)
		mean, err := m.Embed([]Input{{Cache: m.NewCache(), Tokens: a}}, PoolMean)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float32, V)
		for p := range a {
			for j := range want {
				want[j] += all[0][p*V+j] / float32(len(a))
			}
		}
		close32(t, name+" mean", head(mean[0]), want, 1e-4)
		alone, _ := m.Embed([]Input{{Cache: m.NewCache(), Tokens: b}}, PoolLast)
		close32(t, name+" batch", last[1], alone[0], 1e-5)
	}
}
