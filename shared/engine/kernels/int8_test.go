package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// quantRef is the float64 product of the dequantized weights with the
// int8-dequantized activations, computed the way the int8 path defines
// it: Σ_g s_g·Σ_k q_k·x̂_k + b_g·Σ_k x_k, where x̂ = d·q per block of 32
// and the bias term uses the float activations (for 8 bits, q-128 and
// b+128·s).
func quantRef(t *testing.T, c affineCase, x []float32, n int) []float32 {
	t.Helper()
	m := c.m
	xq := make([]float32, len(x))
	for i := 0; i < n; i++ {
		xs := x[i*m.Cols : (i+1)*m.Cols]
		q := make([]int8, roundUp(m.Cols, chunkSize))
		d := make([]float32, len(q)/unitSize)
		quantizeVecGeneric(q, d, make([]float32, len(d)), xs, nil, nil, nil)
		for k := range xs {
			xq[i*m.Cols+k] = float32(q[k]) * d[k/unitSize]
		}
	}
	ng := m.Cols / m.GroupSize
	out := make([]float32, n*m.Rows)
	// 8-bit values are used as q-128 against the quantized activations,
	// and the 128·Σx they leave out goes through the float sum.
	off := 0.0
	if m.Bits == 8 {
		off = 128
	}
	for i := 0; i < n; i++ {
		for r := 0; r < m.Rows; r++ {
			var s float64
			for g := 0; g < ng; g++ {
				sc := float64(m.scaleAt(m.Scales, r*ng+g))
				bi := float64(m.scaleAt(m.Biases, r*ng+g))
				var qx, xs float64
				for k := g * m.GroupSize; k < (g+1)*m.GroupSize; k++ {
					qx += (float64(c.q[r*m.Cols+k]) - off) * float64(xq[i*m.Cols+k])
					xs += float64(x[i*m.Cols+k])
				}
				s += sc*qx + (bi+off*sc)*xs
			}
			out[i*m.Rows+r] = float32(s)
		}
	}
	return out
}

// TestInt8MatMul checks the fast path (4- and 8-bit weights, int8
// activations) for every group size and scale format, on shapes with
// row and column tails, against the float64 reference of what it
// computes, and against the exact product within the expected
// quantization error.
func TestInt8MatMul(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	pool := NewPool(2)
	defer pool.Close()
	for _, bits := range []int{4, 8} {
		for _, group := range []int{32, 64, 128} {
			for _, sf := range []Format{BF16, F16, F32} {
				for _, shape := range [][2]int{{13, 384}, {64, 896}, {136, 256}, {9, 128}} {
					rows, cols := shape[0], shape[1]
					if cols%group != 0 {
						continue
					}
					c := randomAffine(t, rng, rows, cols, bits, group, sf)
					for _, n := range []int{1, 3} {
						x := randVec(rng, n*cols)
						got := make([]float32, n*rows)
						MatMul(pool, c.m, got, x, n)
						what := fmt.Sprintf("int8 path %d-bit g%d %v [%d %d] n=%d", bits, group, sf, rows, cols, n)
						assertClose(t, what, got, quantRef(t, c, x, n), 2e-5)
						assertRelErr(t, got, refMatMul(c.dense, rows, cols, x, n), 0.02)
					}
				}
			}
		}
	}
}

// assertRelErr checks the RMS difference relative to the RMS of want.
func assertRelErr(t *testing.T, got, want []float32, tol float64) {
	t.Helper()
	var d2, w2 float64
	for i := range want {
		d := float64(got[i] - want[i])
		d2 += d * d
		w2 += float64(want[i]) * float64(want[i])
	}
	if rel := math.Sqrt(d2 / w2); rel > tol {
		t.Fatalf("relative RMS error %.3g > %.3g", rel, tol)
	}
}

// TestKernelsAgree runs the best kernels (SIMD where the build and the CPU
// have them) and the portable ones on the same inputs, for random shapes
// with tails in rows and columns. In a build without SIMD both sides are
// the portable kernels and the test checks them against each other only;
// TestInt8MatMul and TestAffineMatMul check them against references.
func TestKernelsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for range 60 {
		checkAgree(t, rng, randomShape(rng))
	}
}

type shape struct {
	rows, cols, bits, group, n int
	sf                         Format
}

func randomShape(rng *rand.Rand) shape {
	group := []int{32, 64, 128}[rng.IntN(3)]
	return shape{
		rows:  1 + rng.IntN(40),
		cols:  group * (1 + rng.IntN(12)),
		bits:  []int{4, 8}[rng.IntN(2)],
		group: group,
		n:     1 + rng.IntN(3) + rng.IntN(2)*rng.IntN(100),
		sf:    []Format{BF16, F16, F32}[rng.IntN(3)],
	}
}

func checkAgree(t *testing.T, rng *rand.Rand, s shape) {
	t.Helper()
	c := randomAffine(t, rng, s.rows, s.cols, s.bits, s.group, s.sf)
	x := randVec(rng, s.n*s.cols)
	best, gen := bestKernels(), genericKernels()

	// The quantizers agree bit for bit (the block sums to rounding), the
	// panel copies too.
	a, b := new(actQ), new(actQ)
	a.reset(s.n, s.cols, true)
	b.reset(s.n, s.cols, true)
	for i := 0; i < s.n; i++ {
		xs := x[i*s.cols : (i+1)*s.cols]
		a.quantizeInto(best, i, xs)
		b.quantizeInto(gen, i, xs)
	}
	if !slices.Equal(a.q, b.q) || !slices.Equal(a.d, b.d) || !slices.Equal(a.pq, b.pq) || !slices.Equal(a.pd, b.pd) {
		t.Fatalf("%+v: quantizers differ", s)
	}
	assertClose(t, "block sums", a.s, b.s, 1e-6)
	assertClose(t, "panel block sums", a.ps, b.ps, 1e-6)
	// The portable row kernel (the only one: SIMD builds multiply through
	// the panels, checked below) over two row ranges, the first not a
	// multiple of 8 rows, against one range, and on the SIMD quantizer's
	// activations against the portable one's.
	kg := gen.affine4
	if s.bits == 8 {
		kg = gen.affine8
	}
	for i := 0; i < s.n; i++ {
		got := make([]float32, s.rows)
		want := make([]float32, s.rows)
		mid := s.rows / 3
		kg(c.m, a, i, got, 0, mid)
		kg(c.m, a, i, got, mid, s.rows)
		kg(c.m, b, i, want, 0, s.rows)
		assertClose(t, "int8 row kernel", got, want, 1e-5)
	}
	if best.panel4 != nil {
		pn := c.m.ensurePacked(nil)
		got, want := make([]float32, s.n*s.rows), make([]float32, s.n*s.rows)
		mid := s.rows / 3 / panelRows * panelRows
		panel := best.panel4
		if s.bits == 8 {
			panel = best.panel8
		}
		panel(c.m, pn, a, got, s.n, 0, mid)
		panel(c.m, pn, a, got, s.n, mid, s.rows)
		for i := 0; i < s.n; i++ {
			kg(c.m, b, i, want[i*s.rows:(i+1)*s.rows], 0, s.rows)
		}
		assertClose(t, "panel kernel", got, want, 1e-5)
	}
	outB, outG := make([]float32, s.n*s.rows), make([]float32, s.n*s.rows)
	best.affineExact(c.m, outB, x, s.n, 0, s.rows)
	gen.affineExact(c.m, outG, x, s.n, 0, s.rows)
	assertClose(t, "exact kernels", outB, outG, 1e-5)
}

// FuzzKernelsAgree explores shapes and values: the seed picks the random
// weights and activations, the other bytes the shape.
func FuzzKernelsAgree(f *testing.F) {
	f.Add(uint64(1), uint8(3), uint8(5), uint8(0), uint8(1), uint8(2))
	f.Add(uint64(2), uint8(40), uint8(14), uint8(1), uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, seed uint64, rows, groups, gsel, bsel, n uint8) {
		group := []int{32, 64, 128}[int(gsel)%3]
		s := shape{
			rows:  1 + int(rows)%64,
			cols:  group * (1 + int(groups)%16),
			bits:  []int{4, 8}[int(bsel)%2],
			group: group,
			n:     1 + int(n)%3,
			sf:    []Format{BF16, F16, F32}[int(seed>>8)%3],
		}
		checkAgree(t, rand.New(rand.NewPCG(seed, 9)), s)
	})
}

// TestQuantizeEdgeCases: zero blocks, tiny and huge magnitudes, and the
// round-half-to-even ties all agree between the quantizers.
func TestQuantizeEdgeCases(t *testing.T) {
	x := make([]float32, 256)
	for i := range x {
		switch {
		case i < 32: // a zero block
		case i < 64:
			x[i] = float32(i-48) * 1e-30
		case i < 96:
			x[i] = float32(i-80) * 1e30
		case i < 128:
			x[i] = float32(i-112) * 127 / 15 / 2 // ties: halves of the step
		default:
			x[i] = float32(math.Sin(float64(i)))
		}
	}
	best, gen := bestKernels(), genericKernels()
	q1, q2 := make([]int8, 256), make([]int8, 256)
	d1, d2 := make([]float32, 8), make([]float32, 8)
	best.quantize(q1, d1, make([]float32, 8), x, nil, nil, nil)
	gen.quantize(q2, d2, make([]float32, 8), x, nil, nil, nil)
	if !slices.Equal(q1, q2) || !slices.Equal(d1, d2) {
		t.Fatalf("quantizers differ:\n%v %v\n%v %v", q1, d1, q2, d2)
	}
	if d1[0] != 0 || slices.ContainsFunc(q1[:32], func(v int8) bool { return v != 0 }) {
		t.Fatal("zero block not zero")
	}
}

// TestBatchInvariance: a vector's product is bit-identical alone (the
// decode kernel) and in a batch (the prefill kernel, other vectors
// around it), in both modes; a server batching requests relies on it.
func TestBatchInvariance(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, exact := range []bool{false, true} {
		pool := NewPoolWith(PoolOptions{Workers: 2, Exact: exact})
		for _, bits := range []int{4, 8, 3} {
			for _, shape := range [][2]int{{77, 896}, {40, 320}, {9, 64}} {
				rows, cols := shape[0], shape[1]
				c := randomAffine(t, rng, rows, cols, bits, 64, BF16)
				const n = 70 // more than one token block of the prefill kernel
				x := randVec(rng, n*cols)
				batch := make([]float32, n*rows)
				MatMul(pool, c.m, batch, x, n)
				for i := 0; i < n; i += 13 {
					one := make([]float32, rows)
					MatMul(pool, c.m, one, x[i*cols:(i+1)*cols], 1)
					if !slices.Equal(one, batch[i*rows:(i+1)*rows]) {
						t.Fatalf("exact=%v %d-bit [%d %d]: vector %d differs alone and in a batch", exact, bits, rows, cols, i)
					}
				}
			}
		}
		pool.Close()
	}
}
