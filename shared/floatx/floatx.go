// Package floatx converts between float32 and the 16-bit float formats that
// MLX checkpoints store (bfloat16 and IEEE 754 binary16), with the rounding MLX
// applies when it casts, plus little-endian slice codecs for raw tensor bytes.
//
// Every conversion is a pure function of its input bits: no tables, no state,
// so results are reproducible across machines and safe for concurrent use.
package floatx

import (
	"encoding/binary"
	"fmt"
	"math"
)

// bf16NaN is the canonical quiet NaN MLX stores for any float32 NaN cast to
// bfloat16 (sign and payload are dropped).
const bf16NaN = 0x7FC0

// BF16ToF32 widens a bfloat16 bit pattern to float32. It is exact: bfloat16 is
// the upper half of a float32.
func BF16ToF32(b uint16) float32 {
	return math.Float32frombits(uint32(b) << 16)
}

// F32ToBF16 narrows f to bfloat16 with round-to-nearest-even, as MLX's cast
// does: NaN becomes the canonical quiet NaN 0x7FC0, infinities stay infinite,
// and finite values too large for bfloat16 round to infinity.
func F32ToBF16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7FFFFFFF > 0x7F800000 {
		return bf16NaN
	}
	u += 0x7FFF + (u>>16)&1
	return uint16(u >> 16)
}

// RoundBF16 returns f rounded to the nearest bfloat16 value, as float32. It is
// what a float32 value becomes after a round trip through a bf16 tensor.
func RoundBF16(f float32) float32 {
	return BF16ToF32(F32ToBF16(f))
}

// F16ToF32 widens an IEEE 754 binary16 bit pattern to float32 exactly,
// including subnormals, infinities and NaN (sign and payload kept).
func F16ToF32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1F
	mant := uint32(h & 0x3FF)
	switch {
	case exp == 0x1F: // inf or NaN: keep the payload in the top mantissa bits
		return math.Float32frombits(sign | 0x7F800000 | mant<<13)
	case exp != 0: // normal: rebias 15 -> 127
		return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
	case mant == 0:
		return math.Float32frombits(sign)
	default: // subnormal: value = mant * 2^-24, exact in float32
		v := float32(mant) * (1.0 / (1 << 24))
		return math.Float32frombits(sign | math.Float32bits(v))
	}
}

// F32ToF16 narrows f to IEEE 754 binary16 with round-to-nearest-even.
// Values beyond the half range become infinity, tiny values become
// subnormals or signed zero, and NaN stays a quiet NaN with its sign.
func F32ToF16(f float32) uint16 {
	u := math.Float32bits(f)
	sign := uint16(u>>16) & 0x8000
	abs := u & 0x7FFFFFFF
	switch {
	case abs > 0x7F800000: // NaN: quiet bit set so truncation cannot make it inf
		return sign | 0x7E00 | uint16(abs>>13)&0x3FF
	case abs >= 0x477FF000: // >= 65520 rounds to inf (65504 is the largest half)
		return sign | 0x7C00
	case abs >= 0x38800000: // normal half range: exponent >= -14
		// Rebias the exponent and round the 13 dropped mantissa bits to even;
		// a carry out of the mantissa correctly bumps the exponent.
		v := abs - (112 << 23)
		v += 0xFFF + (v>>13)&1
		return sign | uint16(v>>13)
	case abs < 0x33000000: // < 2^-25: rounds to zero (2^-25 itself ties to even 0)
		return sign
	default: // subnormal half: shift the full significand into place and round
		exp := abs >> 23
		mant := abs&0x7FFFFF | 0x800000
		shift := 126 - exp // 14 + (113 - exp) ... number of bits to drop beyond 13
		// The half subnormal unit is 2^-24; the float's value is mant*2^(exp-150),
		// so the half mantissa is mant >> (150-24-exp) = mant >> (126-exp).
		half := mant >> shift
		rem := mant & (1<<shift - 1)
		mid := uint32(1) << (shift - 1)
		if rem > mid || (rem == mid && half&1 == 1) {
			half++
		}
		return sign | uint16(half)
	}
}

// RoundF16 returns f rounded to the nearest binary16 value, as float32.
func RoundF16(f float32) float32 {
	return F16ToF32(F32ToF16(f))
}

// checkLen panics with a clear message when the slice codecs get mismatched
// lengths: that is a programming error, never a data error.
func checkLen(op string, nBytes, nVals, width int) {
	if nBytes != nVals*width {
		panic(fmt.Sprintf("floatx.%s: %d bytes for %d values of %d bytes", op, nBytes, nVals, width))
	}
}

// DecodeBF16 fills dst from little-endian bfloat16 bytes; len(src) must be
// 2*len(dst). src needs no particular alignment.
func DecodeBF16(dst []float32, src []byte) {
	checkLen("DecodeBF16", len(src), len(dst), 2)
	for i := range dst {
		dst[i] = BF16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
	}
}

// EncodeBF16 writes src as little-endian bfloat16 (rounded to nearest even)
// into dst; len(dst) must be 2*len(src).
func EncodeBF16(dst []byte, src []float32) {
	checkLen("EncodeBF16", len(dst), len(src), 2)
	for i, f := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], F32ToBF16(f))
	}
}

// DecodeF16 fills dst from little-endian binary16 bytes; len(src) must be
// 2*len(dst).
func DecodeF16(dst []float32, src []byte) {
	checkLen("DecodeF16", len(src), len(dst), 2)
	for i := range dst {
		dst[i] = F16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
	}
}

// EncodeF16 writes src as little-endian binary16 (rounded to nearest even)
// into dst; len(dst) must be 2*len(src).
func EncodeF16(dst []byte, src []float32) {
	checkLen("EncodeF16", len(dst), len(src), 2)
	for i, f := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], F32ToF16(f))
	}
}

// DecodeF32 fills dst from little-endian float32 bytes; len(src) must be
// 4*len(dst). It copies, so src may be unaligned.
func DecodeF32(dst []float32, src []byte) {
	checkLen("DecodeF32", len(src), len(dst), 4)
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
	}
}

// EncodeF32 writes src as little-endian float32 into dst; len(dst) must be
// 4*len(src).
func EncodeF32(dst []byte, src []float32) {
	checkLen("EncodeF32", len(dst), len(src), 4)
	for i, f := range src {
		binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(f))
	}
}
