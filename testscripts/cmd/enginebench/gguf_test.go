package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlxk/mlxk/shared/floatx"
)

// ggufFile is what readGGUF understands of a file: enough to check the
// writer against the format.
type ggufFile struct {
	kv      map[string]any
	tensors map[string]ggufInfo
	order   []string
	data    []byte // from the aligned start of the data section
}

type ggufInfo struct {
	dims []uint64
	typ  uint32
	off  uint64
}

type reader struct {
	b   []byte
	pos int
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil || r.pos+n > len(r.b) {
		r.err = fmt.Errorf("truncated at %d", r.pos)
		return make([]byte, n)
	}
	out := r.b[r.pos : r.pos+n]
	r.pos += n
	return out
}
func (r *reader) u32() uint32 { return binary.LittleEndian.Uint32(r.take(4)) }
func (r *reader) u64() uint64 { return binary.LittleEndian.Uint64(r.take(8)) }
func (r *reader) str() string { return string(r.take(int(r.u64()))) }

func (r *reader) value(typ uint32) any {
	switch typ {
	case kvUint32:
		return r.u32()
	case kvInt32:
		return int32(r.u32())
	case kvFloat32:
		return math.Float32frombits(r.u32())
	case kvString:
		return r.str()
	case kvArray:
		et, n := r.u32(), r.u64()
		out := make([]any, n)
		for i := range out {
			out[i] = r.value(et)
		}
		return out
	}
	r.err = fmt.Errorf("value type %d", typ)
	return nil
}

func readGGUF(b []byte) (*ggufFile, error) {
	r := &reader{b: b}
	if r.u32() != ggufMagic || r.u32() != ggufVersion {
		return nil, fmt.Errorf("not GGUF v3")
	}
	nt, nkv := r.u64(), r.u64()
	f := &ggufFile{kv: map[string]any{}, tensors: map[string]ggufInfo{}}
	for i := uint64(0); i < nkv; i++ {
		k := r.str()
		f.kv[k] = r.value(r.u32())
	}
	for i := uint64(0); i < nt; i++ {
		name := r.str()
		var in ggufInfo
		nd := r.u32()
		for j := uint32(0); j < nd; j++ {
			in.dims = append(in.dims, r.u64())
		}
		in.typ, in.off = r.u32(), r.u64()
		f.tensors[name] = in
		f.order = append(f.order, name)
	}
	if r.err != nil {
		return nil, r.err
	}
	f.data = b[pad(int64(r.pos)):]
	return f, nil
}

// dequantQ4_0 is ggml's q4_0 decoding: (q-8)·d.
func dequantQ4_0(b []byte, n int) []float32 {
	out := make([]float32, n)
	for blk := 0; blk < n/32; blk++ {
		p := b[blk*18:]
		d := floatx.F16ToF32(binary.LittleEndian.Uint16(p))
		for j := 0; j < 16; j++ {
			out[blk*32+j] = float32(int(p[2+j]&15)-8) * d
			out[blk*32+16+j] = float32(int(p[2+j]>>4)-8) * d
		}
	}
	return out
}

func TestQuantizeQ4_0(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, 32*50)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	clear(x[64:96]) // an all-zero block
	got := dequantQ4_0(quantizeQ4_0(x), len(x))
	for b := 0; b < len(x)/32; b++ {
		var amax float64
		for _, v := range x[b*32 : b*32+32] {
			amax = max(amax, math.Abs(float64(v)))
		}
		// Values are on a grid of step; the side opposite the largest
		// magnitude ends at 7 steps, so it may clip by up to one step.
		step := amax / 8
		for i := b * 32; i < b*32+32; i++ {
			lim := step * 0.5
			if math.Abs(float64(x[i])) > 7*step {
				lim = step
			}
			if d := math.Abs(float64(got[i] - x[i])); d > lim*1.002+1e-6 {
				t.Fatalf("value %d: %g decoded as %g (step %g)", i, x[i], got[i], step)
			}
		}
	}
}

func TestPermuteQKIsAPermutation(t *testing.T) {
	const heads, d, cols = 3, 8, 2
	w := make([]float32, heads*d*cols)
	for i := range w {
		w[i] = float32(i)
	}
	p := permuteQK(w, heads, cols)
	seen := map[float32]bool{}
	for _, v := range p {
		seen[v] = true
	}
	if len(seen) != len(w) {
		t.Fatal("rows lost or duplicated")
	}
	// Row 1 of head 0 (pair 0, second element) comes from row d/2.
	if p[1*cols] != w[(d/2)*cols] {
		t.Fatalf("row 1 = %v, want row %d", p[cols:2*cols], d/2)
	}
}

// TestGGUFRoundTrip writes a tiny model of each architecture, converts
// it and reads the file back: metadata, tensor names and shapes, aligned
// offsets inside the file, and q4_0 values close to the MLX weights.
func TestGGUFRoundTrip(t *testing.T) {
	for _, s := range []shape{
		{Name: "tiny-qwen", Arch: "qwen2", Hidden: 64, Inter: 128, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 16,
			Vocab: 300, RopeTheta: 1e6, NormEps: 1e-6, QKVBias: true, ContextLength: 256},
		{Name: "tiny-llama", Arch: "llama", Hidden: 64, Inter: 128, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 16,
			Vocab: 300, RopeTheta: 500000, NormEps: 1e-5, Llama3Rope: true, ContextLength: 256},
	} {
		t.Run(s.Name, func(t *testing.T) {
			dir := t.TempDir()
			if err := writeModel(filepath.Join(dir, "mlx"), s); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "m.gguf")
			if err := convertGGUF(filepath.Join(dir, "mlx"), path); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := readGGUF(b)
			if err != nil {
				t.Fatal(err)
			}
			if f.kv["general.architecture"] != s.Arch || f.kv[s.Arch+".block_count"] != uint32(s.Layers) ||
				f.kv[s.Arch+".vocab_size"] != uint32(s.Vocab) || len(f.kv["tokenizer.ggml.tokens"].([]any)) != s.Vocab {
				t.Fatalf("metadata: %v", f.kv["general.architecture"])
			}
			wantTensors := 2 + s.Layers*9
			if s.QKVBias {
				wantTensors += 3 * s.Layers
			}
			if s.Llama3Rope {
				wantTensors++
			}
			if len(f.tensors) != wantTensors {
				t.Fatalf("%d tensors, want %d", len(f.tensors), wantTensors)
			}
			var end uint64
			for _, name := range f.order {
				in := f.tensors[name]
				gt := ggufTensor{dims: in.dims, typ: in.typ}
				if in.off%ggufAlignment != 0 || in.off < end {
					t.Fatalf("%s at offset %d", name, in.off)
				}
				end = in.off + uint64(gt.size())
			}
			if uint64(len(f.data)) < end {
				t.Fatalf("data section %d bytes, tensors need %d", len(f.data), end)
			}
			emb := f.tensors["token_embd.weight"]
			if emb.typ != ggmlQ4_0 || emb.dims[0] != uint64(s.Hidden) || emb.dims[1] != uint64(s.Vocab) {
				t.Fatalf("token_embd %+v", emb)
			}
			// The embedding decodes close to the MLX weights (both are
			// 4-bit quantizations of the same values).
			src := &ggufSource{}
			if err := src.open(filepath.Join(dir, "mlx")); err != nil {
				t.Fatal(err)
			}
			defer src.st.Close()
			want, err := src.matrix("model.embed_tokens", s.Vocab, s.Hidden)
			if err != nil {
				t.Fatal(err)
			}
			got := dequantQ4_0(f.data[emb.off:], s.Vocab*s.Hidden)
			var d2, w2 float64
			for i := range want {
				d := float64(got[i] - want[i])
				d2 += d * d
				w2 += float64(want[i]) * float64(want[i])
			}
			if rel := math.Sqrt(d2 / w2); rel > 0.15 {
				t.Fatalf("q4_0 embedding differs by %.3f relative RMS", rel)
			}
		})
	}
}
