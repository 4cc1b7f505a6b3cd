package safetensors

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"github.com/mlxk/mlxk/shared/floatx"
)

// Tensor is one named array. Data holds the raw little-endian bytes.
//
// For tensors read from a file, Data aliases the read-only file mapping: it
// is valid until the File or Model is closed and must not be written. MLX
// writes tensors back to back without alignment, so Data may start at any
// address: never reinterpret it as []uint32, []uint16 or []float32 yourself;
// use Uint32s, Uint16s or Float32s, which check alignment (a misaligned
// unsafe conversion is undefined on some CPUs and fails checkptr under -race).
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// NumElements is the product of the shape (1 for a scalar).
func (t Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// hostLittleEndian is true on every platform Go supports but the big-endian
// ones (s390x, ppc64, mips); views are only taken where the byte order matches.
func hostLittleEndian() bool { return binary.NativeEndian.Uint16([]byte{1, 0}) == 1 }

// Uint32s returns Data as little-endian 32-bit words: a view of Data (no copy)
// when Data is 4-byte aligned on a little-endian host, otherwise a decoded copy.
// It returns nil unless the element type is 4 bytes wide (U32, I32, F32).
// Treat the result as read-only: it may alias a read-only mapping.
func (t Tensor) Uint32s() []uint32 {
	if t.DType.Size() != 4 || len(t.Data)%4 != 0 {
		return nil
	}
	n := len(t.Data) / 4
	if n == 0 {
		return []uint32{}
	}
	p := unsafe.Pointer(unsafe.SliceData(t.Data))
	if hostLittleEndian() && uintptr(p)%unsafe.Alignof(uint32(0)) == 0 {
		return unsafe.Slice((*uint32)(p), n)
	}
	out := make([]uint32, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(t.Data[4*i:])
	}
	return out
}

// Uint16s returns Data as little-endian 16-bit words (a view when 2-byte
// aligned on a little-endian host, else a copy); nil unless the element type
// is 2 bytes wide (BF16, F16, U16, I16). Treat the result as read-only.
func (t Tensor) Uint16s() []uint16 {
	if t.DType.Size() != 2 || len(t.Data)%2 != 0 {
		return nil
	}
	n := len(t.Data) / 2
	if n == 0 {
		return []uint16{}
	}
	p := unsafe.Pointer(unsafe.SliceData(t.Data))
	if hostLittleEndian() && uintptr(p)%unsafe.Alignof(uint16(0)) == 0 {
		return unsafe.Slice((*uint16)(p), n)
	}
	out := make([]uint16, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint16(t.Data[2*i:])
	}
	return out
}

// Float32s decodes a F32, BF16 or F16 tensor into a new []float32 (always a
// copy, so the result is writable and outlives the file).
func (t Tensor) Float32s() ([]float32, error) {
	if !t.DType.IsFloat() {
		return nil, fmt.Errorf("safetensors: tensor %q has dtype %s, not a float type", t.Name, t.DType)
	}
	if len(t.Data)%t.DType.Size() != 0 {
		return nil, &FormatError{Reason: fmt.Sprintf("tensor %q: %d bytes is not a whole number of %s elements", t.Name, len(t.Data), t.DType)}
	}
	out := make([]float32, len(t.Data)/t.DType.Size())
	switch t.DType {
	case F32:
		floatx.DecodeF32(out, t.Data)
	case BF16:
		floatx.DecodeBF16(out, t.Data)
	case F16:
		floatx.DecodeF16(out, t.Data)
	}
	return out, nil
}

// check verifies that Data matches DType and Shape and that the name is usable.
func (t Tensor) check() error {
	if t.Name == "" || t.Name == metadataKey {
		return fmt.Errorf("safetensors: bad tensor name %q", t.Name)
	}
	if !t.DType.Valid() {
		return fmt.Errorf("safetensors: tensor %q: unknown dtype %q", t.Name, t.DType)
	}
	n := 1
	for _, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("safetensors: tensor %q: negative dimension in %v", t.Name, t.Shape)
		}
		if d != 0 && n > (1<<62)/d {
			return fmt.Errorf("safetensors: tensor %q: shape %v overflows", t.Name, t.Shape)
		}
		n *= d
	}
	if n*t.DType.Size() != len(t.Data) {
		return fmt.Errorf("safetensors: tensor %q: shape %v of %s needs %d bytes, have %d", t.Name, t.Shape, t.DType, n*t.DType.Size(), len(t.Data))
	}
	return nil
}
