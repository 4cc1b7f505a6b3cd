package model

import (
	"fmt"
	"strconv"

	"github.com/mlxk/mlxk/shared/engine/kernels"
	"github.com/mlxk/mlxk/shared/floatx"
	"github.com/mlxk/mlxk/shared/quant"
	"github.com/mlxk/mlxk/shared/safetensors"
)

// TensorSource is what binding needs from a set of safetensors files.
type TensorSource interface {
	Tensor(name string) (safetensors.Tensor, bool)
}

// linear is an nn.Linear: a weight matrix and an optional bias.
type linear struct {
	W    *kernels.Matrix
	Bias []float32
}

type layer struct {
	q, k, v, o, qkv       *linear
	gate, up, down, gu    *linear
	inNorm, postAttnNorm  []float32
	preFFNorm, postFFNorm []float32
	qNorm, kNorm          []float32
	sliding               bool
}

// weights are the bound tensors of a decoder.
type weights struct {
	embed  *kernels.Matrix
	layers []layer
	norm   []float32
	lmHead *kernels.Matrix
	bytes  int64
}

// matrices lists every weight matrix (a tied head once).
func (w *weights) matrices() []*kernels.Matrix {
	ms := []*kernels.Matrix{w.embed}
	if w.lmHead != nil && w.lmHead != w.embed {
		ms = append(ms, w.lmHead)
	}
	for _, l := range w.layers {
		for _, lin := range []*linear{l.q, l.k, l.v, l.o, l.qkv, l.gate, l.up, l.down, l.gu} {
			if lin != nil {
				ms = append(ms, lin.W)
			}
		}
	}
	return ms
}

// binder resolves tensors by mlx-lm name and checks their shapes.
type binder struct {
	src   TensorSource
	cfg   *Config
	bytes int64
}

func (b *binder) tensor(name string) (safetensors.Tensor, error) {
	t, ok := b.src.Tensor(name)
	if !ok {
		return t, fmt.Errorf("%w: weights lack tensor %s", ErrInvalidConfig, name)
	}
	return t, nil
}

func shapeIs(t safetensors.Tensor, dims ...int) bool {
	if len(t.Shape) != len(dims) {
		return false
	}
	for i, d := range dims {
		if t.Shape[i] != d {
			return false
		}
	}
	return true
}

func floatFormat(d safetensors.DType) (kernels.Format, bool) {
	switch d {
	case safetensors.F32:
		return kernels.F32, true
	case safetensors.BF16:
		return kernels.BF16, true
	case safetensors.F16:
		return kernels.F16, true
	}
	return 0, false
}

// vector reads a 1-D float tensor of length n into f32.
func (b *binder) vector(name string, n int) ([]float32, error) {
	t, err := b.tensor(name)
	if err != nil {
		return nil, err
	}
	if !shapeIs(t, n) {
		return nil, fmt.Errorf("%w: %s has shape %v, want [%d]", ErrInvalidConfig, name, t.Shape, n)
	}
	out := make([]float32, n)
	switch t.DType {
	case safetensors.F32:
		floatx.DecodeF32(out, t.Data)
	case safetensors.BF16:
		floatx.DecodeBF16(out, t.Data)
	case safetensors.F16:
		floatx.DecodeF16(out, t.Data)
	default:
		return nil, fmt.Errorf("%w: %s has dtype %s", ErrUnsupported, name, t.DType)
	}
	b.bytes += int64(len(t.Data))
	return out, nil
}

// matrix binds module path's weight as a [rows, cols] matrix, quantized
// when <path>.scales exists (the rule mlx-lm's loader applies).
func (b *binder) matrix(path string, rows, cols int) (*kernels.Matrix, error) {
	w, err := b.tensor(path + ".weight")
	if err != nil {
		return nil, err
	}
	if s, ok := b.src.Tensor(path + ".scales"); ok {
		return b.affine(path, w, s, rows, cols)
	}
	f, ok := floatFormat(w.DType)
	if !ok {
		return nil, fmt.Errorf("%w: %s.weight has dtype %s and no scales", ErrUnsupported, path, w.DType)
	}
	if !shapeIs(w, rows, cols) {
		return nil, fmt.Errorf("%w: %s.weight has shape %v, want [%d %d]", ErrInvalidConfig, path, w.Shape, rows, cols)
	}
	b.bytes += int64(len(w.Data))
	return kernels.NewDense(rows, cols, f, w.Data)
}

func (b *binder) affine(path string, w, s safetensors.Tensor, rows, cols int) (*kernels.Matrix, error) {
	qp := QuantParams{GroupSize: 64, Bits: 4, Mode: "affine"}
	if b.cfg.Quant != nil {
		qp = b.cfg.Quant.Params(path)
	}
	bi, err := b.tensor(path + ".biases")
	if err != nil {
		return nil, fmt.Errorf("%w (quantized %s needs scales and biases)", err, path)
	}
	if w.DType != safetensors.U32 {
		return nil, fmt.Errorf("%w: quantized %s.weight has dtype %s, want U32", ErrInvalidConfig, path, w.DType)
	}
	sf, ok := floatFormat(s.DType)
	if !ok || bi.DType != s.DType {
		return nil, fmt.Errorf("%w: %s scales/biases have dtypes %s/%s", ErrUnsupported, path, s.DType, bi.DType)
	}
	r, c, err := quant.CheckShapes(w.Shape, s.Shape, bi.Shape, qp.GroupSize, qp.Bits)
	if err == nil && (len(w.Shape) != 2 || r != rows || c != cols) {
		err = fmt.Errorf("logical shape [%d %d], want [%d %d]", r, c, rows, cols)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s at %d bits, group %d: %v", ErrInvalidConfig, path, qp.Bits, qp.GroupSize, err)
	}
	m, err := kernels.NewAffine(rows, cols, qp.Bits, qp.GroupSize, w.Data, sf, s.Data, bi.Data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUnsupported, path, err)
	}
	b.bytes += m.Bytes()
	return m, nil
}

func (b *binder) linear(path string, rows, cols int, bias bool) (*linear, error) {
	m, err := b.matrix(path, rows, cols)
	if err != nil {
		return nil, err
	}
	l := &linear{W: m}
	if bias {
		if l.Bias, err = b.vector(path+".bias", rows); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// bind resolves every tensor the configuration needs.
func bind(src TensorSource, c *Config) (*weights, error) {
	b := &binder{src: src, cfg: c}
	p := c.WeightPrefix + "model."
	w := &weights{layers: make([]layer, c.Layers)}
	var err error
	if w.embed, err = b.matrix(p+"embed_tokens", c.Vocab, c.Hidden); err != nil {
		return nil, err
	}
	qd, kvd := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	for i := range w.layers {
		l := &w.layers[i]
		l.sliding = c.LayerSliding[i]
		lp := p + "layers." + strconv.Itoa(i) + "."
		steps := []func() error{
			func() (err error) { l.inNorm, err = b.vector(lp+"input_layernorm.weight", c.Hidden); return },
			func() (err error) {
				l.postAttnNorm, err = b.vector(lp+"post_attention_layernorm.weight", c.Hidden)
				return
			},
			func() (err error) {
				l.o, err = b.linear(lp+"self_attn.o_proj", c.Hidden, qd, c.OBias)
				return
			},
			func() (err error) {
				l.down, err = b.linear(lp+"mlp.down_proj", c.Hidden, c.Intermediate, c.MLPBias)
				return
			},
		}
		if c.FusedQKV {
			steps = append(steps, func() (err error) {
				l.qkv, err = b.linear(lp+"self_attn.qkv_proj", qd+2*kvd, c.Hidden, c.QKVBias)
				return
			})
		} else {
			steps = append(steps,
				func() (err error) { l.q, err = b.linear(lp+"self_attn.q_proj", qd, c.Hidden, c.QKVBias); return },
				func() (err error) { l.k, err = b.linear(lp+"self_attn.k_proj", kvd, c.Hidden, c.QKVBias); return },
				func() (err error) { l.v, err = b.linear(lp+"self_attn.v_proj", kvd, c.Hidden, c.QKVBias); return })
		}
		if c.FusedGateUp {
			steps = append(steps, func() (err error) {
				l.gu, err = b.linear(lp+"mlp.gate_up_proj", 2*c.Intermediate, c.Hidden, c.MLPBias)
				return
			})
		} else {
			steps = append(steps,
				func() (err error) {
					l.gate, err = b.linear(lp+"mlp.gate_proj", c.Intermediate, c.Hidden, c.MLPBias)
					return
				},
				func() (err error) {
					l.up, err = b.linear(lp+"mlp.up_proj", c.Intermediate, c.Hidden, c.MLPBias)
					return
				})
		}
		if c.QKNorm {
			steps = append(steps,
				func() (err error) { l.qNorm, err = b.vector(lp+"self_attn.q_norm.weight", c.HeadDim); return },
				func() (err error) { l.kNorm, err = b.vector(lp+"self_attn.k_norm.weight", c.HeadDim); return })
		}
		if c.PostNorms {
			steps = append(steps,
				func() (err error) {
					l.preFFNorm, err = b.vector(lp+"pre_feedforward_layernorm.weight", c.Hidden)
					return
				},
				func() (err error) {
					l.postFFNorm, err = b.vector(lp+"post_feedforward_layernorm.weight", c.Hidden)
					return
				})
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return nil, err
			}
		}
	}
	if w.norm, err = b.vector(p+"norm.weight", c.Hidden); err != nil {
		return nil, err
	}
	w.lmHead = w.embed
	if _, has := src.Tensor(c.WeightPrefix + "lm_head.weight"); has && !c.Tied {
		if w.lmHead, err = b.matrix(c.WeightPrefix+"lm_head", c.Vocab, c.Hidden); err != nil {
			return nil, err
		}
	} else if !c.Tied {
		return nil, fmt.Errorf("%w: untied model lacks %slm_head.weight", ErrInvalidConfig, c.WeightPrefix)
	}
	w.bytes = b.bytes
	return w, nil
}
