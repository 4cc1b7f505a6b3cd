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
	q4          []int8    // [n][kp], nibble order (see nibbleOrder), empty until needed
	d4, s4      []float32 // d and s in the block order of the 4-bit kernel (see ensureQ4)
	d           []float32 // [n][units], scale of each block (0 for padding)
	// s holds the sum of the float activations of each block: the bias
	// term of an affine group is bias·Σx = Σ over its blocks bias·s.
	s []float32 // [n][units]
}

func roundUp(n, to int) int { return (n + to - 1) / to * to }

// actScratch keeps the buffers of one pool so a decode step does not
// allocate for every product.
type actScratch struct {
	a actQ
}

// reset sizes the buffers for n vectors of cols values.
func (a *actQ) reset(n, cols int) {
	kp := roundUp(cols, chunkSize)
	a.n, a.cols, a.kp, a.units = n, cols, kp, kp/unitSize
	a.q = grow(a.q, n*kp)
	a.q4 = a.q4[:0]
	a.d = grow(a.d, n*a.units)
	a.s = grow(a.s, n*a.units)
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// quantizeVecGeneric is the reference quantizer: q, d and s are padded
// ([kp], [kp/32] and [kp/32]); x has the true length.
func quantizeVecGeneric(q []int8, d, s []float32, x []float32) {
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

// nibbleOrder rearranges natural-order int8 activations for the 4-bit
// kernels. Packed 4-bit weights hold values 2b and 2b+1 in the low and
// high nibble of byte b, so 32 packed bytes (64 values, two blocks) split
// into a low-nibble vector (even values) and a high-nibble vector (odd
// values). Per 64 values the activations are stored the same way:
// [even values of block 0, even of block 1, odd of block 0, odd of block 1],
// 16 bytes each.
func nibbleOrder(dst, src []int8) {
	for c := 0; c+64 <= len(src); c += 64 {
		s := src[c : c+64]
		o := dst[c : c+64]
		for i := 0; i < 32; i++ {
			o[i] = s[2*i]
			o[32+i] = s[2*i+1]
		}
	}
}

// ensureQ4 fills a.q4 from a.q, and a.d4 and a.s4 from a.d and a.s:
// the 4-bit kernel sums blocks 0,2,4,6,1,3,5,7 of each 256 values into
// the lanes of one vector, so their scales and sums are stored in that
// order too.
func (a *actQ) ensureQ4() {
	if len(a.q4) == a.n*a.kp {
		return
	}
	a.q4 = grow(a.q4[:cap(a.q4)], a.n*a.kp)
	nibbleOrder(a.q4, a.q)
	a.d4 = grow(a.d4, len(a.d))
	a.s4 = grow(a.s4, len(a.s))
	for c := 0; c+8 <= len(a.d); c += 8 {
		for lane, u := range [8]int{0, 2, 4, 6, 1, 3, 5, 7} {
			a.d4[c+lane] = a.d[c+u]
			a.s4[c+lane] = a.s[c+u]
		}
	}
}
