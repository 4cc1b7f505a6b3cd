package kernels

import "github.com/mlxk/mlxk/shared/quant"

// The functions here are the portable kernels: the whole implementation
// where archsimd is not available, and the reference the SIMD kernels are
// tested against (they compute the same integer sums and differ only in
// the order of float additions).

// affineInt8RowsGeneric computes out[r] = W[r]·x for rows [lo,hi) of a
// 4- or 8-bit affine matrix against one int8-quantized vector t of a.
func affineInt8RowsGeneric(m *Matrix, a *actQ, t int, out []float32, lo, hi int) {
	ng := m.Cols / m.GroupSize
	rb := m.rowBytes()
	q := a.q[t*a.kp : t*a.kp+m.Cols]
	d := a.d[t*a.units : (t+1)*a.units]
	us := a.s[t*a.units : (t+1)*a.units]
	upg := m.GroupSize / unitSize
	for r := lo; r < hi; r++ {
		row := m.Data[r*rb : (r+1)*rb]
		var acc, accb float32
		for g := 0; g < ng; g++ {
			s := m.scaleAt(m.Scales, r*ng+g)
			b := m.scaleAt(m.Biases, r*ng+g)
			if m.Bits == 8 {
				// As the SIMD kernel: (q-128)·x, and the 128·Σx goes
				// into the bias term.
				b += 128 * s
			}
			for u := g * upg; u < (g+1)*upg; u++ {
				var isum int32
				k0 := u * unitSize
				if m.Bits == 4 {
					for j := 0; j < unitSize/2; j++ {
						v := row[k0/2+j]
						isum += int32(v&15)*int32(q[k0+2*j]) + int32(v>>4)*int32(q[k0+2*j+1])
					}
				} else {
					for j := 0; j < unitSize; j++ {
						isum += (int32(row[k0+j]) - 128) * int32(q[k0+j])
					}
				}
				acc += float32(isum) * (s * d[u])
				accb += b * us[u]
			}
		}
		out[r] = acc + accb
	}
}

// affineExactRowsGeneric computes out[i][r] = W[r]·x[i] in float32 for
// rows [lo,hi) and n vectors, for any bit width: per group
// s·Σq·x + b·Σx, the rewrite every MLX kernel uses.
func affineExactRowsGeneric(m *Matrix, out, x []float32, n, lo, hi int) {
	ng := m.Cols / m.GroupSize
	G := m.GroupSize
	xsum := make([]float32, n*ng)
	for i := 0; i < n; i++ {
		for g := 0; g < ng; g++ {
			xsum[i*ng+g] = sumGeneric(x[i*m.Cols+g*G : i*m.Cols+(g+1)*G])
		}
	}
	rb := m.rowBytes()
	qv := make([]float32, m.Cols)
	for r := lo; r < hi; r++ {
		row := m.Data[r*rb : (r+1)*rb]
		unpackRow(qv, row, m.Bits)
		for i := 0; i < n; i++ {
			xs := x[i*m.Cols : (i+1)*m.Cols]
			var acc float32
			for g := 0; g < ng; g++ {
				qx := dotGeneric(qv[g*G:(g+1)*G], xs[g*G:(g+1)*G])
				acc += m.scaleAt(m.Scales, r*ng+g)*qx + m.scaleAt(m.Biases, r*ng+g)*xsum[i*ng+g]
			}
			out[i*m.Rows+r] = acc
		}
	}
}

// unpackRow writes the integer values of a packed row as float32.
func unpackRow(dst []float32, row []byte, bits int) {
	switch bits {
	case 4:
		for j, v := range row[:len(dst)/2] {
			dst[2*j] = float32(v & 15)
			dst[2*j+1] = float32(v >> 4)
		}
	case 8:
		for j, v := range row[:len(dst)] {
			dst[j] = float32(v)
		}
	default:
		for j := range dst {
			dst[j] = float32(quant.Elem(row, j, bits))
		}
	}
}

// denseRowsGeneric computes out[i][r] = W[r]·x[i] for a float matrix.
func denseRowsGeneric(m *Matrix, out, x []float32, n, lo, hi int) {
	w := make([]float32, m.Cols)
	for r := lo; r < hi; r++ {
		m.Row(w, r)
		for i := 0; i < n; i++ {
			out[i*m.Rows+r] = dotGeneric(w, x[i*m.Cols:(i+1)*m.Cols])
		}
	}
}

func dotGeneric(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func sumGeneric(a []float32) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i]
		s1 += a[i+1]
		s2 += a[i+2]
		s3 += a[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i]
	}
	return (s0 + s1) + (s2 + s3)
}
