package sample

import "math"

// expf is a float32 exponential for x <= ~88, within about 3e-7 relative
// error of exp; math.Exp (float64) costs about twice as much, and one
// token needs up to three exponentials per vocabulary entry. Arguments
// below -87 (results under float32's smallest normal) give 0.
func expf(x float32) float32 {
	if !(x >= -87) { // also catches -Inf
		return 0
	}
	if x > 88 {
		return float32(math.Inf(1))
	}
	// x = k·ln2 + r with |r| <= ln2/2; e^x = 2^k · e^r.
	const roundMagic = 12582912.0 // 1.5·2^23: adding it rounds to an integer in the low mantissa bits
	t := x*1.442695 + roundMagic
	k := int32(math.Float32bits(t)) - 0x4B400000
	kf := t - roundMagic
	r := x - kf*0.693145751953125 - kf*1.428606765330187e-06 // ln2 split hi/lo
	p := 1 + r*(1+r*(0.5+r*(0.16666667+r*(0.041666668+r*(0.008333334+r*0.0013888889)))))
	return p * math.Float32frombits(uint32(k+127)<<23)
}

// expIntoGeneric is expInto one value at a time.
func expIntoGeneric(w, lp []float32, shift, scale float32, scaled bool) {
	for i, x := range lp {
		x -= shift
		if scaled {
			x *= scale
		}
		w[i] = expf(x)
	}
}

// sanitize replaces NaN by -Inf and +Inf by the largest float32.
func sanitize(lp []float32) {
	for i, x := range lp {
		if x != x {
			lp[i] = float32(math.Inf(-1))
		} else if x > math.MaxFloat32 {
			lp[i] = math.MaxFloat32
		}
	}
}

// maxSanitizedGeneric sanitizes lp and returns its maximum and the first
// index holding it (mx.argmax picks the first maximum), -1 when every
// value is -Inf.
func maxSanitizedGeneric(lp []float32) (float32, int) {
	sanitize(lp)
	maxV := float32(math.Inf(-1))
	arg := -1
	for i, x := range lp {
		if x > maxV {
			maxV, arg = x, i
		}
	}
	return maxV, arg
}
