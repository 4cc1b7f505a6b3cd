//go:build goexperiment.simd && amd64

package kernels

import (
	"math"
	"simd/archsimd"
	"unsafe"
)

// AVX2 versions of the element-wise operations in ops.go. Each returns
// false, doing nothing, when the CPU lacks AVX2/FMA or the shape does not
// suit it; each ends with VZEROUPPER before the scalar code that follows.

// vmath holds the constants of the vector exponential.
type vmath struct {
	log2e, nln2hi, nln2lo, one, lo, hi f32x8
	p2, p3, p4, p5, p6                 f32x8
	bias                               archsimd.Int32x8
	shift                              archsimd.Uint32x8
	swap2, swap1                       archsimd.Uint32x8
	lanes                              [16]int32
}

func (v *vmath) init() {
	v.log2e = archsimd.BroadcastFloat32x8(1.442695)
	v.nln2hi = archsimd.BroadcastFloat32x8(-0.693145751953125)
	v.nln2lo = archsimd.BroadcastFloat32x8(-1.428606765330187e-06)
	v.one = archsimd.BroadcastFloat32x8(1)
	v.lo = archsimd.BroadcastFloat32x8(-87)
	v.hi = archsimd.BroadcastFloat32x8(88)
	v.p2 = archsimd.BroadcastFloat32x8(0.16666667)
	v.p3 = archsimd.BroadcastFloat32x8(0.041666668)
	v.p4 = archsimd.BroadcastFloat32x8(0.008333334)
	v.p5 = archsimd.BroadcastFloat32x8(0.0013888889)
	v.p6 = archsimd.BroadcastFloat32x8(0.5)
	v.bias = archsimd.BroadcastInt32x8(127)
	v.shift = archsimd.BroadcastUint32x8(23)
	v.swap2 = archsimd.LoadUint32x8(&[8]uint32{2, 3, 0, 1, 6, 7, 4, 5})
	v.swap1 = archsimd.LoadUint32x8(&[8]uint32{1, 0, 3, 2, 5, 4, 7, 6})
	for i := 0; i < 8; i++ {
		v.lanes[i] = -1
	}
}

// exp is e^x for x in [-87, 88] (clamped there; below -87 the result is
// 0), within about 2e-7 relative: x = k·ln2 + r, e^r by its Taylor
// polynomial, 2^k built in the exponent bits.
func (v *vmath) exp(x f32x8) f32x8 {
	inRange := x.GreaterEqual(v.lo)
	x = x.Max(v.lo).Min(v.hi)
	k := x.Mul(v.log2e).RoundToEven()
	r := k.MulAdd(v.nln2hi, x)
	r = k.MulAdd(v.nln2lo, r)
	p := r.MulAdd(v.p5, v.p4)
	p = p.MulAdd(r, v.p3)
	p = p.MulAdd(r, v.p2)
	p = p.MulAdd(r, v.p6)
	p = p.MulAdd(r, v.one)
	p = p.MulAdd(r, v.one)
	e := k.ConvertToInt32().Add(v.bias).AsUint32x8().ShiftLeft(v.shift).AsFloat32x8()
	return p.Mul(e).Merge(archsimd.Float32x8{}, inRange)
}

// keep zeroes lanes n and above.
func (v *vmath) keep(x f32x8, n int) f32x8 {
	return x.AsInt32x8().And(archsimd.LoadInt32x8Slice(v.lanes[8-n:])).AsFloat32x8()
}

// allMax and allSum broadcast the maximum or the sum of the lanes to
// every lane.
func (v *vmath) allMax(x f32x8) f32x8 {
	x = x.Max(x.Select128FromPair(1, 0, x))
	x = x.Max(x.Permute(v.swap2))
	return x.Max(x.Permute(v.swap1))
}

func (v *vmath) allSum(x f32x8) f32x8 {
	x = x.Add(x.Select128FromPair(1, 0, x))
	x = x.Add(x.Permute(v.swap2))
	return x.Add(x.Permute(v.swap1))
}

func softmaxFast(x []float32) bool {
	if !simdOK() || len(x) == 0 {
		return false
	}
	var v vmath
	v.init()
	n := len(x)
	full := n &^ 7
	m := archsimd.BroadcastFloat32x8(float32(math.Inf(-1)))
	for i := 0; i < full; i += 8 {
		m = m.Max(archsimd.LoadFloat32x8Slice(x[i:]))
	}
	if full < n {
		t := loadPart(x[full:])
		t = t.Merge(m, archsimd.LoadInt32x8Slice(v.lanes[8-(n-full):]).ToMask())
		m = m.Max(t)
	}
	m = v.allMax(m)
	var sum f32x8
	for i := 0; i < full; i += 8 {
		e := v.exp(archsimd.LoadFloat32x8Slice(x[i:]).Sub(m))
		e.StoreSlice(x[i:])
		sum = sum.Add(e)
	}
	if full < n {
		e := v.keep(v.exp(loadPart(x[full:]).Sub(m)), n-full)
		storePart(x[full:], e)
		sum = sum.Add(e)
	}
	inv := v.one.Div(v.allSum(sum))
	for i := 0; i < full; i += 8 {
		archsimd.LoadFloat32x8Slice(x[i:]).Mul(inv).StoreSlice(x[i:])
	}
	if full < n {
		storePart(x[full:], loadPart(x[full:]).Mul(inv))
	}
	archsimd.ClearAVXUpperBits()
	return true
}

func siluMulFast(gate, up []float32) bool {
	if !simdOK() || len(gate) == 0 {
		return false
	}
	var v vmath
	v.init()
	neg := archsimd.BroadcastFloat32x8(-1)
	gatedInPlace(gate, up, func(g, u f32x8) f32x8 {
		return g.Div(v.one.Add(v.exp(g.Mul(neg)))).Mul(u)
	})
	return true
}

func geluTanhMulFast(gate, up []float32) bool {
	if !simdOK() || len(gate) == 0 {
		return false
	}
	var v vmath
	v.init()
	c2 := archsimd.BroadcastFloat32x8(2 * 0.7978845608028654) // 2·sqrt(2/pi)
	c3 := archsimd.BroadcastFloat32x8(0.044715)
	gatedInPlace(gate, up, func(x, u f32x8) f32x8 {
		// tanh(y) = 1 - 2/(e^{2y}+1); 0.5·x·(1+tanh(y)) = x - x/(e^{2y}+1)
		y2 := x.Mul(x).MulAdd(c3, v.one).Mul(x).Mul(c2)
		e := v.exp(y2)
		return x.Sub(x.Div(e.Add(v.one))).Mul(u)
	})
	return true
}

// gatedInPlace sets gate[i] = f(gate[i], up[i]) eight lanes at a time,
// the tail through a partial load and store.
func gatedInPlace(gate, up []float32, f func(g, u f32x8) f32x8) {
	up = up[:len(gate)]
	n := len(gate)
	full := n &^ 7
	for i := 0; i < full; i += 8 {
		f(archsimd.LoadFloat32x8Slice(gate[i:]), archsimd.LoadFloat32x8Slice(up[i:])).StoreSlice(gate[i:])
	}
	if full < n {
		storePart(gate[full:], f(loadPart(gate[full:]), loadPart(up[full:])))
	}
	archsimd.ClearAVXUpperBits()
}

func rmsNormFast(out, x, w []float32, eps float32, plusOne bool) bool {
	n := len(x)
	if !simdOK() || n == 0 {
		return false
	}
	// scalars into vectors first: no scalar float code after AVX
	nv := archsimd.BroadcastFloat32x8(float32(n))
	ev := archsimd.BroadcastFloat32x8(eps)
	var v vmath
	v.init()
	out, w = out[:n], w[:n]
	full := n &^ 7
	var ss f32x8
	for i := 0; i < full; i += 8 {
		t := archsimd.LoadFloat32x8Slice(x[i:])
		ss = t.MulAdd(t, ss)
	}
	if full < n {
		t := loadPart(x[full:])
		ss = t.MulAdd(t, ss)
	}
	mean := v.allSum(ss).Div(nv)
	inv := v.one.Div(mean.Add(ev).Sqrt())
	var add f32x8
	if plusOne {
		add = v.one
	}
	for i := 0; i < full; i += 8 {
		t := archsimd.LoadFloat32x8Slice(x[i:]).Mul(inv)
		t.Mul(archsimd.LoadFloat32x8Slice(w[i:]).Add(add)).StoreSlice(out[i:])
	}
	if full < n {
		t := loadPart(x[full:]).Mul(inv)
		storePart(out[full:], t.Mul(loadPart(w[full:]).Add(add)))
	}
	archsimd.ClearAVXUpperBits()
	return true
}

// dotRowsFast: head sizes that are a multiple of 8, eight keys at a
// time. The eight dot products are eight independent FMA chains over the
// head's features (each load of the query serves all eight keys), and one
// 8-way reduction turns them into eight scores: the chains hide the FMA
// latency that two interleaved keys could not (4x faster for 64-wide
// heads).
func dotRowsFast(dst, q, rows []float32, stride int, scale float32) bool {
	D := len(q)
	if !simdOK() || D%8 != 0 || D == 0 {
		return false
	}
	var accs [8]f32x8
	sc := archsimd.BroadcastFloat32x8(scale)
	n := len(dst)
	qp := unsafe.Pointer(&q[0])
	base := unsafe.Pointer(&rows[0])
	row := func(j int) unsafe.Pointer { return unsafe.Add(base, 4*j*stride) }
	for j0 := 0; j0 < n; j0 += 8 {
		nj := min(8, n-j0)
		last := j0 + nj - 1
		// Keys past the end repeat the last one (their scores are
		// dropped), so no load leaves rows; DotRows checked that the
		// last row ends inside it.
		r0, r1, r2, r3 := row(j0), row(min(j0+1, last)), row(min(j0+2, last)), row(min(j0+3, last))
		r4, r5, r6, r7 := row(min(j0+4, last)), row(min(j0+5, last)), row(min(j0+6, last)), row(min(j0+7, last))
		var a0, a1, a2, a3, a4, a5, a6, a7 f32x8
		for c := 0; c < 4*D; c += 32 {
			qv := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(qp, c)))
			a0 = qv.MulAdd(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(r0, c))), a0)
			a1 = qv.MulAdd(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(r1, c))), a1)
			a2 = qv.MulAdd(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(r2, c))), a2)
			a3 = qv.MulAdd(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(r3, c))), a3)
			a4 = qv.MulAdd(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(r4, c))), a4)
			a5 = qv.MulAdd(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(r5, c))), a5)
			a6 = qv.MulAdd(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(r6, c))), a6)
			a7 = qv.MulAdd(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(r7, c))), a7)
		}
		accs[0], accs[1], accs[2], accs[3] = a0, a1, a2, a3
		accs[4], accs[5], accs[6], accs[7] = a4, a5, a6, a7
		storeRows(dst[j0:], reduce8(&accs).Mul(sc), nj)
	}
	archsimd.ClearAVXUpperBits()
	return true
}

// addScaledRowsFast: head sizes that are a multiple of 8; 64 features at
// a time in eight independent accumulators (one FMA chain each, so the
// key loop is not bound by FMA latency), then 32 and 8 at a time.
func addScaledRowsFast(dst, w, rows []float32, stride int) bool {
	D := len(dst)
	if !simdOK() || D%8 != 0 || D == 0 {
		return false
	}
	base := unsafe.Pointer(&rows[0]) // AddScaledRows checked the last row
	for c := 0; c < D; {
		switch {
		case c+64 <= D:
			a0 := archsimd.LoadFloat32x8Slice(dst[c:])
			a1 := archsimd.LoadFloat32x8Slice(dst[c+8:])
			a2 := archsimd.LoadFloat32x8Slice(dst[c+16:])
			a3 := archsimd.LoadFloat32x8Slice(dst[c+24:])
			a4 := archsimd.LoadFloat32x8Slice(dst[c+32:])
			a5 := archsimd.LoadFloat32x8Slice(dst[c+40:])
			a6 := archsimd.LoadFloat32x8Slice(dst[c+48:])
			a7 := archsimd.LoadFloat32x8Slice(dst[c+56:])
			for j, p := range w {
				r := unsafe.Add(base, 4*(j*stride+c))
				b := archsimd.BroadcastFloat32x8(p)
				a0 = b.MulAdd(archsimd.LoadFloat32x8((*[8]float32)(r)), a0)
				a1 = b.MulAdd(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(r, 32))), a1)
				a2 = b.MulAdd(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(r, 64))), a2)
				a3 = b.MulAdd(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(r, 96))), a3)
				a4 = b.MulAdd(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(r, 128))), a4)
				a5 = b.MulAdd(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(r, 160))), a5)
				a6 = b.MulAdd(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(r, 192))), a6)
				a7 = b.MulAdd(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(r, 224))), a7)
			}
			a0.StoreSlice(dst[c:])
			a1.StoreSlice(dst[c+8:])
			a2.StoreSlice(dst[c+16:])
			a3.StoreSlice(dst[c+24:])
			a4.StoreSlice(dst[c+32:])
			a5.StoreSlice(dst[c+40:])
			a6.StoreSlice(dst[c+48:])
			a7.StoreSlice(dst[c+56:])
			c += 64
		case c+32 <= D:
			a0 := archsimd.LoadFloat32x8Slice(dst[c:])
			a1 := archsimd.LoadFloat32x8Slice(dst[c+8:])
			a2 := archsimd.LoadFloat32x8Slice(dst[c+16:])
			a3 := archsimd.LoadFloat32x8Slice(dst[c+24:])
			for j, p := range w {
				r := rows[j*stride+c : j*stride+c+32]
				b := archsimd.BroadcastFloat32x8(p)
				a0 = b.MulAdd(archsimd.LoadFloat32x8Slice(r[0:]), a0)
				a1 = b.MulAdd(archsimd.LoadFloat32x8Slice(r[8:]), a1)
				a2 = b.MulAdd(archsimd.LoadFloat32x8Slice(r[16:]), a2)
				a3 = b.MulAdd(archsimd.LoadFloat32x8Slice(r[24:]), a3)
			}
			a0.StoreSlice(dst[c:])
			a1.StoreSlice(dst[c+8:])
			a2.StoreSlice(dst[c+16:])
			a3.StoreSlice(dst[c+24:])
			c += 32
		default:
			a := archsimd.LoadFloat32x8Slice(dst[c:])
			for j, p := range w {
				a = archsimd.BroadcastFloat32x8(p).MulAdd(archsimd.LoadFloat32x8Slice(rows[j*stride+c:]), a)
			}
			a.StoreSlice(dst[c:])
			c += 8
		}
	}
	archsimd.ClearAVXUpperBits()
	return true
}
