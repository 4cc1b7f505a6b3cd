//go:build goexperiment.simd && amd64

package kernels

import (
	"runtime"
	"simd/archsimd"
	"sync"
	"unsafe"
)

// AVX2+FMA kernels (Go's experimental simd/archsimd). Rules that keep
// them fast, learnt the hard way (docs/performance.md):
//   - no scalar float arithmetic inside a vector loop: Go emits legacy-SSE
//     instructions for it, and mixing those with 256-bit AVX cost 40-60x;
//     scales are converted eight at a time, sums are reduced eight rows at
//     a time, and results leave the registers by vector stores;
//   - shifts by a vector of counts, not by an immediate;
//   - only AVX/AVX2/FMA instructions: every method used here is documented
//     "CPU Feature: AVX", "AVX2" or "FMA" (the test TestNoAVX512 checks
//     the file).

type f32x8 = archsimd.Float32x8
type i32x8 = archsimd.Int32x8

// simdOK reports whether the CPU runs the kernels of this file.
func simdOK() bool { return archsimd.X86.AVX2() && archsimd.X86.FMA() }

// simdKernels returns the AVX2 kernel set, or nil when the CPU lacks
// AVX2 or FMA.
func simdKernels() *kernelSet {
	if !simdOK() {
		return nil
	}
	panelKOnce.Do(func() {
		panelK.low4 = archsimd.BroadcastUint8x32(0x0f)
		panelK.four = archsimd.BroadcastUint32x8(4)
		panelK.sixt = archsimd.BroadcastUint32x8(16)
		panelK.ones = archsimd.BroadcastInt16x16(1)
		panelK.c128 = archsimd.BroadcastFloat32x8(128)
	})
	k := genericKernels()
	k.panel4 = panel4SIMD
	k.panel8 = panel8SIMD
	k.quantize = quantizeVecSIMD
	k.dense = denseRowsSIMD
	k.affineExact = affineExactRowsSIMD
	return k
}

// consts are the vector constants of the float kernels, built once per
// call.
type consts struct {
	sixt  archsimd.Uint32x8
	thirt archsimd.Uint32x8
	// f16 conversion
	f16mag  archsimd.Uint32x8 // 0x7fff
	f16sign archsimd.Uint32x8 // 0x8000
	f16mul  f32x8             // 2^112
	f16inf  archsimd.Int32x8  // 0x0f7fffff: above this the half was Inf/NaN
	f16exp  archsimd.Uint32x8 // 224<<23
}

// init fills the constants. Kernels declare k and their vector arrays
// before calling init: once 256-bit registers are in use, a legacy-SSE
// instruction (Go copies and zeroes small arrays with them) costs
// hundreds of cycles on the machines measured.
func (k *consts) init() {
	k.sixt = archsimd.BroadcastUint32x8(16)
	k.thirt = archsimd.BroadcastUint32x8(13)
	k.f16mag = archsimd.BroadcastUint32x8(0x7fff)
	k.f16sign = archsimd.BroadcastUint32x8(0x8000)
	k.f16mul = archsimd.BroadcastFloat32x8(0x1p112)
	k.f16inf = archsimd.BroadcastInt32x8(0x0f7fffff)
	k.f16exp = archsimd.BroadcastUint32x8(224 << 23)
}

// f16 converts 8 IEEE halves (zero-extended to 32 bits) to float32: the
// exponent and mantissa shifted into place and scaled by 2^112 give every
// finite value exactly, subnormals included; Inf and NaN get the float32
// maximum exponent instead.
func (k *consts) f16(h archsimd.Uint32x8) f32x8 {
	em := h.And(k.f16mag).ShiftLeft(k.thirt)
	sign := h.And(k.f16sign).ShiftLeft(k.sixt)
	f := em.AsFloat32x8().Mul(k.f16mul)
	special := em.AsInt32x8().Greater(k.f16inf)
	inf := em.Add(k.f16exp).AsFloat32x8()
	f = inf.Merge(f, special)
	return f.AsUint32x8().Or(sign).AsFloat32x8()
}

// reduce8 returns the lane sums of 8 vectors as one vector:
// [sum(a[0]), ..., sum(a[7])].
func reduce8(a *[8]f32x8) f32x8 {
	h01 := a[0].AddPairsGrouped(a[1])
	h23 := a[2].AddPairsGrouped(a[3])
	h45 := a[4].AddPairsGrouped(a[5])
	h67 := a[6].AddPairsGrouped(a[7])
	l := h01.AddPairsGrouped(h23) // [a0 lo, a1 lo, a2 lo, a3 lo | a0 hi, ...]
	h := h45.AddPairsGrouped(h67)
	lo := l.Select128FromPair(0, 2, h) // low halves of l and h
	hi := l.Select128FromPair(1, 3, h)
	return lo.Add(hi)
}

// storeRows writes the first n lanes of v to out (n <= 8).
func storeRows(out []float32, v f32x8, n int) {
	if n == 8 {
		v.StoreSlice(out)
		return
	}
	storePart(out[:n], v)
}

// loadPart loads len(s) < 8 floats, the other lanes zero, and storePart
// stores the first len(s) lanes. archsimd's partial loads and stores
// convert the slice to an 8-element array pointer, which the race
// detector's pointer checks reject at the end of an allocation; these
// go through a stack array with integer moves (no legacy SSE).
func loadPart(s []float32) f32x8 {
	var t [8]uint32
	for i := range s {
		t[i] = *(*uint32)(unsafe.Pointer(&s[i]))
	}
	return archsimd.LoadUint32x8(&t).AsFloat32x8()
}

func storePart(s []float32, v f32x8) {
	var t [8]uint32
	v.AsUint32x8().Store(&t)
	for i := range s {
		*(*uint32)(unsafe.Pointer(&s[i])) = t[i]
	}
}

// quantizeVecSIMD is quantizeVecGeneric with the same rounding (block
// sums are added in another order).
func quantizeVecSIMD(q []int8, d, su []float32, x []float32, pq []int8, pd, ps []float32) {
	k := quantConstsOnce()
	nu := len(x) / unitSize
	absMask := archsimd.BroadcastUint32x8(0x7fffffff)
	c127 := archsimd.BroadcastFloat32x8(127)
	zero := archsimd.Float32x8{}
	for u := 0; u < nu; u++ {
		xs := x[u*unitSize : (u+1)*unitSize]
		v0 := archsimd.LoadFloat32x8Slice(xs[0:])
		v1 := archsimd.LoadFloat32x8Slice(xs[8:])
		v2 := archsimd.LoadFloat32x8Slice(xs[16:])
		v3 := archsimd.LoadFloat32x8Slice(xs[24:])
		m := v0.AsUint32x8().And(absMask).AsFloat32x8().Max(v1.AsUint32x8().And(absMask).AsFloat32x8())
		m = m.Max(v2.AsUint32x8().And(absMask).AsFloat32x8().Max(v3.AsUint32x8().And(absMask).AsFloat32x8()))
		sum := v0.Add(v1).Add(v2.Add(v3))
		// all lanes = max, all lanes = sum
		m = m.Max(m.Select128FromPair(1, 0, m))
		sum = sum.Add(sum.Select128FromPair(1, 0, sum))
		m = m.Max(m.Permute(k.swap2))
		sum = sum.Add(sum.Permute(k.swap2))
		m = m.Max(m.Permute(k.swap1))
		sum = sum.Add(sum.Permute(k.swap1))
		nonzero := m.Greater(zero)
		dv := m.Div(c127)
		id := c127.Div(m).Merge(zero, nonzero)
		a := v0.Mul(id).RoundToEven().ConvertToInt32()
		b := v1.Mul(id).RoundToEven().ConvertToInt32()
		c := v2.Mul(id).RoundToEven().ConvertToInt32()
		e := v3.Mul(id).RoundToEven().ConvertToInt32()
		// pack 32 int32 to int8 in order: packs work within 128-bit lanes
		ab := a.SaturateToInt16ConcatGrouped(b) // [a0-3 b0-3 | a4-7 b4-7]
		ce := c.SaturateToInt16ConcatGrouped(e) // [c0-3 e0-3 | c4-7 e4-7]
		// low bytes of the int16 lanes (values fit in int8), ab's into
		// bytes 0-7 and ce's into bytes 8-15 of each 128-bit half:
		// [a0-3 b0-3 c0-3 e0-3 | a4-7 b4-7 c4-7 e4-7], then dwords reordered.
		bytes := ab.AsInt8x32().PermuteOrZeroGrouped(k.packLo).Or(ce.AsInt8x32().PermuteOrZeroGrouped(k.packHi))
		bytes = bytes.AsInt32x8().Permute(k.unpack).AsInt8x32()
		bytes.StoreSlice(q[u*unitSize:])
		storePart(d[u:u+1], dv)
		storePart(su[u:u+1], sum)
		if pq != nil { // the panel copy (see actQ); dv and sum hold one value in all lanes
			w := bytes.AsInt32x8()
			w.Select128FromPair(0, 0, w).AsInt8x32().StoreSlice(pq[u*64:])
			w.Select128FromPair(1, 1, w).AsInt8x32().StoreSlice(pq[u*64+32:])
			dv.StoreSlice(pd[u*8:])
			sum.StoreSlice(ps[u*8:])
		}
	}
	archsimd.ClearAVXUpperBits()
	clear(q[nu*unitSize:])
	clear(d[nu:])
	clear(su[nu:])
	if pq != nil {
		clear(pq[nu*64:])
		clear(pd[nu*8:])
		clear(ps[nu*8:])
	}
}

type quantConsts struct {
	swap2, swap1, unpack archsimd.Uint32x8
	packLo, packHi       archsimd.Int8x32
}

// quantConstsOnce builds the constants at first use (on a CPU that runs
// this file's kernels), not per call.
var quantConstsOnce = sync.OnceValue(newQuantConsts)

func newQuantConsts() *quantConsts {
	var lo, hi [32]int8
	for half := 0; half < 2; half++ {
		for i := 0; i < 16; i++ {
			lo[half*16+i], hi[half*16+i] = -1, -1
		}
		for i := 0; i < 8; i++ {
			lo[half*16+i] = int8(2 * i)
			hi[half*16+8+i] = int8(2 * i)
		}
	}
	return &quantConsts{
		swap2:  archsimd.LoadUint32x8(&[8]uint32{2, 3, 0, 1, 6, 7, 4, 5}),
		swap1:  archsimd.LoadUint32x8(&[8]uint32{1, 0, 3, 2, 5, 4, 7, 6}),
		unpack: archsimd.LoadUint32x8(&[8]uint32{0, 4, 1, 5, 2, 6, 3, 7}),
		packLo: archsimd.LoadInt8x32(&lo),
		packHi: archsimd.LoadInt8x32(&hi),
	}
}

// denseRowsSIMD computes out[i][r] = W[r]·x[i] for a float matrix (f32,
// bf16 or f16 rows converted eight values at a time) with columns a
// multiple of 16; other shapes take the portable kernel.
func denseRowsSIMD(m *Matrix, out, x []float32, n, lo, hi int) {
	if m.Cols%16 != 0 {
		denseRowsGeneric(m, out, x, n, lo, hi)
		return
	}
	var accs [8]f32x8
	var k consts
	k.init()
	rb := m.rowBytes()
	K := m.Cols
	for r0 := lo; r0 < hi; r0 += 8 {
		nr := min(8, hi-r0)
		for t := 0; t < n; t++ {
			xt := unsafe.Pointer(&x[t*K])
			for i := 0; i < nr; i++ {
				p := unsafe.Pointer(&m.Data[(r0+i)*rb])
				switch m.Format {
				case BF16:
					accs[i] = k.dotBF16(p, xt, K)
				case F16:
					accs[i] = k.dotF16(p, xt, K)
				default:
					accs[i] = dotF32(p, xt, K)
				}
			}
			for i := nr; i < 8; i++ {
				accs[i] = f32x8{}
			}
			storeRows(out[t*m.Rows+r0:], reduce8(&accs), nr)
		}
	}
	archsimd.ClearAVXUpperBits()
}

// dotBF16 returns the lanes of Σ w·x over K values (K a multiple of 16)
// for a bf16 row at p and float32 x.
func (k *consts) dotBF16(p, x unsafe.Pointer, K int) f32x8 {
	sixt := k.sixt
	var a, b f32x8
	for c := 0; c < K; c += 16 {
		w := archsimd.LoadUint8x32((*[32]uint8)(unsafe.Add(p, 2*c)))
		lo := w.GetLo().AsUint16x8().ExtendToUint32().ShiftLeft(sixt).AsFloat32x8()
		hi := w.GetHi().AsUint16x8().ExtendToUint32().ShiftLeft(sixt).AsFloat32x8()
		a = lo.MulAdd(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(x, 4*c))), a)
		b = hi.MulAdd(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(x, 4*c+32))), b)
	}
	return a.Add(b)
}

// dotF16 is dotBF16 for IEEE halves.
func (k *consts) dotF16(p, x unsafe.Pointer, K int) f32x8 {
	var a, b f32x8
	for c := 0; c < K; c += 16 {
		w := archsimd.LoadUint8x32((*[32]uint8)(unsafe.Add(p, 2*c)))
		lo := k.f16(w.GetLo().AsUint16x8().ExtendToUint32())
		hi := k.f16(w.GetHi().AsUint16x8().ExtendToUint32())
		a = lo.MulAdd(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(x, 4*c))), a)
		b = hi.MulAdd(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(x, 4*c+32))), b)
	}
	return a.Add(b)
}

// dotF32 is dotBF16 for float32 rows (read as bytes: rows need not be
// aligned).
func dotF32(p, x unsafe.Pointer, K int) f32x8 {
	var a, b f32x8
	for c := 0; c < K; c += 16 {
		a = archsimd.LoadUint8x32((*[32]uint8)(unsafe.Add(p, 4*c))).AsFloat32x8().MulAdd(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(x, 4*c))), a)
		b = archsimd.LoadUint8x32((*[32]uint8)(unsafe.Add(p, 4*c+32))).AsFloat32x8().MulAdd(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(x, 4*c+32))), b)
	}
	return a.Add(b)
}

// affineExactRowsSIMD dequantizes 8 rows at a time to float32 (portable
// code, any bit width) and multiplies them with every vector in float32,
// as the MLX reference computes: dequantized weights times activations.
func affineExactRowsSIMD(m *Matrix, out, x []float32, n, lo, hi int) {
	K := m.Cols
	w := make([]float32, 8*K)
	for r0 := lo; r0 < hi; r0 += 8 {
		nr := min(8, hi-r0)
		for i := 0; i < nr; i++ {
			m.Row(w[i*K:(i+1)*K], r0+i)
		}
		for t := 0; t < n; t++ {
			DotRows(out[t*m.Rows+r0:t*m.Rows+r0+nr], x[t*K:(t+1)*K], w, K, 1)
		}
	}
}

// alignVecs returns n vectors inside buf (n·32 + 32 bytes) starting at a
// 32-byte boundary. Go aligns vector arrays to 8 bytes only, and half of
// the 32-byte loads and stores of an array at 16 mod 64 cross a cache
// line, which the accumulators of the prefill kernel pay for every
// vector and step.
func alignVecs(buf []byte, n int) []f32x8 {
	off := int(-uintptr(unsafe.Pointer(&buf[0])) & 31)
	return unsafe.Slice((*f32x8)(unsafe.Pointer(&buf[off])), n)
}

// zeroVecs zeroes v with vector stores. clear, and a loop storing a
// zero literal, compile to memclr, which moves small sizes with legacy
// SSE, very slow next to 256-bit code (see consts): storing a register
// does not match that pattern.
func zeroVecs(v []f32x8) {
	var z f32x8
	z = z.AsInt32x8().Xor(z.AsInt32x8()).AsFloat32x8()
	for i := range v {
		v[i] = z
	}
}

// panelTokens is the most vectors panel4SIMD takes per pass over a
// panel: their accumulators (32 bytes each) stay in L1.
const panelTokens = 64

// panelActBytes bounds the activations of one pass (128 bytes per 32
// values in the panel copy: the values twice, their scale and sum in 8
// lanes each): they are read again for every panel, and the kernel runs
// fastest when they stay in L1. A pass then takes few vectors (6 with 896
// columns, 4 with 4864 or more) and the task's weights are read again per
// pass, from L2; a block unpacked for 4 vectors already costs little.
// Measured on 256-vector products (best of 5, one thread): 24 KB gave 43
// and 49 GMAC/s on 2048x8192 and 4864x896 matrices, 96 KB 42 and 45,
// 4 MB (one pass of 64 vectors) 30 and 44.
const panelActBytes = 24 << 10

// panel4SIMD computes out[t][r] for rows [lo,hi) (lo a multiple of 8) of
// a 4-bit matrix in panel layout and all n vectors of a (see panel.go).
// Loops, outermost first: passes over up to panelTokens vectors (all of
// the same size: 8 vectors as 4+4, not 6+2, so no pass unpacks the
// weights for only a few vectors), panels of 8 rows (panelVectors),
// groups, 32-column blocks, vectors. A block's 8 weight vectors are
// unpacked into registers once and used for every vector; per vector the
// block costs 8 in-lane shuffles (the activations' columns c..c+3 in every
// lane), 8 VPMADDUBSW whose int16 sums (at most 8·2·15·127 = 30480) add
// without overflow, one VPMADDWD to int32, and the float update
// acc += cvt(sum)·(scale·d) + bias·Σx, all in the 8 lanes of the panel's
// rows. A vector's result depends only on its own activations, in the
// same order of operations for any n: decode, batched decode and prefill
// give bit-identical products.
func panel4SIMD(m *Matrix, pn *panels, a *actQ, out []float32, n, lo, hi int) {
	if n == 1 {
		panel4One(m, pn, a, out, lo, hi)
		return
	}
	panelPasses(m, pn, a, out, n, lo, hi, false)
}

// panelPasses is the outer loops of the batched panel kernels: passes over
// the n vectors, all of the same size and at most what fits panelActBytes
// (8 vectors as 4+4, not 6+2, so no pass unpacks the weights for only a
// few vectors), then the panels of rows [lo,hi). For each it zeroes the
// pass's accumulators, has panelVectors (panelVectors8 for 8-bit panels)
// add the panel's products into them, and stores them to out. The
// accumulators live in a stack array: the vector loops are called
// directly, not through a function value, so it does not escape.
func panelPasses(m *Matrix, pn *panels, a *actQ, out []float32, n, lo, hi int, eight bool) {
	var accBuf [2*panelTokens*32 + 32]byte
	vecs := alignVecs(accBuf[:], 2*panelTokens)
	acc, half := vecs[:panelTokens], vecs[panelTokens:]
	tile := max(4, min(panelTokens, panelActBytes/(128*a.units)))
	passes := (n + tile - 1) / tile
	tile = (n + passes - 1) / passes
	for t0 := 0; t0 < n; t0 += tile {
		nt := min(tile, n-t0)
		for r0 := lo; r0 < hi; r0 += panelRows {
			zeroVecs(acc[:nt])
			if eight {
				panelVectors8(m, pn, a, acc[:nt], half[:nt], r0/panelRows, t0)
			} else {
				panelVectors(m, pn, a, acc[:nt], r0/panelRows, t0)
			}
			nr := min(panelRows, hi-r0)
			for t := 0; t < nt; t++ {
				storeRows(out[(t0+t)*m.Rows+r0:], acc[t], nr)
			}
		}
	}
	archsimd.ClearAVXUpperBits()
	runtime.KeepAlive(pn) // pn.data is unmapped once pn is unreachable
}

// panelVectors adds panel p's products with vectors t0.. of a to acc
// (one accumulator per vector). It is a function of its own so the
// register allocator sees one loop nest with few live values: inlined
// into panel4SIMD, the constants and counters of the outer loops crowded
// the vector loop, which then reloaded weights, constants and its own
// counter from the stack on every vector.
//
//go:noinline
func panelVectors(m *Matrix, pn *panels, a *actQ, acc []f32x8, p, t0 int) {
	G := m.GroupSize
	ng, bpg := m.Cols/G, G/32
	sb := pn.scaleBytes()
	tstride := a.units * 64 // bytes of pq per vector
	fstride := a.units * 32 // bytes of pd (and ps) per vector
	nt := len(acc)
	// The group's scales and biases, and the ones of VPMADDWD, in memory:
	// the vector loop loads them (see panelK).
	var cbuf [4 * 32]byte
	cst := unsafe.Pointer(&alignVecs(cbuf[:], 3)[0])
	*(*archsimd.Int16x16)(cst) = panelK.ones
	pp := unsafe.Pointer(&pn.data[p*pn.pstride])
	for g := 0; g < ng; g++ {
		gp := unsafe.Add(pp, g*pn.gstride)
		sw, bw := pn.groupScales(gp, panelK.sixt)
		*(*f32x8)(unsafe.Add(cst, 32)) = sw
		*(*f32x8)(unsafe.Add(cst, 64)) = bw
		wp := unsafe.Add(gp, 2*sb)
		for bb := 0; bb < bpg; bb++ {
			blk := g*bpg + bb
			low4, four := panelK.low4, panelK.four
			w := archsimd.LoadUint8x32((*[32]uint8)(wp))
			w0, w1 := w.And(low4), w.AsUint32x8().ShiftRight(four).AsUint8x32().And(low4)
			w = archsimd.LoadUint8x32((*[32]uint8)(unsafe.Add(wp, 32)))
			w2, w3 := w.And(low4), w.AsUint32x8().ShiftRight(four).AsUint8x32().And(low4)
			w = archsimd.LoadUint8x32((*[32]uint8)(unsafe.Add(wp, 64)))
			w4, w5 := w.And(low4), w.AsUint32x8().ShiftRight(four).AsUint8x32().And(low4)
			w = archsimd.LoadUint8x32((*[32]uint8)(unsafe.Add(wp, 96)))
			w6, w7 := w.And(low4), w.AsUint32x8().ShiftRight(four).AsUint8x32().And(low4)
			// Running pointers, so the loads take displacements; none
			// moves past its slice (the loop ends before the last step).
			xp := unsafe.Pointer(&a.pq[t0*tstride+blk*64])
			dp := unsafe.Pointer(&a.pd[(t0*a.units+blk)*8])
			sp := unsafe.Pointer(&a.ps[(t0*a.units+blk)*8])
			ap := unsafe.Pointer(&acc[0])
			for t := nt; ; {
				xa := archsimd.LoadInt32x8((*[8]int32)(xp))
				xb := archsimd.LoadInt32x8((*[8]int32)(unsafe.Add(xp, 32)))
				s01 := w0.DotProductPairsSaturated(xa.PermuteScalarsGrouped(0, 0, 0, 0).AsInt8x32()).
					Add(w1.DotProductPairsSaturated(xa.PermuteScalarsGrouped(1, 1, 1, 1).AsInt8x32()))
				s23 := w2.DotProductPairsSaturated(xa.PermuteScalarsGrouped(2, 2, 2, 2).AsInt8x32()).
					Add(w3.DotProductPairsSaturated(xa.PermuteScalarsGrouped(3, 3, 3, 3).AsInt8x32()))
				s45 := w4.DotProductPairsSaturated(xb.PermuteScalarsGrouped(0, 0, 0, 0).AsInt8x32()).
					Add(w5.DotProductPairsSaturated(xb.PermuteScalarsGrouped(1, 1, 1, 1).AsInt8x32()))
				s67 := w6.DotProductPairsSaturated(xb.PermuteScalarsGrouped(2, 2, 2, 2).AsInt8x32()).
					Add(w7.DotProductPairsSaturated(xb.PermuteScalarsGrouped(3, 3, 3, 3).AsInt8x32()))
				s := s01.Add(s23).Add(s45.Add(s67)).DotProductPairs(*(*archsimd.Int16x16)(cst))
				d := archsimd.LoadFloat32x8((*[8]float32)(dp))
				u := archsimd.LoadFloat32x8((*[8]float32)(sp))
				sw := *(*f32x8)(unsafe.Add(cst, 32))
				bw := *(*f32x8)(unsafe.Add(cst, 64))
				av := (*f32x8)(ap)
				*av = bw.MulAdd(u, s.ConvertToFloat32().MulAdd(sw.Mul(d), *av))
				if t--; t == 0 {
					break
				}
				xp = unsafe.Add(xp, tstride)
				dp = unsafe.Add(dp, fstride)
				sp = unsafe.Add(sp, fstride)
				ap = unsafe.Add(ap, 32)
			}
			wp = unsafe.Add(wp, 128)
		}
	}
}

// panel8SIMD is panel4SIMD for 8-bit weights in panel layout (see
// packBlocks8). A weight byte q is stored as the signed q-128: VPMADDUBSW
// takes |q-128| against the activation with q-128's sign (VPSIGNB), whose
// pair sums (at most 2·128·127) fit int16 but two of them do not, so each
// goes to int32 at once (VPMADDWD). The 128·Σx this leaves out joins the
// bias term: acc += cvt(sum)·(scale·d) + (bias + 128·scale)·Σx. A block's
// 16 weight vectors (|q| and q for 8 column groups) do not fit the
// registers with the loop's temporaries, so the vector loop runs twice per
// block, over columns 0-15 and 16-31, the first leaving its int32 sums in
// a scratch. Decode (panel8One) does the same operations in the same
// order: results are bit-identical for any number of vectors.
func panel8SIMD(m *Matrix, pn *panels, a *actQ, out []float32, n, lo, hi int) {
	if n == 1 {
		panel8One(m, pn, a, out, lo, hi)
		return
	}
	panelPasses(m, pn, a, out, n, lo, hi, true)
}

// panelVectors8 is panelVectors for 8-bit panels; half holds each
// vector's int32 sums of a block's first 16 columns.
//
//go:noinline
func panelVectors8(m *Matrix, pn *panels, a *actQ, acc, half []f32x8, p, t0 int) {
	G := m.GroupSize
	ng, bpg := m.Cols/G, G/32
	sb := pn.scaleBytes()
	tstride := a.units * 64 // bytes of pq per vector
	fstride := a.units * 32 // bytes of pd (and ps) per vector
	nt := len(acc)
	pp := unsafe.Pointer(&pn.data[p*pn.pstride])
	for g := 0; g < ng; g++ {
		gp := unsafe.Add(pp, g*pn.gstride)
		sw, bw := pn.groupScales(gp, panelK.sixt)
		bw = sw.MulAdd(panelK.c128, bw) // the 128 of q-128
		wp := unsafe.Add(gp, 2*sb)
		for bb := 0; bb < bpg; bb++ {
			blk := g*bpg + bb
			for h := 0; h < 2; h++ {
				hp := unsafe.Add(wp, 128*h)
				s0 := archsimd.LoadInt8x32((*[32]int8)(hp))
				s1 := archsimd.LoadInt8x32((*[32]int8)(unsafe.Add(hp, 32)))
				s2 := archsimd.LoadInt8x32((*[32]int8)(unsafe.Add(hp, 64)))
				s3 := archsimd.LoadInt8x32((*[32]int8)(unsafe.Add(hp, 96)))
				a0, a1, a2, a3 := s0.Abs().AsUint8x32(), s1.Abs().AsUint8x32(), s2.Abs().AsUint8x32(), s3.Abs().AsUint8x32()
				xp := unsafe.Pointer(&a.pq[t0*tstride+blk*64+32*h])
				dp := unsafe.Pointer(&a.pd[(t0*a.units+blk)*8])
				sp := unsafe.Pointer(&a.ps[(t0*a.units+blk)*8])
				ap, hpp := unsafe.Pointer(&acc[0]), unsafe.Pointer(&half[0])
				for t := nt; ; {
					ones := panelK.ones
					x := archsimd.LoadInt32x8((*[8]int32)(xp))
					v0 := a0.DotProductPairsSaturated(x.PermuteScalarsGrouped(0, 0, 0, 0).AsInt8x32().CopySign(s0)).DotProductPairs(ones)
					v1 := a1.DotProductPairsSaturated(x.PermuteScalarsGrouped(1, 1, 1, 1).AsInt8x32().CopySign(s1)).DotProductPairs(ones)
					v2 := a2.DotProductPairsSaturated(x.PermuteScalarsGrouped(2, 2, 2, 2).AsInt8x32().CopySign(s2)).DotProductPairs(ones)
					v3 := a3.DotProductPairsSaturated(x.PermuteScalarsGrouped(3, 3, 3, 3).AsInt8x32().CopySign(s3)).DotProductPairs(ones)
					sum := v0.Add(v1).Add(v2.Add(v3))
					hv := (*archsimd.Int32x8)(hpp)
					if h == 0 {
						*hv = sum
					} else {
						s := hv.Add(sum)
						d := archsimd.LoadFloat32x8((*[8]float32)(dp))
						u := archsimd.LoadFloat32x8((*[8]float32)(sp))
						av := (*f32x8)(ap)
						*av = bw.MulAdd(u, s.ConvertToFloat32().MulAdd(sw.Mul(d), *av))
					}
					if t--; t == 0 {
						break
					}
					xp = unsafe.Add(xp, tstride)
					dp = unsafe.Add(dp, fstride)
					sp = unsafe.Add(sp, fstride)
					ap = unsafe.Add(ap, 32)
					hpp = unsafe.Add(hpp, 32)
				}
			}
			wp = unsafe.Add(wp, 256)
		}
	}
}

// panel8One is panel8SIMD for one vector, with the same operations in the
// same order per block.
func panel8One(m *Matrix, pn *panels, a *actQ, out []float32, lo, hi int) {
	G := m.GroupSize
	ng, bpg := m.Cols/G, G/32
	sb := pn.scaleBytes()
	ones := panelK.ones
	xq := unsafe.Pointer(&a.pq[0])
	xd := unsafe.Pointer(&a.pd[0])
	xs := unsafe.Pointer(&a.ps[0])
	for r0 := lo; r0 < hi; r0 += panelRows {
		var acc f32x8
		acc = acc.AsInt32x8().Xor(acc.AsInt32x8()).AsFloat32x8() // a register, not a zeroed stack slot
		pp := unsafe.Pointer(&pn.data[r0/panelRows*pn.pstride])
		for g := 0; g < ng; g++ {
			gp := unsafe.Add(pp, g*pn.gstride)
			sw, bw := pn.groupScales(gp, panelK.sixt)
			bw = sw.MulAdd(panelK.c128, bw)
			wp := unsafe.Add(gp, 2*sb)
			for bb := 0; bb < bpg; bb++ {
				blk := g*bpg + bb
				var sums [2]archsimd.Int32x8
				for h := 0; h < 2; h++ {
					hp := unsafe.Add(wp, 128*h)
					x := archsimd.LoadInt32x8((*[8]int32)(unsafe.Add(xq, blk*64+32*h)))
					w := func(k int) archsimd.Int32x8 {
						s := archsimd.LoadInt8x32((*[32]int8)(unsafe.Add(hp, 32*k)))
						var xb archsimd.Int32x8
						switch k {
						case 0:
							xb = x.PermuteScalarsGrouped(0, 0, 0, 0)
						case 1:
							xb = x.PermuteScalarsGrouped(1, 1, 1, 1)
						case 2:
							xb = x.PermuteScalarsGrouped(2, 2, 2, 2)
						default:
							xb = x.PermuteScalarsGrouped(3, 3, 3, 3)
						}
						return s.Abs().AsUint8x32().DotProductPairsSaturated(xb.AsInt8x32().CopySign(s)).DotProductPairs(ones)
					}
					sums[h] = w(0).Add(w(1)).Add(w(2).Add(w(3)))
				}
				s := sums[0].Add(sums[1])
				d := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(xd, blk*32)))
				u := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(xs, blk*32)))
				acc = bw.MulAdd(u, s.ConvertToFloat32().MulAdd(sw.Mul(d), acc))
				wp = unsafe.Add(wp, 256)
			}
		}
		storeRows(out[r0:], acc, min(panelRows, hi-r0))
	}
	archsimd.ClearAVXUpperBits()
	runtime.KeepAlive(pn)
}

// panelK holds the panel kernels' constants in memory, where the loops
// load them: built once in registers they stayed live across the loops
// and the register allocator spilled them.
var panelKOnce sync.Once

var panelK struct {
	low4       archsimd.Uint8x32
	four, sixt archsimd.Uint32x8
	ones       archsimd.Int16x16
	c128       f32x8
}

// groupScales loads the 8 scales and 8 biases at the start of a panel
// group (gp) as float32; sixt holds the shift counts 16 (bf16 to float32).
func (pn *panels) groupScales(gp unsafe.Pointer, sixt archsimd.Uint32x8) (sw, bw f32x8) {
	sb := pn.scaleBytes()
	if pn.f32 {
		return archsimd.LoadUint8x32((*[32]uint8)(gp)).AsFloat32x8(),
			archsimd.LoadUint8x32((*[32]uint8)(unsafe.Add(gp, sb))).AsFloat32x8()
	}
	return archsimd.LoadUint8x16((*[16]uint8)(gp)).AsUint16x8().ExtendToUint32().ShiftLeft(sixt).AsFloat32x8(),
		archsimd.LoadUint8x16((*[16]uint8)(unsafe.Add(gp, sb))).AsUint16x8().ExtendToUint32().ShiftLeft(sixt).AsFloat32x8()
}

// panel4One is panel4SIMD for one vector (a decode step): the panel's
// accumulator stays in a register across its blocks instead of going
// through memory, where the store and reload sat on the chain of
// dependent FMAs from one block to the next. The operations and their
// order per block are those of panel4SIMD, so results are bit-identical.
func panel4One(m *Matrix, pn *panels, a *actQ, out []float32, lo, hi int) {
	G := m.GroupSize
	ng, bpg := m.Cols/G, G/32
	sb := pn.scaleBytes()
	low4 := archsimd.BroadcastUint8x32(0x0f)
	four := archsimd.BroadcastUint32x8(4)
	sixt := archsimd.BroadcastUint32x8(16)
	ones := archsimd.BroadcastInt16x16(1)
	xq := unsafe.Pointer(&a.pq[0])
	xd := unsafe.Pointer(&a.pd[0])
	xs := unsafe.Pointer(&a.ps[0])
	for r0 := lo; r0 < hi; r0 += panelRows {
		var acc f32x8
		acc = acc.AsInt32x8().Xor(acc.AsInt32x8()).AsFloat32x8() // a register, not a zeroed stack slot
		pp := unsafe.Pointer(&pn.data[r0/panelRows*pn.pstride])
		for g := 0; g < ng; g++ {
			gp := unsafe.Add(pp, g*pn.gstride)
			sw, bw := pn.groupScales(gp, sixt)
			wp := unsafe.Add(gp, 2*sb)
			for bb := 0; bb < bpg; bb++ {
				blk := g*bpg + bb
				xp := unsafe.Add(xq, blk*64)
				xa := archsimd.LoadInt32x8((*[8]int32)(xp))
				xb := archsimd.LoadInt32x8((*[8]int32)(unsafe.Add(xp, 32)))
				w := archsimd.LoadUint8x32((*[32]uint8)(wp))
				s01 := w.And(low4).DotProductPairsSaturated(xa.PermuteScalarsGrouped(0, 0, 0, 0).AsInt8x32()).
					Add(w.AsUint32x8().ShiftRight(four).AsUint8x32().And(low4).DotProductPairsSaturated(xa.PermuteScalarsGrouped(1, 1, 1, 1).AsInt8x32()))
				w = archsimd.LoadUint8x32((*[32]uint8)(unsafe.Add(wp, 32)))
				s23 := w.And(low4).DotProductPairsSaturated(xa.PermuteScalarsGrouped(2, 2, 2, 2).AsInt8x32()).
					Add(w.AsUint32x8().ShiftRight(four).AsUint8x32().And(low4).DotProductPairsSaturated(xa.PermuteScalarsGrouped(3, 3, 3, 3).AsInt8x32()))
				w = archsimd.LoadUint8x32((*[32]uint8)(unsafe.Add(wp, 64)))
				s45 := w.And(low4).DotProductPairsSaturated(xb.PermuteScalarsGrouped(0, 0, 0, 0).AsInt8x32()).
					Add(w.AsUint32x8().ShiftRight(four).AsUint8x32().And(low4).DotProductPairsSaturated(xb.PermuteScalarsGrouped(1, 1, 1, 1).AsInt8x32()))
				w = archsimd.LoadUint8x32((*[32]uint8)(unsafe.Add(wp, 96)))
				s67 := w.And(low4).DotProductPairsSaturated(xb.PermuteScalarsGrouped(2, 2, 2, 2).AsInt8x32()).
					Add(w.AsUint32x8().ShiftRight(four).AsUint8x32().And(low4).DotProductPairsSaturated(xb.PermuteScalarsGrouped(3, 3, 3, 3).AsInt8x32()))
				s := s01.Add(s23).Add(s45.Add(s67)).DotProductPairs(ones)
				d := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(xd, blk*32)))
				u := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(xs, blk*32)))
				acc = bw.MulAdd(u, s.ConvertToFloat32().MulAdd(sw.Mul(d), acc))
				wp = unsafe.Add(wp, 128)
			}
		}
		storeRows(out[r0:], acc, min(panelRows, hi-r0))
	}
	archsimd.ClearAVXUpperBits()
	runtime.KeepAlive(pn)
}
