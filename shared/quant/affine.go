package quant

import (
	"fmt"
	"math"
)

// eps is MLX's floor on the magnitude of a scale.
const eps = float32(1e-7)

// rint rounds half to even, as C's rint in the default rounding mode.
func rint(x float32) float32 { return float32(math.RoundToEven(float64(x))) }

// Quantize quantizes the row-major [rows, cols] matrix w as MLX's CPU
// quantize does, all arithmetic in float32:
//
//   - per group: n = 2^bits−1, s = max((max−min)/n, 1e-7);
//   - the edge is the extreme with the larger magnitude (min when
//     |min| > |max|, keeping s positive, else max with s negated);
//   - q0 = rint(edge/s); if q0 ≠ 0 then s = edge/q0 and b = edge, else b = 0
//     (so the edge is represented exactly and scales can be negative);
//   - q = clip(rint((w−b)/s), 0, n).
//
// It returns the packed rows ([rows, cols·bits/32] words) and the float32
// scales and biases ([rows, cols/groupSize]). MLX then casts scales and
// biases to the weight's dtype; QuantizeRounded does that too.
//
// Every value is within |s|/2 of its dequantization unless it was clipped
// (possible at the end opposite the edge, when rint(edge/s) moved away from
// zero), and within |s| in all cases.
func Quantize(w []float32, rows, cols, groupSize, bits int) (packed []uint32, scales, biases []float32, err error) {
	if err := CheckMatrix(rows, cols, groupSize, bits); err != nil {
		return nil, nil, nil, err
	}
	if len(w) != rows*cols {
		return nil, nil, nil, invalid("%d values for a [%d, %d] matrix", len(w), rows, cols)
	}
	rw, groups := RowWords(cols, bits), Groups(cols, groupSize)
	packed = make([]uint32, rows*rw)
	scales = make([]float32, rows*groups)
	biases = make([]float32, rows*groups)
	codes := make([]uint8, cols)
	for r := range rows {
		row := w[r*cols : (r+1)*cols]
		for g := range groups {
			s, b := quantizeGroup(codes[g*groupSize:(g+1)*groupSize], row[g*groupSize:(g+1)*groupSize], bits)
			scales[r*groups+g], biases[r*groups+g] = s, b
		}
		Pack(packed[r*rw:(r+1)*rw], codes, bits)
	}
	return packed, scales, biases, nil
}

// QuantizeRounded is Quantize followed by rounding scales and biases with
// round (e.g. floatx.RoundBF16 for a bfloat16 model), as MLX casts them to
// the weight's dtype after computing the codes with the float32 values.
func QuantizeRounded(w []float32, rows, cols, groupSize, bits int, round func(float32) float32) (packed []uint32, scales, biases []float32, err error) {
	packed, scales, biases, err = Quantize(w, rows, cols, groupSize, bits)
	if err != nil {
		return nil, nil, nil, err
	}
	for i := range scales {
		scales[i] = round(scales[i])
		biases[i] = round(biases[i])
	}
	return packed, scales, biases, nil
}

// quantizeGroup writes the codes of one group and returns its scale and bias.
// Comparisons mirror std::max/std::min so NaN inputs behave as in MLX.
func quantizeGroup(q []uint8, x []float32, bits int) (scale, bias float32) {
	nBins := float32(int(1)<<uint(bits) - 1)
	wMin, wMax := float32(math.Inf(1)), float32(math.Inf(-1))
	for _, v := range x {
		if wMax < v {
			wMax = v
		}
		if v < wMin {
			wMin = v
		}
	}
	mask := abs32(wMin) > abs32(wMax)
	scale = (wMax - wMin) / nBins
	if scale < eps {
		scale = eps
	}
	edge := wMax
	if mask {
		edge = wMin
	} else {
		scale = -scale
	}
	if q0 := rint(edge / scale); q0 != 0 {
		scale = edge / q0
		bias = edge
	}
	for j, v := range x {
		c := rint((v - bias) / scale)
		c = min(max(c, 0), nBins) // as std::min(std::max(c, 0), n): NaN -> 0
		if c != c {
			c = 0
		}
		q[j] = uint8(c)
	}
	return scale, bias
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// Value is one dequantized element: s·q + b with the product rounded to
// float32 before the addition (no fused multiply-add, which Go may emit on
// arm64 for a plain s*q + b), as MLX's dequantize computes multiply and
// add as separate float32 operations.
func Value(s, b float32, q uint32) float32 {
	return float32(s*float32(q)) + b
}

// Dequantize expands a packed [rows, cols] matrix to float32.
func Dequantize(packed []uint32, scales, biases []float32, rows, cols, groupSize, bits int) ([]float32, error) {
	if err := CheckMatrix(rows, cols, groupSize, bits); err != nil {
		return nil, err
	}
	rw, groups := RowWords(cols, bits), Groups(cols, groupSize)
	if len(packed) != rows*rw || len(scales) != rows*groups || len(biases) != rows*groups {
		return nil, invalid("have %d words, %d scales, %d biases for [%d, %d] at %d bits, group %d (want %d, %d, %d)",
			len(packed), len(scales), len(biases), rows, cols, bits, groupSize, rows*rw, rows*groups, rows*groups)
	}
	out := make([]float32, rows*cols)
	for r := range rows {
		DequantizeRow(out[r*cols:(r+1)*cols], packed[r*rw:(r+1)*rw], scales[r*groups:(r+1)*groups], biases[r*groups:(r+1)*groups], groupSize, bits)
	}
	return out, nil
}

// DequantizeRow expands one packed row (e.g. an embedding lookup) into dst;
// scales and biases are that row's len(dst)/groupSize values. Parameters are
// trusted (validate with CheckShapes at load); mismatched lengths panic.
func DequantizeRow(dst []float32, row []uint32, scales, biases []float32, groupSize, bits int) {
	checkRow("DequantizeRow", len(dst), 4*len(row), len(scales), len(biases), groupSize, bits)
	for k := range dst {
		g := k / groupSize
		dst[k] = Value(scales[g], biases[g], ElemWords(row, k, bits))
	}
}

// DequantizeRowBytes is DequantizeRow over the row's little-endian bytes, as
// they sit (possibly unaligned) in a mapped checkpoint.
func DequantizeRowBytes(dst []float32, row []byte, scales, biases []float32, groupSize, bits int) {
	checkRow("DequantizeRowBytes", len(dst), len(row), len(scales), len(biases), groupSize, bits)
	for k := range dst {
		g := k / groupSize
		dst[k] = Value(scales[g], biases[g], Elem(row, k, bits))
	}
}

func checkRow(op string, n, rowBytes, ns, nb, groupSize, bits int) {
	if CheckMatrix(1, n, groupSize, bits) != nil || rowBytes != n*bits/8 || ns != n/groupSize || nb != ns {
		panic(fmt.Sprintf("quant.%s: %d values, %d packed bytes, %d scales, %d biases do not fit group %d, %d bits", op, n, rowBytes, ns, nb, groupSize, bits))
	}
}
