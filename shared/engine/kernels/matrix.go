// Package kernels holds the numeric building blocks of the mlxk engine:
// products of weight matrices (stored as f32, bf16, f16 or MLX affine
// quantized rows) with f32 activations, and the small per-token operations
// of a decoder (RMSNorm, RoPE, softmax, activations).
//
// Weights are read where they lie, usually in a read-only mmap of the
// safetensors file. MLX writes tensors back to back without alignment, so
// every kernel here reads weights as bytes and never reinterprets them as
// wider types.
package kernels

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/mlxk/mlxk/shared/floatx"
	"github.com/mlxk/mlxk/shared/quant"
)

// Format is the storage format of a weight matrix.
type Format uint8

const (
	F32    Format = iota + 1 // little-endian float32
	BF16                     // bfloat16
	F16                      // IEEE half
	Affine                   // MLX affine quantization: packed q, per-group scale and bias
)

func (f Format) String() string {
	switch f {
	case F32:
		return "float32"
	case BF16:
		return "bfloat16"
	case F16:
		return "float16"
	case Affine:
		return "affine"
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// elemSize is the byte width of one element of a float format.
func (f Format) elemSize() int {
	switch f {
	case F32:
		return 4
	case BF16, F16:
		return 2
	}
	return 0
}

// Matrix is a [Rows, Cols] weight in PyTorch layout (output rows, input
// columns), as nn.Linear and nn.Embedding store them.
type Matrix struct {
	Rows, Cols int
	Format     Format
	// Data holds the rows back to back: Cols elements of Format for float
	// formats, Cols*Bits/8 bytes of LSB-first packed values for Affine.
	Data []byte

	// Affine only.
	Bits, GroupSize int
	ScaleFormat     Format // F32, BF16 or F16
	Scales, Biases  []byte // [Rows, Cols/GroupSize] in ScaleFormat

	// pack holds the panel layout of a 4-bit matrix once the SIMD kernels
	// have asked for it (see panel.go); nil for other formats.
	pack *packState
}

// NewDense describes a float matrix and checks that data has the right size.
func NewDense(rows, cols int, f Format, data []byte) (*Matrix, error) {
	if f != F32 && f != BF16 && f != F16 {
		return nil, fmt.Errorf("dense matrix: unsupported format %v", f)
	}
	if rows <= 0 || cols <= 0 {
		return nil, fmt.Errorf("dense matrix: bad shape [%d %d]", rows, cols)
	}
	if want := rows * cols * f.elemSize(); len(data) != want {
		return nil, fmt.Errorf("dense matrix [%d %d] %v: %d bytes, want %d", rows, cols, f, len(data), want)
	}
	return &Matrix{Rows: rows, Cols: cols, Format: f, Data: data}, nil
}

// NewAffine describes an MLX affine-quantized matrix of logical shape
// [rows, cols] and checks every size against bits and group size.
func NewAffine(rows, cols, bits, groupSize int, packed []byte, sf Format, scales, biases []byte) (*Matrix, error) {
	if rows <= 0 {
		return nil, fmt.Errorf("affine matrix: %d rows", rows)
	}
	if err := quant.CheckMatrix(rows, cols, groupSize, bits); err != nil {
		return nil, fmt.Errorf("affine matrix: %w", err)
	}
	if sf != F32 && sf != BF16 && sf != F16 {
		return nil, fmt.Errorf("affine matrix: unsupported scale format %v", sf)
	}
	if want := rows * cols * bits / 8; len(packed) != want {
		return nil, fmt.Errorf("affine matrix [%d %d] %d-bit: %d packed bytes, want %d", rows, cols, bits, len(packed), want)
	}
	ns := rows * (cols / groupSize) * sf.elemSize()
	if len(scales) != ns || len(biases) != ns {
		return nil, fmt.Errorf("affine matrix [%d %d] group %d: scales %d / biases %d bytes, want %d", rows, cols, groupSize, len(scales), len(biases), ns)
	}
	m := &Matrix{Rows: rows, Cols: cols, Format: Affine, Data: packed, Bits: bits, GroupSize: groupSize,
		ScaleFormat: sf, Scales: scales, Biases: biases}
	if m.canPack() {
		m.pack = new(packState)
	}
	return m, nil
}

// Bytes is the number of weight bytes one full pass over the matrix reads.
func (m *Matrix) Bytes() int64 {
	return int64(len(m.Data) + len(m.Scales) + len(m.Biases))
}

// rowBytes is the stride of one row in Data.
func (m *Matrix) rowBytes() int {
	if m.Format == Affine {
		return m.Cols * m.Bits / 8
	}
	return m.Cols * m.Format.elemSize()
}

// Row writes row r of the matrix as float32 into dst[:Cols]: the lookup
// of an embedding table, quantized or not.
func (m *Matrix) Row(dst []float32, r int) {
	dst = dst[:m.Cols]
	if pn := m.packed(); pn != nil {
		// The original rows may have been released (see Pool.Pack).
		m.rowFromPanels(pn, dst, r)
		return
	}
	row := m.Data[r*m.rowBytes() : (r+1)*m.rowBytes()]
	switch m.Format {
	case F32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(row[4*i:]))
		}
	case BF16:
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(row[2*i:])) << 16)
		}
	case F16:
		for i := range dst {
			dst[i] = floatx.F16ToF32(binary.LittleEndian.Uint16(row[2*i:]))
		}
	case Affine:
		ng := m.Cols / m.GroupSize
		G := m.GroupSize
		for g := 0; g < ng; g++ {
			s := m.scaleAt(m.Scales, r*ng+g)
			b := m.scaleAt(m.Biases, r*ng+g)
			d := dst[g*G : (g+1)*G]
			switch m.Bits {
			case 4:
				for j, v := range row[g*G/2 : (g+1)*G/2] {
					d[2*j] = quant.Value(s, b, uint32(v&15))
					d[2*j+1] = quant.Value(s, b, uint32(v>>4))
				}
			case 8:
				for j, v := range row[g*G : (g+1)*G] {
					d[j] = quant.Value(s, b, uint32(v))
				}
			default:
				for k := range d {
					d[k] = quant.Value(s, b, quant.Elem(row, g*G+k, m.Bits))
				}
			}
		}
	}
}

// scaleAt reads element i of a scales or biases array.
func (m *Matrix) scaleAt(b []byte, i int) float32 {
	return loadFloat(b, i, m.ScaleFormat)
}

func loadFloat(b []byte, i int, f Format) float32 {
	switch f {
	case F32:
		return math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	case BF16:
		return math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[2*i:])) << 16)
	default:
		return floatx.F16ToF32(binary.LittleEndian.Uint16(b[2*i:]))
	}
}
