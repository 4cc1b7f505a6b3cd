package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The exported operations (SIMD where available) against the portable
// versions, on lengths with and without a tail of 8.
func TestOpsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{1, 7, 8, 9, 64, 100, 896, 4867} {
		x := randVec(rng, n)
		for i := range x {
			x[i] *= 4
		}
		x[0] = 30 // big values: exp range
		if n > 2 {
			x[1] = -30
		}
		w := randVec(rng, n)

		a, b := clone(x), clone(x)
		Softmax(a)
		softmaxGeneric(b)
		assertClose(t, "softmax", a, b, 1e-6)

		for _, plus := range []bool{false, true} {
			a, b = make([]float32, n), make([]float32, n)
			RMSNorm(a, x, w, 1e-6, plus)
			rmsNormGeneric(b, x, w, 1e-6, plus)
			assertClose(t, "rmsnorm", a, b, 2e-6)
		}

		a, b = clone(x), clone(x)
		SiLUMul(a, w)
		siluMulGeneric(b, w)
		assertClose(t, "silu", a, b, 2e-6)

		a, b = clone(x), clone(x)
		GeluTanhMul(a, w)
		geluTanhMulGeneric(b, w)
		assertClose(t, "gelu", a, b, 2e-6)
	}
}

func TestSoftmaxExtremes(t *testing.T) {
	x := []float32{0, -100, -1000, 5, float32(math.Inf(-1)), 5, -87.5, 88}
	Softmax(x)
	var s float64
	for _, v := range x {
		if v < 0 || math.IsNaN(float64(v)) {
			t.Fatalf("softmax gave %v", x)
		}
		s += float64(v)
	}
	if math.Abs(s-1) > 1e-6 || x[4] != 0 || x[2] != 0 {
		t.Fatalf("softmax %v (sum %v)", x, s)
	}
}

func TestAttentionRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, D := range []int{8, 16, 64, 80, 128, 12} {
		for _, n := range []int{1, 5, 8, 17, 300} {
			stride := 3*D + 4
			rows := randVec(rng, n*stride)
			q := randVec(rng, D)
			a, b := make([]float32, n), make([]float32, n)
			DotRows(a, q, rows, stride, 0.125)
			dotRowsGeneric(b, q, rows, stride, 0.125)
			assertClose(t, "dotrows", a, b, 1e-6)

			w := randVec(rng, n)
			d1, d2 := randVec(rng, D), make([]float32, D)
			copy(d2, d1)
			AddScaledRows(d1, w, rows, stride)
			addScaledRowsGeneric(d2, w, rows, stride)
			assertClose(t, "addscaled", d1, d2, 1e-6)
		}
	}
}

func TestRopeHeads(t *testing.T) {
	r := &Rope{Dims: 8, InvFreq: []float64{1, 0.1, 0.01, 0.001}, PosScale: 1, MScale: 1.5}
	x := randVec(rand.New(rand.NewPCG(1, 1)), 3*10)
	y := clone(x)
	r.ApplyHeads(x, 3, 10, 7)
	for h := 0; h < 3; h++ {
		r.Apply(y[h*10:h*10+10], 7)
	}
	assertClose(t, "rope heads", x, y, 0)
}

func clone(x []float32) []float32 { return append([]float32(nil), x...) }
