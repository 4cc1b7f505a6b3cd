package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mlxk/mlxk/shared/floatx"
)

// packBits writes values as one LSB-first bit stream (the MLX layout),
// independently of elem.
func packBits(vals []uint32, bits int) []byte {
	out := make([]byte, len(vals)*bits/8)
	pos := 0
	for _, v := range vals {
		for b := 0; b < bits; b++ {
			if v>>b&1 == 1 {
				out[pos/8] |= 1 << (pos % 8)
			}
			pos++
		}
	}
	return out
}

type affineCase struct {
	m     *Matrix
	dense []float32 // the dequantized matrix, computed without the kernels
	q     []uint32  // the integer values
}

func randomAffine(t *testing.T, rng *rand.Rand, rows, cols, bits, group int, sf Format) affineCase {
	t.Helper()
	q := make([]uint32, rows*cols)
	for i := range q {
		q[i] = rng.Uint32N(1 << bits)
	}
	ng := cols / group
	es := sf.elemSize()
	scales, biases := make([]byte, rows*ng*es), make([]byte, rows*ng*es)
	s, b := make([]float32, rows*ng), make([]float32, rows*ng)
	for i := range s {
		s[i], b[i] = float32(rng.NormFloat64()*0.05), float32(rng.NormFloat64()*0.3)
		switch sf {
		case BF16:
			s[i], b[i] = floatx.RoundBF16(s[i]), floatx.RoundBF16(b[i])
			binary.LittleEndian.PutUint16(scales[2*i:], floatx.F32ToBF16(s[i]))
			binary.LittleEndian.PutUint16(biases[2*i:], floatx.F32ToBF16(b[i]))
		case F16:
			s[i], b[i] = floatx.RoundF16(s[i]), floatx.RoundF16(b[i])
			binary.LittleEndian.PutUint16(scales[2*i:], floatx.F32ToF16(s[i]))
			binary.LittleEndian.PutUint16(biases[2*i:], floatx.F32ToF16(b[i]))
		default:
			binary.LittleEndian.PutUint32(scales[4*i:], math.Float32bits(s[i]))
			binary.LittleEndian.PutUint32(biases[4*i:], math.Float32bits(b[i]))
		}
	}
	dense := make([]float32, rows*cols)
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			g := r*ng + c/group
			dense[r*cols+c] = s[g]*float32(q[r*cols+c]) + b[g]
		}
	}
	m, err := NewAffine(rows, cols, bits, group, packBits(q, bits), sf, scales, biases)
	if err != nil {
		t.Fatal(err)
	}
	return affineCase{m, dense, q}
}

func refMatMul(w []float32, rows, cols int, x []float32, n int) []float32 {
	out := make([]float32, n*rows)
	for i := 0; i < n; i++ {
		for r := 0; r < rows; r++ {
			var s float64
			for c := 0; c < cols; c++ {
				s += float64(w[r*cols+c]) * float64(x[i*cols+c])
			}
			out[i*rows+r] = float32(s)
		}
	}
	return out
}

func randVec(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

func assertClose(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	var scale float64
	for _, w := range want {
		scale = max(scale, math.Abs(float64(w)))
	}
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > tol*(1+scale) {
			t.Fatalf("%s[%d] = %g, want %g (|d| %g)", what, i, got[i], want[i], d)
		}
	}
}

// TestAffineMatMul checks the exact mode for every bit width, group size
// and scale format against a float64 product with the independently
// dequantized matrix, for a single vector (the decode kernel) and a batch
// (the prefill path).
func TestAffineMatMul(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pool := NewPoolWith(PoolOptions{Workers: 2, Exact: true})
	defer pool.Close()
	for _, bits := range []int{2, 3, 4, 5, 6, 8} {
		for _, group := range []int{32, 64, 128} {
			for _, sf := range []Format{BF16, F16, F32} {
				rows, cols := 136, 256
				c := randomAffine(t, rng, rows, cols, bits, group, sf)
				for _, n := range []int{1, 3} {
					x := randVec(rng, n*cols)
					got := make([]float32, n*rows)
					MatMul(pool, c.m, got, x, n)
					assertClose(t, c.m.Format.String(), got, refMatMul(c.dense, rows, cols, x, n), 1e-5)
				}
				row := make([]float32, cols)
				c.m.Row(row, 77)
				assertClose(t, "row", row, c.dense[77*cols:78*cols], 0)
			}
		}
	}
}

func TestDenseMatMul(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	rows, cols := 70, 96
	w := randVec(rng, rows*cols)
	for _, f := range []Format{F32, BF16, F16} {
		data := make([]byte, rows*cols*f.elemSize())
		ref := make([]float32, len(w))
		for i, v := range w {
			switch f {
			case F32:
				binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
				ref[i] = v
			case BF16:
				binary.LittleEndian.PutUint16(data[2*i:], floatx.F32ToBF16(v))
				ref[i] = floatx.RoundBF16(v)
			case F16:
				binary.LittleEndian.PutUint16(data[2*i:], floatx.F32ToF16(v))
				ref[i] = floatx.RoundF16(v)
			}
		}
		m, err := NewDense(rows, cols, f, data)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1, 5} {
			x := randVec(rng, n*cols)
			got := make([]float32, n*rows)
			MatMul(nil, m, got, x, n)
			assertClose(t, f.String(), got, refMatMul(ref, rows, cols, x, n), 1e-5)
		}
	}
}

func TestNewAffineRejectsBadShapes(t *testing.T) {
	good := func() (int, int, int, int, []byte, []byte, []byte) {
		return 4, 64, 4, 64, make([]byte, 4*64/2), make([]byte, 8), make([]byte, 8)
	}
	r, c, b, g, p, s, bi := good()
	if _, err := NewAffine(r, c, b, g, p, BF16, s, bi); err != nil {
		t.Fatalf("valid matrix rejected: %v", err)
	}
	for name, f := range map[string]func() error{
		"bits 7":      func() error { _, err := NewAffine(r, c, 7, g, p, BF16, s, bi); return err },
		"group 48":    func() error { _, err := NewAffine(r, c, b, 48, p, BF16, s, bi); return err },
		"short data":  func() error { _, err := NewAffine(r, c, b, g, p[1:], BF16, s, bi); return err },
		"short scale": func() error { _, err := NewAffine(r, c, b, g, p, BF16, s[2:], bi); return err },
		"cols % g":    func() error { _, err := NewAffine(r, 96, b, g, make([]byte, 4*48), BF16, s, bi); return err },
		"scale u32":   func() error { _, err := NewAffine(r, c, b, g, p, Affine, s, bi); return err },
	} {
		if f() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestRopeMatchesRotateHalf(t *testing.T) {
	// Rotating by θ then by -θ is the identity, and position 0 is too.
	r := &Rope{Dims: 8, InvFreq: []float64{1, 0.1, 0.01, 0.001}, PosScale: 1}
	x := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	y := append([]float32(nil), x...)
	r.Apply(y, 0)
	assertClose(t, "pos0", y, x, 1e-7)
	r.Apply(y, 5)
	if y[0] == x[0] {
		t.Fatal("rotation did nothing")
	}
	if y[8] != 9 || y[9] != 10 {
		t.Fatal("features beyond Dims changed")
	}
	neg := &Rope{Dims: 8, InvFreq: []float64{-1, -0.1, -0.01, -0.001}, PosScale: 1}
	neg.Apply(y, 5)
	assertClose(t, "inverse", y, x, 1e-6)
}
