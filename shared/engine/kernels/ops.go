package kernels

import "math"

// The exported operations use the AVX2 versions in ops_amd64.go when the
// build and the CPU have them (xxxFast returns false otherwise) and the
// portable versions below everywhere else; tests compare the two.

// RMSNorm writes x·rsqrt(mean(x²)+eps)·w into out. With plusOne the
// weight is applied as (1+w), as the Gemma family stores it.
func RMSNorm(out, x, w []float32, eps float32, plusOne bool) {
	if !rmsNormFast(out, x, w, eps, plusOne) {
		rmsNormGeneric(out, x, w, eps, plusOne)
	}
}

func rmsNormGeneric(out, x, w []float32, eps float32, plusOne bool) {
	var ss float64
	for _, v := range x {
		ss += float64(v) * float64(v)
	}
	inv := float32(1 / math.Sqrt(ss/float64(len(x))+float64(eps)))
	if plusOne {
		for i, v := range x {
			out[i] = v * inv * (1 + w[i])
		}
		return
	}
	for i, v := range x {
		out[i] = v * inv * w[i]
	}
}

// Softmax replaces x by its softmax, in place, computed stably.
func Softmax(x []float32) {
	if !softmaxFast(x) {
		softmaxGeneric(x)
	}
}

func softmaxGeneric(x []float32) {
	m := float32(math.Inf(-1))
	for _, v := range x {
		m = max(m, v)
	}
	var sum float64
	for i, v := range x {
		e := float32(math.Exp(float64(v - m)))
		x[i] = e
		sum += float64(e)
	}
	inv := float32(1 / sum)
	for i := range x {
		x[i] *= inv
	}
}

// SiLUMul sets gate[i] = silu(gate[i])·up[i], the SwiGLU of llama-style MLPs.
func SiLUMul(gate, up []float32) {
	if !siluMulFast(gate, up) {
		siluMulGeneric(gate, up)
	}
}

func siluMulGeneric(gate, up []float32) {
	for i, g := range gate {
		gate[i] = g / (1 + float32(math.Exp(float64(-g)))) * up[i]
	}
}

// GeluTanhMul sets gate[i] = gelu_tanh(gate[i])·up[i] (Gemma's MLP).
func GeluTanhMul(gate, up []float32) {
	if !geluTanhMulFast(gate, up) {
		geluTanhMulGeneric(gate, up)
	}
}

func geluTanhMulGeneric(gate, up []float32) {
	const c = 0.7978845608028654 // sqrt(2/pi)
	for i, g := range gate {
		x := float64(g)
		gate[i] = float32(0.5*x*(1+math.Tanh(c*(x+0.044715*x*x*x)))) * up[i]
	}
}

// Softcap applies cap·tanh(x/cap) in place (Gemma-2 logit capping).
func Softcap(x []float32, c float32) {
	for i, v := range x {
		x[i] = c * float32(math.Tanh(float64(v/c)))
	}
}

// DotRows sets dst[j] = scale · (q · rows[j·stride : j·stride+len(q)]) for
// every j < len(dst): the attention scores of one query head against the
// keys of a cache laid out position-major.
func DotRows(dst, q, rows []float32, stride int, scale float32) {
	if len(dst) == 0 {
		return
	}
	_ = rows[(len(dst)-1)*stride+len(q)-1]
	if !dotRowsFast(dst, q, rows, stride, scale) {
		dotRowsGeneric(dst, q, rows, stride, scale)
	}
}

func dotRowsGeneric(dst, q, rows []float32, stride int, scale float32) {
	for j := range dst {
		dst[j] = dotGeneric(q, rows[j*stride:j*stride+len(q)]) * scale
	}
}

// AddScaledRows adds Σ_j w[j] · rows[j·stride : j·stride+len(dst)] to dst:
// the attention-weighted sum of the values of a cache.
func AddScaledRows(dst, w, rows []float32, stride int) {
	if len(w) == 0 {
		return
	}
	_ = rows[(len(w)-1)*stride+len(dst)-1]
	if !addScaledRowsFast(dst, w, rows, stride) {
		addScaledRowsGeneric(dst, w, rows, stride)
	}
}

func addScaledRowsGeneric(dst, w, rows []float32, stride int) {
	for j, p := range w {
		r := rows[j*stride : j*stride+len(dst)]
		for d, v := range r {
			dst[d] += p * v
		}
	}
}

// Rope rotates the first Dims features of one head vector, MLX style.
type Rope struct {
	Dims int
	// InvFreq holds Dims/2 angular frequencies (radians per position).
	InvFreq []float64
	// Traditional pairs (x[2i], x[2i+1]); otherwise (x[i], x[i+Dims/2]).
	Traditional bool
	// PosScale multiplies positions (linear scaling: 1/factor).
	PosScale float64
	// MScale, when not 0 or 1, multiplies the rotated features first
	// (SuScaled/LongRoPE and YaRN attention scaling).
	MScale float32
}

// Apply rotates x (one head, len >= Dims) for absolute position pos.
func (r *Rope) Apply(x []float32, pos int) {
	r.ApplyHeads(x, 1, len(x), pos)
}

// ApplyHeads rotates heads vectors of one position, head h at
// x[h·stride:], computing the angles once for all of them.
func (r *Rope) ApplyHeads(x []float32, heads, stride, pos int) {
	half := r.Dims / 2
	var buf [2 * 128]float32
	var cs, sn []float32
	if half <= 128 {
		cs, sn = buf[:half], buf[128:128+half]
	} else {
		cs, sn = make([]float32, half), make([]float32, half)
	}
	p := float64(pos) * r.PosScale
	for i := 0; i < half; i++ {
		s, c := math.Sincos(p * r.InvFreq[i])
		cs[i], sn[i] = float32(c), float32(s)
	}
	scale := r.MScale != 0 && r.MScale != 1
	for h := 0; h < heads; h++ {
		hx := x[h*stride : h*stride+r.Dims]
		if scale {
			for i := range hx {
				hx[i] *= r.MScale
			}
		}
		for i := 0; i < half; i++ {
			var a, b *float32
			if r.Traditional {
				a, b = &hx[2*i], &hx[2*i+1]
			} else {
				a, b = &hx[i], &hx[i+half]
			}
			x1, x2 := *a, *b
			*a = x1*cs[i] - x2*sn[i]
			*b = x1*sn[i] + x2*cs[i]
		}
	}
}

// Argmax returns the index of the first largest value of x (greedy
// decoding in tests and benchmarks; the sampler has its own, which also
// cleans NaN and infinities). x must not be empty.
func Argmax(x []float32) int32 {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return int32(best)
}
