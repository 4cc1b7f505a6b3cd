package safetensors

// DType is a safetensors element type as spelled in the header ("F32", "BF16", ...).
type DType string

// The element types this package accepts. F8_E8M0 and C64 are written by MLX
// (fp-mode scales, complex tensors) in addition to the types of the reference format.
const (
	F64    DType = "F64"
	F32    DType = "F32"
	F16    DType = "F16"
	BF16   DType = "BF16"
	I64    DType = "I64"
	I32    DType = "I32"
	I16    DType = "I16"
	I8     DType = "I8"
	U64    DType = "U64"
	U32    DType = "U32"
	U16    DType = "U16"
	U8     DType = "U8"
	BOOL   DType = "BOOL"
	F8E4M3 DType = "F8_E4M3"
	F8E5M2 DType = "F8_E5M2"
	F8E8M0 DType = "F8_E8M0"
	C64    DType = "C64"
)

// Size is the width of one element in bytes, or 0 for an unknown type.
func (d DType) Size() int {
	switch d {
	case F64, I64, U64, C64:
		return 8
	case F32, I32, U32:
		return 4
	case F16, BF16, I16, U16:
		return 2
	case I8, U8, BOOL, F8E4M3, F8E5M2, F8E8M0:
		return 1
	}
	return 0
}

// Valid reports whether d is a type this package knows.
func (d DType) Valid() bool { return d.Size() != 0 }

// IsFloat reports whether d is one of the float types Float32s can decode.
func (d DType) IsFloat() bool { return d == F32 || d == F16 || d == BF16 }
