package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/mlxk/mlxk/shared/floatx"
	"github.com/mlxk/mlxk/shared/quant"
	"github.com/mlxk/mlxk/shared/safetensors"
)

// shape is a decoder's dimensions and the config.json that describes it.
type shape struct {
	Name                           string
	Arch                           string // mlx-lm model_type
	Hidden, Inter, Layers          int
	Heads, KVHeads, HeadDim, Vocab int
	RopeTheta, NormEps             float64
	QKVBias                        bool
	Llama3Rope                     bool // rope_scaling llama3 (factor 32, orig 8192)
	ContextLength                  int
}

var shapes = map[string]shape{
	"qwen2.5-0.5b": {Name: "qwen2.5-0.5b", Arch: "qwen2", Hidden: 896, Inter: 4864, Layers: 24, Heads: 14, KVHeads: 2,
		HeadDim: 64, Vocab: 151936, RopeTheta: 1e6, NormEps: 1e-6, QKVBias: true, ContextLength: 32768},
	"llama-3.2-1b": {Name: "llama-3.2-1b", Arch: "llama", Hidden: 2048, Inter: 8192, Layers: 16, Heads: 32, KVHeads: 8,
		HeadDim: 64, Vocab: 128256, RopeTheta: 500000, NormEps: 1e-5, Llama3Rope: true, ContextLength: 131072},
}

const (
	genBits  = 4
	genGroup = 64
)

func genMain(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	name := fs.String("shape", "qwen2.5-0.5b", "qwen2.5-0.5b or llama-3.2-1b")
	out := fs.String("out", "", "output folder (created)")
	fs.Parse(args)
	s, ok := shapes[*name]
	if !ok || *out == "" {
		return fmt.Errorf("gen: need -out and a known -shape")
	}
	return writeModel(*out, s)
}

// config returns config.json as mlx-lm writes it for a 4-bit model.
func (s shape) config() map[string]any {
	q := map[string]any{"group_size": genGroup, "bits": genBits, "mode": "affine"}
	c := map[string]any{
		"model_type": s.Arch, "hidden_size": s.Hidden, "intermediate_size": s.Inter,
		"num_hidden_layers": s.Layers, "num_attention_heads": s.Heads, "num_key_value_heads": s.KVHeads,
		"head_dim": s.HeadDim, "vocab_size": s.Vocab, "rms_norm_eps": s.NormEps, "rope_theta": s.RopeTheta,
		"max_position_embeddings": s.ContextLength, "tie_word_embeddings": true, "hidden_act": "silu",
		"torch_dtype": "bfloat16", "bos_token_id": 1, "eos_token_id": 2,
		"quantization": q, "quantization_config": q,
	}
	if s.Llama3Rope {
		c["rope_scaling"] = map[string]any{"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
			"high_freq_factor": 4.0, "original_max_position_embeddings": 8192}
	}
	return c
}

// tensorSpec is one float tensor of the model before quantization.
type tensorSpec struct {
	name  string
	shape []int
	kind  int // 0 weight N(0, 0.02²), 1 norm (ones), 2 bias N(0, 0.02²)
}

func (s shape) tensors() []tensorSpec {
	qd, kvd := s.Heads*s.HeadDim, s.KVHeads*s.HeadDim
	ts := []tensorSpec{{"model.embed_tokens", []int{s.Vocab, s.Hidden}, 0}, {"model.norm", []int{s.Hidden}, 1}}
	for i := 0; i < s.Layers; i++ {
		p := fmt.Sprintf("model.layers.%d.", i)
		ts = append(ts,
			tensorSpec{p + "input_layernorm", []int{s.Hidden}, 1},
			tensorSpec{p + "post_attention_layernorm", []int{s.Hidden}, 1},
			tensorSpec{p + "self_attn.q_proj", []int{qd, s.Hidden}, 0},
			tensorSpec{p + "self_attn.k_proj", []int{kvd, s.Hidden}, 0},
			tensorSpec{p + "self_attn.v_proj", []int{kvd, s.Hidden}, 0},
			tensorSpec{p + "self_attn.o_proj", []int{s.Hidden, qd}, 0},
			tensorSpec{p + "mlp.gate_proj", []int{s.Inter, s.Hidden}, 0},
			tensorSpec{p + "mlp.up_proj", []int{s.Inter, s.Hidden}, 0},
			tensorSpec{p + "mlp.down_proj", []int{s.Hidden, s.Inter}, 0},
		)
		if s.QKVBias {
			ts = append(ts,
				tensorSpec{p + "self_attn.q_proj.b", []int{qd}, 2},
				tensorSpec{p + "self_attn.k_proj.b", []int{kvd}, 2},
				tensorSpec{p + "self_attn.v_proj.b", []int{kvd}, 2})
		}
	}
	return ts
}

// values draws a tensor's float values from a stream keyed by its name.
func values(t tensorSpec) []float32 {
	n := 1
	for _, d := range t.shape {
		n *= d
	}
	out := make([]float32, n)
	if t.kind == 1 {
		for i := range out {
			out[i] = 1
		}
		return out
	}
	h := fnv.New64a()
	h.Write([]byte(t.name))
	parallelRanges(n, func(lo, hi int) {
		r := rand.New(rand.NewPCG(h.Sum64(), uint64(lo)))
		for i := lo; i < hi; i++ {
			out[i] = float32(r.NormFloat64() * 0.02)
		}
	})
	return out
}

// parallelRanges calls f on GOMAXPROCS slices of [0,n).
func parallelRanges(n int, f func(lo, hi int)) {
	w := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for i := 0; i < w; i++ {
		lo, hi := n*i/w, n*(i+1)/w
		wg.Go(func() { f(lo, hi) })
	}
	wg.Wait()
}

// quantize4 quantizes a [rows, cols] bf16-rounded matrix to MLX affine
// 4-bit g64 with bf16 scales, rows split over the CPUs.
func quantize4(w []float32, rows, cols int) (packed, scales, biases []byte, err error) {
	for i := range w {
		w[i] = floatx.RoundBF16(w[i])
	}
	rw, ng := quant.RowWords(cols, genBits), quant.Groups(cols, genGroup)
	pk := make([]uint32, rows*rw)
	sc, bi := make([]float32, rows*ng), make([]float32, rows*ng)
	var mu sync.Mutex
	parallelRanges(rows, func(lo, hi int) {
		if lo == hi {
			return
		}
		p, s, b, e := quant.QuantizeRounded(w[lo*cols:hi*cols], hi-lo, cols, genGroup, genBits, floatx.RoundBF16)
		if e != nil {
			mu.Lock()
			err = errors.Join(err, e)
			mu.Unlock()
			return
		}
		copy(pk[lo*rw:], p)
		copy(sc[lo*ng:], s)
		copy(bi[lo*ng:], b)
	})
	if err != nil {
		return nil, nil, nil, err
	}
	scales, biases = make([]byte, 2*len(sc)), make([]byte, 2*len(bi))
	floatx.EncodeBF16(scales, sc)
	floatx.EncodeBF16(biases, bi)
	return quant.WordsToBytes(pk), scales, biases, nil
}

// writeModel writes config.json and the weights. Each tensor is produced
// when the writer reaches it, so memory stays at one tensor's floats.
func writeModel(dir string, s shape) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var pending []safetensors.Pending
	for _, t := range s.tensors() {
		if len(t.shape) == 1 {
			name := t.name + ".weight"
			if t.kind == 2 {
				name = t.name[:len(t.name)-2] + ".bias"
			}
			pending = append(pending, safetensors.Pending{Name: name, DType: safetensors.BF16, Shape: t.shape,
				Load: func() ([]byte, error) {
					v := values(t)
					b := make([]byte, 2*len(v))
					floatx.EncodeBF16(b, v)
					return b, nil
				}})
			continue
		}
		rows, cols := t.shape[0], t.shape[1]
		// The three tensors of a module are written one after the other;
		// the first request quantizes, the last drops the result.
		var cache [3][]byte
		taken := 0
		part := func(i int) func() ([]byte, error) {
			return func() ([]byte, error) {
				if taken == 0 {
					p, sc, bi, err := quantize4(values(t), rows, cols)
					if err != nil {
						return nil, fmt.Errorf("%s: %w", t.name, err)
					}
					cache = [3][]byte{p, sc, bi}
				}
				b := cache[i]
				if taken++; taken == 3 {
					cache, taken = [3][]byte{}, 0
				}
				return b, nil
			}
		}
		g := []int{rows, cols / genGroup}
		pending = append(pending,
			safetensors.Pending{Name: t.name + ".biases", DType: safetensors.BF16, Shape: g, Load: part(2)},
			safetensors.Pending{Name: t.name + ".scales", DType: safetensors.BF16, Shape: g, Load: part(1)},
			safetensors.Pending{Name: t.name + ".weight", DType: safetensors.U32, Shape: []int{rows, cols * genBits / 32}, Load: part(0)},
		)
	}
	if _, err := safetensors.WriteModel(dir, pending, safetensors.ModelOptions{Metadata: map[string]string{"format": "mlx"}}); err != nil {
		return err
	}
	cfg, err := json.MarshalIndent(s.config(), "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644)
}
