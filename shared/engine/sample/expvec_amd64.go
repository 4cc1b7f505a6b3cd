//go:build goexperiment.simd && amd64

package sample

import (
	"math"
	"simd/archsimd"
)

// expInto sets w[i] = expf((lp[i] - shift) · scale) (scale applied when
// scaled), eight values at a time with AVX2: the same operations as expf
// in the same order, without fused multiply-adds, so every weight is
// bit-identical to the scalar one whatever the build (their sums, sum64,
// add in a build-specific order). Sampling passes over the whole
// vocabulary once or twice per token; the scalar exponential was most of
// that time.
func expInto(w, lp []float32, shift, scale float32, scaled bool) {
	n := len(lp)
	i := 0
	if archsimd.X86.AVX2() && n >= 8 {
		shiftV := archsimd.BroadcastFloat32x8(shift)
		scaleV := archsimd.BroadcastFloat32x8(scale)
		log2e := archsimd.BroadcastFloat32x8(1.442695)
		magic := archsimd.BroadcastFloat32x8(12582912.0)
		magicBits := archsimd.BroadcastInt32x8(0x4B400000)
		ln2hi := archsimd.BroadcastFloat32x8(0.693145751953125)
		ln2lo := archsimd.BroadcastFloat32x8(1.428606765330187e-06)
		c6 := archsimd.BroadcastFloat32x8(0.0013888889)
		c5 := archsimd.BroadcastFloat32x8(0.008333334)
		c4 := archsimd.BroadcastFloat32x8(0.041666668)
		c3 := archsimd.BroadcastFloat32x8(0.16666667)
		c2 := archsimd.BroadcastFloat32x8(0.5)
		one := archsimd.BroadcastFloat32x8(1)
		bias := archsimd.BroadcastInt32x8(127)
		twentyThree := archsimd.BroadcastInt32x8(23)
		lo := archsimd.BroadcastFloat32x8(-87)
		hi := archsimd.BroadcastFloat32x8(88)
		inf := archsimd.BroadcastUint32x8(math.Float32bits(float32(math.Inf(1)))).AsFloat32x8()
		var zero archsimd.Float32x8
		for ; i+8 <= n; i += 8 {
			x := archsimd.LoadFloat32x8Slice(lp[i:]).Sub(shiftV)
			if scaled {
				x = x.Mul(scaleV)
			}
			t := x.Mul(log2e).Add(magic)
			k := t.AsInt32x8().Sub(magicBits)
			kf := t.Sub(magic)
			r := x.Sub(kf.Mul(ln2hi)).Sub(kf.Mul(ln2lo))
			p := c5.Add(r.Mul(c6))
			p = c4.Add(r.Mul(p))
			p = c3.Add(r.Mul(p))
			p = c2.Add(r.Mul(p))
			p = one.Add(r.Mul(p))
			p = one.Add(r.Mul(p))
			e := p.Mul(k.Add(bias).ShiftLeft(twentyThree).AsFloat32x8())
			e = e.Merge(zero, x.GreaterEqual(lo)) // below -87 and NaN: 0
			e = inf.Merge(e, x.Greater(hi))
			e.StoreSlice(w[i:])
		}
		archsimd.ClearAVXUpperBits()
	}
	expIntoGeneric(w[i:], lp[i:], shift, scale, scaled)
}

// maxSanitized replaces NaN by -Inf and +Inf by the largest float32 in
// lp, and returns the maximum and the first index that holds it (-1 when
// every value is -Inf), as maxSanitizedGeneric does.
func maxSanitized(lp []float32) (float32, int) {
	n := len(lp)
	if !archsimd.X86.AVX2() || n < 8 {
		return maxSanitizedGeneric(lp)
	}
	big := archsimd.BroadcastFloat32x8(math.MaxFloat32)
	m := archsimd.BroadcastUint32x8(math.Float32bits(float32(math.Inf(-1)))).AsFloat32x8()
	i := 0
	for ; i+8 <= n; i += 8 {
		v := archsimd.LoadFloat32x8Slice(lp[i:])
		if v.NotEqual(v).Or(v.Greater(big)).ToBits() != 0 {
			sanitize(lp[i : i+8]) // rare: fix the values, then read them again
			v = archsimd.LoadFloat32x8Slice(lp[i:])
		}
		m = m.Max(v)
	}
	var lanes [8]float32
	m.Store(&lanes)
	archsimd.ClearAVXUpperBits()
	sanitize(lp[i:])
	maxV := lanes[0]
	for _, x := range lanes[1:] {
		maxV = max(maxV, x)
	}
	for _, x := range lp[i:] {
		maxV = max(maxV, x)
	}
	if math.IsInf(float64(maxV), -1) {
		return maxV, -1
	}
	for j, x := range lp {
		if x == maxV {
			return maxV, j
		}
	}
	return maxV, -1 // not reached
}

// subtract sets lp[i] -= c.
func subtract(lp []float32, c float32) {
	i := 0
	if archsimd.X86.AVX2() {
		cv := archsimd.BroadcastFloat32x8(c)
		for ; i+8 <= len(lp); i += 8 {
			archsimd.LoadFloat32x8Slice(lp[i:]).Sub(cv).StoreSlice(lp[i:])
		}
		archsimd.ClearAVXUpperBits()
	}
	for ; i < len(lp); i++ {
		lp[i] -= c
	}
}

// sum64 returns the sum of w in float64 (four vector accumulators).
func sum64(w []float32) float64 {
	i := 0
	var total float64
	if archsimd.X86.AVX2() && len(w) >= 16 {
		var a, b, c, d archsimd.Float64x4
		for ; i+16 <= len(w); i += 16 {
			a = a.Add(archsimd.LoadFloat32x4Slice(w[i:]).ConvertToFloat64())
			b = b.Add(archsimd.LoadFloat32x4Slice(w[i+4:]).ConvertToFloat64())
			c = c.Add(archsimd.LoadFloat32x4Slice(w[i+8:]).ConvertToFloat64())
			d = d.Add(archsimd.LoadFloat32x4Slice(w[i+12:]).ConvertToFloat64())
		}
		var lanes [4]float64
		a.Add(b).Add(c.Add(d)).Store(&lanes)
		archsimd.ClearAVXUpperBits()
		total = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
	}
	for ; i < len(w); i++ {
		total += float64(w[i])
	}
	return total
}
