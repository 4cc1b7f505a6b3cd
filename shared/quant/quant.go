// Package quant implements MLX's affine quantization: the packed layout of
// quantized weights in MLX checkpoints (an LSB-first bit stream per row,
// stored as little-endian uint32 words), the quantizer that produces them
// (a port of the behavior of MLX's CPU quantize), and dequantization.
//
// A weight matrix w of shape [rows, cols] is quantized along cols in groups
// of GroupSize: each group has a scale s and a bias b, each element a
// Bits-wide unsigned code q, and w ≈ s·q + b.
package quant

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unsafe"
)

// ErrInvalid is matched (errors.Is) by every error about unsupported
// parameters or inconsistent shapes.
var ErrInvalid = errors.New("invalid quantization")

func invalid(format string, args ...any) error {
	return fmt.Errorf("quant: "+format+": %w", append(args, ErrInvalid)...)
}

// ValidBits reports whether MLX's affine mode supports bits.
func ValidBits(bits int) bool {
	switch bits {
	case 2, 3, 4, 5, 6, 8:
		return true
	}
	return false
}

// ValidGroupSize reports whether MLX's affine mode supports groupSize.
func ValidGroupSize(groupSize int) bool {
	return groupSize == 32 || groupSize == 64 || groupSize == 128
}

// CheckParams validates bits and group size.
func CheckParams(groupSize, bits int) error {
	if !ValidBits(bits) {
		return invalid("bits %d not supported (2, 3, 4, 5, 6 or 8)", bits)
	}
	if !ValidGroupSize(groupSize) {
		return invalid("group size %d not supported (32, 64 or 128)", groupSize)
	}
	return nil
}

// CheckMatrix validates parameters and a [rows, cols] matrix shape: cols must
// be a positive multiple of groupSize (which makes cols·bits a multiple of 32).
func CheckMatrix(rows, cols, groupSize, bits int) error {
	if err := CheckParams(groupSize, bits); err != nil {
		return err
	}
	if rows < 0 || cols <= 0 || cols%groupSize != 0 {
		return invalid("shape [%d, %d] cannot be split into groups of %d along the last axis", rows, cols, groupSize)
	}
	if rows > 0 && cols > math.MaxInt/rows {
		return invalid("shape [%d, %d] overflows", rows, cols)
	}
	return nil
}

// RowWords is the number of uint32 words of one packed row of cols codes.
func RowWords(cols, bits int) int { return cols * bits / 32 }

// Groups is the number of groups (scales per row) of a row of cols values.
func Groups(cols, groupSize int) int { return cols / groupSize }

// CheckShapes validates the tensors of one quantized module as stored in a
// checkpoint: weight [..., rows, cols·bits/32] uint32, scales and biases
// [..., rows, cols/groupSize], the rule MLX's dequantize enforces. It returns
// the number of rows (all leading dimensions multiplied) and the unpacked cols.
func CheckShapes(weight, scales, biases []int, groupSize, bits int) (rows, cols int, err error) {
	if err := CheckParams(groupSize, bits); err != nil {
		return 0, 0, err
	}
	if len(weight) < 1 || len(weight) != len(scales) || len(weight) != len(biases) {
		return 0, 0, invalid("weight %v, scales %v and biases %v differ in rank", weight, scales, biases)
	}
	last := len(weight) - 1
	rows = 1
	for i := range last {
		if weight[i] != scales[i] || weight[i] != biases[i] || weight[i] < 0 {
			return 0, 0, invalid("weight %v, scales %v and biases %v differ in leading dimensions", weight, scales, biases)
		}
		if weight[i] != 0 && rows > math.MaxInt/weight[i] {
			return 0, 0, invalid("weight %v overflows", weight)
		}
		rows *= weight[i]
	}
	if scales[last] != biases[last] {
		return 0, 0, invalid("scales %v and biases %v differ", scales, biases)
	}
	w, g := weight[last], scales[last]
	if w <= 0 || g <= 0 || w > math.MaxInt/32 || g > math.MaxInt/groupSize || w*32%bits != 0 || w*32/bits != g*groupSize {
		return 0, 0, invalid("weight %v and scales %v do not match group size %d and %d bits", weight, scales, groupSize, bits)
	}
	cols = g * groupSize
	if rows > 0 && cols > math.MaxInt/rows {
		return 0, 0, invalid("weight %v overflows", weight)
	}
	return rows, cols, nil
}

// Elem returns code j of a packed row given as little-endian bytes (no
// alignment needed): bits [j·bits, (j+1)·bits) of the LSB-first bit stream.
func Elem(row []byte, j, bits int) uint32 {
	bit := j * bits
	b, off := bit>>3, uint(bit&7)
	v := uint32(row[b]) >> off
	if off+uint(bits) > 8 {
		v |= uint32(row[b+1]) << (8 - off)
	}
	return v & (1<<uint(bits) - 1)
}

// ElemWords is Elem over a row of uint32 words.
func ElemWords(row []uint32, j, bits int) uint32 {
	bit := j * bits
	w, off := bit>>5, uint(bit&31)
	v := uint64(row[w]) >> off
	if off+uint(bits) > 32 {
		v |= uint64(row[w+1]) << (32 - off)
	}
	return uint32(v) & (1<<uint(bits) - 1)
}

// PackedWords is the number of uint32 words n codes of bits occupy
// (rounded up to a whole word).
func PackedWords(n, bits int) int { return (n*bits + 31) / 32 }

// Pack writes codes q (each < 2^bits; higher bits are dropped) as an
// LSB-first bit stream into dst, which must hold PackedWords(len(q), bits)
// words; unused trailing bits are zero.
func Pack(dst []uint32, q []uint8, bits int) {
	if len(dst) != PackedWords(len(q), bits) {
		panic(fmt.Sprintf("quant.Pack: %d words for %d codes of %d bits", len(dst), len(q), bits))
	}
	mask := uint64(1)<<uint(bits) - 1
	var acc uint64
	var n uint // bits in acc
	w := 0
	for _, c := range q {
		acc |= (uint64(c) & mask) << n
		n += uint(bits)
		if n >= 32 {
			dst[w] = uint32(acc)
			w++
			acc >>= 32
			n -= 32
		}
	}
	if n > 0 {
		dst[w] = uint32(acc)
	}
}

// Unpack reads len(dst) codes of bits from the LSB-first stream src.
func Unpack(dst []uint8, src []uint32, bits int) {
	if PackedWords(len(dst), bits) > len(src) {
		panic(fmt.Sprintf("quant.Unpack: %d words cannot hold %d codes of %d bits", len(src), len(dst), bits))
	}
	unpackStream(dst, src, bits)
}

// UnpackBytes is Unpack over little-endian bytes (no alignment needed);
// src must hold at least ceil(len(dst)·bits/8) bytes.
func UnpackBytes(dst []uint8, src []byte, bits int) {
	if (len(dst)*bits+7)/8 > len(src) {
		panic(fmt.Sprintf("quant.UnpackBytes: %d bytes cannot hold %d codes of %d bits", len(src), len(dst), bits))
	}
	unpackStream(dst, src, bits)
}

// unpackStream reads len(dst) codes of bits from an LSB-first stream of
// 8- or 32-bit units: the same stream either way on a little-endian
// layout.
func unpackStream[U uint8 | uint32](dst []uint8, src []U, bits int) {
	width := uint(unsafe.Sizeof(U(0)) * 8)
	mask := uint64(1)<<uint(bits) - 1
	var acc uint64
	var n uint
	w := 0
	for i := range dst {
		if n < uint(bits) {
			acc |= uint64(src[w]) << n
			w++
			n += width
		}
		dst[i] = uint8(acc & mask)
		acc >>= uint(bits)
		n -= uint(bits)
	}
}

// WordsToBytes encodes packed words as the little-endian bytes a U32
// safetensors tensor holds.
func WordsToBytes(words []uint32) []byte {
	out := make([]byte, 4*len(words))
	for i, w := range words {
		binary.LittleEndian.PutUint32(out[4*i:], w)
	}
	return out
}
