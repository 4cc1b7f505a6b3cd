//go:build !(goexperiment.simd && amd64)

package sample

// expInto sets w[i] = expf((lp[i] - shift) · scale) (scale applied when
// scaled); see the AVX2 version.
func expInto(w, lp []float32, shift, scale float32, scaled bool) {
	expIntoGeneric(w, lp, shift, scale, scaled)
}

// maxSanitized: see maxSanitizedGeneric.
func maxSanitized(lp []float32) (float32, int) { return maxSanitizedGeneric(lp) }

// subtract sets lp[i] -= c.
func subtract(lp []float32, c float32) {
	for i := range lp {
		lp[i] -= c
	}
}

// sum64 returns the sum of w in float64.
func sum64(w []float32) float64 {
	var s0, s1 float64
	i := 0
	for ; i+1 < len(w); i += 2 {
		s0 += float64(w[i])
		s1 += float64(w[i+1])
	}
	if i < len(w) {
		s0 += float64(w[i])
	}
	return s0 + s1
}
