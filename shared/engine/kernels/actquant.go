package kernels

import "math"

// Activations for products with quantized weights are quantized to int8
// in blocks of unitSize values, each with its own float32 scale, as
// llama.cpp's q8_0 does; the weights' integers then multiply the
// activations' integers, and floats appear once per block. Every MLX group
// size (32, 64, 128) is a multiple of the block, so a block never spans
// two weight groups.
const (
	unitSize  = 32
	chunkSize = 256 // values per step of the kernels: 8 units
)

// actQ holds n activation vectors of cols values quantized to int8.
// Vectors are padded with zeros to kp, a multiple of chunkSize, so the
// kernels never need a partial step on the activation side.
type actQ struct {
	n, cols, kp int
	units       int       // kp / unitSize
	q           []int8    // [n][kp], natural order
	d           []float32 // [n][units], scale of each block (0 for padding)
	// s holds the sum of the float activations of each block: the bias
	// term of an affine group is bias·Σx = Σ over its blocks bias·s.
	s []float32 // [n][units]

	// The panel kernel's copy (see panel.go), filled when panel is set:
	// per block the 32 values as two vectors [0..15 | 0..15] and
	// [16..31 | 16..31], so one in-lane shuffle broadcasts any 4 of them
	// to all 8 lanes, and the block's scale and sum in all 8 lanes, so
	// the kernel loads them as vectors.
	panel  bool
	pq     []int8    // [n][units*64]
	pd, ps []float32 // [n][units*8]
}

func roundUp(n, to int) int { return (n + to - 1) / to * to }

// actScratch keeps the buffers of one pool so a decode step does not
// allocate for every product.
type actScratch struct {
	a     actQ
	tasks []task
}

// reset sizes the buffers for n vectors of cols values, with the panel
// kernel's copy or without.
func (a *actQ) reset(n, cols int, panel bool) {
	kp := roundUp(cols, chunkSize)
	a.n, a.cols, a.kp, a.units = n, cols, kp, kp/unitSize
	a.q = grow(a.q, n*kp)
	a.d = grow(a.d, n*a.units)
	a.s = grow(a.s, n*a.units)
	a.panel = panel
	if panel {
		a.pq = grow(a.pq, n*a.units*64)
		a.pd = grow(a.pd, n*a.units*8)
		a.ps = grow(a.ps, n*a.units*8)
	}
}

// quantizeInto quantizes vector t of x (cols values) with quantize,
// writing the panel copy too when a has one.
func (a *actQ) quantizeInto(k *kernelSet, t int, x []float32) {
	q, d, s := a.q[t*a.kp:(t+1)*a.kp], a.d[t*a.units:(t+1)*a.units], a.s[t*a.units:(t+1)*a.units]
	if !a.panel {
		k.quantize(q, d, s, x, nil, nil, nil)
		return
	}
	pu := a.units
	k.quantize(q, d, s, x, a.pq[t*pu*64:(t+1)*pu*64], a.pd[t*pu*8:(t+1)*pu*8], a.ps[t*pu*8:(t+1)*pu*8])
}

// panelCopyGeneric fills the panel copy (pq, pd, ps: see actQ) of one
// vector from its natural-order blocks.
func panelCopyGeneric(pq []int8, pd, ps []float32, q []int8, d, s []float32) {
	for u := range d {
		b := q[u*unitSize : (u+1)*unitSize]
		o := pq[u*64 : (u+1)*64]
		copy(o[0:16], b[0:16])
		copy(o[16:32], b[0:16])
		copy(o[32:48], b[16:32])
		copy(o[48:64], b[16:32])
		for l := 0; l < 8; l++ {
			pd[u*8+l] = d[u]
			ps[u*8+l] = s[u]
		}
	}
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// quantizeVecGeneric is the reference quantizer: q, d and s are padded
// ([kp], [kp/32] and [kp/32]); x has the true length. With pq set it
// writes the panel copy too (see actQ).
func quantizeVecGeneric(q []int8, d, s []float32, x []float32, pq []int8, pd, ps []float32) {
	quantizeBlocksGeneric(q, d, s, x)
	if pq != nil {
		panelCopyGeneric(pq, pd, ps, q, d, s)
	}
}

func quantizeBlocksGeneric(q []int8, d, s []float32, x []float32) {
	nu := len(x) / unitSize
	for u := 0; u < nu; u++ {
		xs := x[u*unitSize : (u+1)*unitSize]
		var amax float32
		for _, v := range xs {
			amax = max(amax, float32(math.Abs(float64(v))))
		}
		s[u] = sumGeneric(xs)
		qs := q[u*unitSize : (u+1)*unitSize]
		if amax == 0 {
			d[u] = 0
			clear(qs)
			continue
		}
		d[u] = amax / 127
		id := 127 / amax
		for i, v := range xs {
			qs[i] = int8(math.RoundToEven(float64(v * id)))
		}
	}
	clear(q[nu*unitSize:])
	clear(d[nu:])
	clear(s[nu:])
}
