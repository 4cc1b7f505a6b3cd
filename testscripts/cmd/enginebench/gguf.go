package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/mlxk/mlxk/shared/engine/kernels"
	"github.com/mlxk/mlxk/shared/floatx"
	"github.com/mlxk/mlxk/shared/safetensors"
	"github.com/mlxk/mlxk/shared/tokenizer"
)

// The GGUF twin of a benchmark model: the MLX 4-bit weights dequantized
// and requantized to ggml's q4_0 (blocks of 32 with an f16 scale, also
// 4.5 bits per weight), norms and biases in f32, and the metadata
// llama.cpp's llama/qwen2 loaders read. The benchmark feeds token ids; the
// vocabulary is a stand-in (byteVocab) because node-llama-cpp tokenizes
// while loading.

// GGUF v3 constants (ggml's gguf.h).
const (
	ggufMagic     = 0x46554747 // "GGUF"
	ggufVersion   = 3
	ggufAlignment = 32

	ggmlF32  = 0
	ggmlQ4_0 = 2

	kvInt32   = 5
	kvUint32  = 4
	kvFloat32 = 6
	kvString  = 8
	kvArray   = 9

	fileTypeQ4_0 = 2 // LLAMA_FTYPE_MOSTLY_Q4_0
)

func ggufMain(args []string) error {
	fs := flag.NewFlagSet("gguf", flag.ExitOnError)
	in := fs.String("in", "", "MLX model folder written by gen")
	out := fs.String("out", "", "GGUF file to write")
	fs.Parse(args)
	if *in == "" || *out == "" {
		return errors.New("gguf: need -in and -out")
	}
	return convertGGUF(*in, *out)
}

// ggufTensor is one tensor of the file; data produces its bytes when the
// writer reaches it.
type ggufTensor struct {
	name string
	dims []uint64 // ggml order: dims[0] is the row length
	typ  uint32
	data func() ([]byte, error)
}

func (t ggufTensor) size() int64 {
	n := int64(1)
	for _, d := range t.dims {
		n *= int64(d)
	}
	if t.typ == ggmlQ4_0 {
		return n / 32 * 18
	}
	return 4 * n
}

// ggufWriter collects metadata and tensors, then writes the file.
type ggufWriter struct {
	kv      []byte
	nkv     uint64
	tensors []ggufTensor
}

func appendStr(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

// key starts a metadata entry: its name and value type (for arrays, the
// element type and count follow).
func (w *ggufWriter) key(key string, typ uint32) {
	w.kv = appendStr(w.kv, key)
	w.kv = binary.LittleEndian.AppendUint32(w.kv, typ)
	w.nkv++
}

func (w *ggufWriter) str(key, v string) {
	w.key(key, kvString)
	w.kv = appendStr(w.kv, v)
}

func (w *ggufWriter) u32(key string, v uint32) {
	w.key(key, kvUint32)
	w.kv = binary.LittleEndian.AppendUint32(w.kv, v)
}

func (w *ggufWriter) f32(key string, v float32) {
	w.key(key, kvFloat32)
	w.kv = binary.LittleEndian.AppendUint32(w.kv, math.Float32bits(v))
}

// array starts an array entry of n elements of type elem.
func (w *ggufWriter) array(key string, elem uint32, n int) {
	w.key(key, kvArray)
	w.kv = binary.LittleEndian.AppendUint32(w.kv, elem)
	w.kv = binary.LittleEndian.AppendUint64(w.kv, uint64(n))
}

func (w *ggufWriter) strs(key string, v []string) {
	w.array(key, kvString, len(v))
	for _, s := range v {
		w.kv = appendStr(w.kv, s)
	}
}

func (w *ggufWriter) i32s(key string, v []int32) {
	w.array(key, kvInt32, len(v))
	for _, x := range v {
		w.kv = binary.LittleEndian.AppendUint32(w.kv, uint32(x))
	}
}

// byteVocab is a byte-level BPE vocabulary of n tokens without merges:
// the 256 byte tokens in GPT-2's printable mapping, then unique fillers,
// the last one a control token used as BOS/EOS. It lets llama.cpp (and
// node-llama-cpp, which tokenizes a little while loading) run a model
// that only ever sees token ids.
func byteVocab(n int) ([]string, []int32) {
	toks := make([]string, n)
	types := make([]int32, n)
	for b, r := range tokenizer.ByteLevelAlphabet() {
		toks[b] = string(r)
	}
	for i := 256; i < n; i++ {
		toks[i] = "<t" + strconv.Itoa(i) + ">"
		types[i] = 1 // normal
	}
	for i := 0; i < 256; i++ {
		types[i] = 1
	}
	toks[n-1], types[n-1] = "<|end|>", 3 // control
	return toks, types
}

func pad(n int64) int64 { return (n + ggufAlignment - 1) / ggufAlignment * ggufAlignment }

// write streams the file: header, metadata, tensor infos with offsets
// aligned to 32, then the tensor data in the same order.
func (w *ggufWriter) write(out io.Writer) error {
	bw := bufio.NewWriterSize(out, 1<<20)
	var h []byte
	h = binary.LittleEndian.AppendUint32(h, ggufMagic)
	h = binary.LittleEndian.AppendUint32(h, ggufVersion)
	h = binary.LittleEndian.AppendUint64(h, uint64(len(w.tensors)))
	h = binary.LittleEndian.AppendUint64(h, w.nkv)
	h = append(h, w.kv...)
	var off int64
	for _, t := range w.tensors {
		h = appendStr(h, t.name)
		h = binary.LittleEndian.AppendUint32(h, uint32(len(t.dims)))
		for _, d := range t.dims {
			h = binary.LittleEndian.AppendUint64(h, d)
		}
		h = binary.LittleEndian.AppendUint32(h, t.typ)
		h = binary.LittleEndian.AppendUint64(h, uint64(off))
		off = pad(off + t.size())
	}
	h = append(h, make([]byte, pad(int64(len(h)))-int64(len(h)))...)
	if _, err := bw.Write(h); err != nil {
		return err
	}
	for _, t := range w.tensors {
		b, err := t.data()
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		if int64(len(b)) != t.size() {
			return fmt.Errorf("%s: %d bytes, want %d", t.name, len(b), t.size())
		}
		b = append(b, make([]byte, pad(t.size())-t.size())...)
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// quantizeQ4_0 quantizes rows of floats to ggml q4_0 as its reference
// quantizer does: per 32 values d = (value of largest magnitude)/-8,
// q = min(15, trunc(x/d + 8.5)), value j in the low nibble of byte j and
// value j+16 in the high nibble, after the f16 d.
func quantizeQ4_0(x []float32) []byte {
	out := make([]byte, 0, len(x)/32*18)
	for b := 0; b+32 <= len(x); b += 32 {
		blk := x[b : b+32]
		var amax, mx float32
		for _, v := range blk {
			if a := float32(math.Abs(float64(v))); a > amax {
				amax, mx = a, v
			}
		}
		d := mx / -8
		var id float32
		if d != 0 {
			id = 1 / d
		}
		out = binary.LittleEndian.AppendUint16(out, floatx.F32ToF16(d))
		for j := 0; j < 16; j++ {
			q0 := min(15, int8(blk[j]*id+8.5))
			q1 := min(15, int8(blk[16+j]*id+8.5))
			out = append(out, byte(q0)|byte(q1)<<4)
		}
	}
	return out
}

// ggufSource reads the MLX model being converted.
type ggufSource struct {
	st  *safetensors.Model
	cfg map[string]any
}

func (s *ggufSource) num(key string) float64 {
	v, _ := s.cfg[key].(float64)
	return v
}

// matrix returns module path's weight as float32 rows (dequantized).
func (s *ggufSource) matrix(path string, rows, cols int) ([]float32, error) {
	w, ok := s.st.Tensor(path + ".weight")
	sc, ok2 := s.st.Tensor(path + ".scales")
	bi, ok3 := s.st.Tensor(path + ".biases")
	if !ok || !ok2 || !ok3 {
		return nil, fmt.Errorf("%s: not a quantized module", path)
	}
	if sc.DType != safetensors.BF16 {
		return nil, fmt.Errorf("%s: scales are %s, want bf16", path, sc.DType)
	}
	bits := len(w.Data) * 8 / (rows * cols)
	group := cols / sc.Shape[1]
	m, err := kernels.NewAffine(rows, cols, bits, group, w.Data, kernels.BF16, sc.Data, bi.Data)
	if err != nil {
		return nil, err
	}
	out := make([]float32, rows*cols)
	for r := 0; r < rows; r++ {
		m.Row(out[r*cols:(r+1)*cols], r)
	}
	return out, nil
}

func (s *ggufSource) vector(name string) ([]float32, error) {
	t, ok := s.st.Tensor(name)
	if !ok {
		return nil, fmt.Errorf("missing %s", name)
	}
	return t.Float32s()
}

func f32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	floatx.EncodeF32(b, v)
	return b
}

// permuteQK reorders the rows of a q or k projection from the rotate-half
// layout of Hugging Face/MLX to the interleaved pairs llama.cpp's llama
// architecture rotates (convert_hf_to_gguf does the same).
func permuteQK(w []float32, heads, cols int) []float32 {
	rows := len(w) / cols
	d := rows / heads
	out := make([]float32, len(w))
	for h := 0; h < heads; h++ {
		for i := 0; i < d/2; i++ {
			for j := 0; j < 2; j++ {
				dst := h*d + 2*i + j
				src := h*d + j*(d/2) + i
				copy(out[dst*cols:(dst+1)*cols], w[src*cols:(src+1)*cols])
			}
		}
	}
	return out
}

// llama3Factors are the per-frequency divisors of Llama 3's rope scaling
// (llama.cpp reads them from rope_freqs.weight).
func llama3Factors(headDim int, theta, factor, low, high, orig float64) []float32 {
	out := make([]float32, headDim/2)
	lowWave, highWave := orig/low, orig/high
	for i := range out {
		freq := 1 / math.Pow(theta, float64(2*i)/float64(headDim))
		wave := 2 * math.Pi / freq
		switch {
		case wave < highWave:
			out[i] = 1
		case wave > lowWave:
			out[i] = float32(factor)
		default:
			smooth := (orig/wave - low) / (high - low)
			out[i] = float32(1 / ((1-smooth)/factor + smooth))
		}
	}
	return out
}

// open reads config.json and maps the weights of the model in dir.
func (s *ggufSource) open(dir string) error {
	cb, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(cb, &s.cfg); err != nil {
		return fmt.Errorf("config.json: %w", err)
	}
	s.st, err = safetensors.OpenModel(dir)
	return err
}

func convertGGUF(dir, outPath string) error {
	src := &ggufSource{}
	if err := src.open(dir); err != nil {
		return err
	}
	defer src.st.Close()
	arch, _ := src.cfg["model_type"].(string)
	if arch != "qwen2" && arch != "llama" {
		return fmt.Errorf("gguf: model_type %q (want qwen2 or llama)", arch)
	}
	H, I := int(src.num("hidden_size")), int(src.num("intermediate_size"))
	L, V := int(src.num("num_hidden_layers")), int(src.num("vocab_size"))
	nh, nkv := int(src.num("num_attention_heads")), int(src.num("num_key_value_heads"))
	hd := int(src.num("head_dim"))
	if hd == 0 {
		hd = H / nh
	}

	w := &ggufWriter{}
	w.str("general.architecture", arch)
	w.str("general.name", filepath.Base(dir))
	w.u32("general.file_type", fileTypeQ4_0)
	w.u32("general.quantization_version", 2)
	w.u32(arch+".context_length", uint32(src.num("max_position_embeddings")))
	w.u32(arch+".embedding_length", uint32(H))
	w.u32(arch+".block_count", uint32(L))
	w.u32(arch+".feed_forward_length", uint32(I))
	w.u32(arch+".attention.head_count", uint32(nh))
	w.u32(arch+".attention.head_count_kv", uint32(nkv))
	w.u32(arch+".attention.key_length", uint32(hd))
	w.u32(arch+".attention.value_length", uint32(hd))
	w.f32(arch+".attention.layer_norm_rms_epsilon", float32(src.num("rms_norm_eps")))
	w.f32(arch+".rope.freq_base", float32(src.num("rope_theta")))
	w.u32(arch+".rope.dimension_count", uint32(hd))
	w.u32(arch+".vocab_size", uint32(V))
	toks, types := byteVocab(V)
	w.str("tokenizer.ggml.model", "gpt2")
	w.str("tokenizer.ggml.pre", "default")
	w.strs("tokenizer.ggml.tokens", toks)
	w.i32s("tokenizer.ggml.token_type", types)
	w.strs("tokenizer.ggml.merges", nil)
	w.u32("tokenizer.ggml.bos_token_id", uint32(V-1))
	w.u32("tokenizer.ggml.eos_token_id", uint32(V-1))

	q4 := func(name, path string, rows, cols int, perm int) {
		w.tensors = append(w.tensors, ggufTensor{name: name, dims: []uint64{uint64(cols), uint64(rows)}, typ: ggmlQ4_0,
			data: func() ([]byte, error) {
				m, err := src.matrix(path, rows, cols)
				if err != nil {
					return nil, err
				}
				if perm > 0 && arch == "llama" {
					m = permuteQK(m, perm, cols)
				}
				return quantizeQ4_0(m), nil
			}})
	}
	f32 := func(name, tensor string, n int) {
		w.tensors = append(w.tensors, ggufTensor{name: name, dims: []uint64{uint64(n)}, typ: ggmlF32,
			data: func() ([]byte, error) {
				v, err := src.vector(tensor)
				if err != nil {
					return nil, err
				}
				return f32Bytes(v), nil
			}})
	}
	q4("token_embd.weight", "model.embed_tokens", V, H, 0)
	f32("output_norm.weight", "model.norm.weight", H)
	if rs, ok := src.cfg["rope_scaling"].(map[string]any); ok && rs["rope_type"] == "llama3" {
		num := func(k string) float64 { v, _ := rs[k].(float64); return v }
		fac := llama3Factors(hd, src.num("rope_theta"), num("factor"), num("low_freq_factor"), num("high_freq_factor"), num("original_max_position_embeddings"))
		w.tensors = append(w.tensors, ggufTensor{name: "rope_freqs.weight", dims: []uint64{uint64(len(fac))}, typ: ggmlF32,
			data: func() ([]byte, error) { return f32Bytes(fac), nil }})
	}
	for l := 0; l < L; l++ {
		p := "model.layers." + strconv.Itoa(l) + "."
		b := "blk." + strconv.Itoa(l) + "."
		f32(b+"attn_norm.weight", p+"input_layernorm.weight", H)
		q4(b+"attn_q.weight", p+"self_attn.q_proj", nh*hd, H, nh)
		q4(b+"attn_k.weight", p+"self_attn.k_proj", nkv*hd, H, nkv)
		q4(b+"attn_v.weight", p+"self_attn.v_proj", nkv*hd, H, 0)
		q4(b+"attn_output.weight", p+"self_attn.o_proj", H, nh*hd, 0)
		if _, ok := src.st.Tensor(p + "self_attn.q_proj.bias"); ok {
			f32(b+"attn_q.bias", p+"self_attn.q_proj.bias", nh*hd)
			f32(b+"attn_k.bias", p+"self_attn.k_proj.bias", nkv*hd)
			f32(b+"attn_v.bias", p+"self_attn.v_proj.bias", nkv*hd)
		}
		f32(b+"ffn_norm.weight", p+"post_attention_layernorm.weight", H)
		q4(b+"ffn_gate.weight", p+"mlp.gate_proj", I, H, 0)
		q4(b+"ffn_up.weight", p+"mlp.up_proj", I, H, 0)
		q4(b+"ffn_down.weight", p+"mlp.down_proj", H, I, 0)
	}

	tmp := outPath + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := w.write(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, outPath)
}
