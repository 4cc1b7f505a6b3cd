package safetensors

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"github.com/mlxk/mlxk/shared/floatx"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Pending is a tensor whose bytes are produced when the writer reaches it,
// so a converter can stream a model larger than memory: Load is called once,
// and its result is written and dropped before the next tensor is loaded.
type Pending struct {
	Name  string
	DType DType
	Shape []int
	Load  func() ([]byte, error)
}

// Size is the number of data bytes the tensor's dtype and shape imply.
func (p Pending) Size() int64 {
	n := int64(p.DType.Size())
	for _, d := range p.Shape {
		n *= int64(d)
	}
	return n
}

// Ready wraps tensors whose bytes are already in memory as Pending.
func Ready(tensors []Tensor) []Pending {
	out := make([]Pending, len(tensors))
	for i, t := range tensors {
		out[i] = Pending{Name: t.Name, DType: t.DType, Shape: t.Shape, Load: func() ([]byte, error) { return t.Data, nil }}
	}
	return out
}

// Write writes tensors to w as MLX's save_safetensors does: the 8-byte
// little-endian header length, the compact JSON header with keys sorted
// bytewise and no padding, then the tensors' bytes back to back without
// alignment, in the order given. An empty metadata map is written as
// "__metadata__":null, as MLX does.
func Write(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	for _, t := range tensors {
		if err := t.check(); err != nil {
			return err
		}
	}
	return writePending(w, Ready(tensors), metadata)
}

// WriteFile writes tensors to path (see Write). It writes a temporary file
// in the same folder and renames it, so path never holds a partial file.
func WriteFile(path string, tensors []Tensor, metadata map[string]string) error {
	for _, t := range tensors {
		if err := t.check(); err != nil {
			return err
		}
	}
	return writeFilePending(path, Ready(tensors), metadata)
}

func writeFilePending(path string, tensors []Pending, metadata map[string]string) error {
	return writeFileAtomic(path, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		if err := writePending(bw, tensors, metadata); err != nil {
			return err
		}
		return bw.Flush()
	})
}

// writeFileAtomic writes path through a temporary file in the same folder
// and a rename, so path never holds a partial file.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return fmt.Errorf("safetensors: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("safetensors: write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	return nil
}

func writePending(w io.Writer, tensors []Pending, metadata map[string]string) error {
	header, err := EncodeHeader(tensors, metadata)
	if err != nil {
		return err
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
	if _, err := w.Write(n[:]); err != nil {
		return fmt.Errorf("safetensors: write: %w", err)
	}
	if _, err := w.Write(header); err != nil {
		return fmt.Errorf("safetensors: write: %w", err)
	}
	for _, p := range tensors {
		data, err := p.Load()
		if err != nil {
			return fmt.Errorf("safetensors: tensor %q: %w", p.Name, err)
		}
		if int64(len(data)) != p.Size() {
			return fmt.Errorf("safetensors: tensor %q: shape %v of %s needs %d bytes, loaded %d", p.Name, p.Shape, p.DType, p.Size(), len(data))
		}
		if _, err := w.Write(data); err != nil {
			return fmt.Errorf("safetensors: write: %w", err)
		}
	}
	return nil
}

// EncodeHeader returns the JSON header (without the length prefix) for
// tensors laid out back to back in the given order, formatted as MLX's JSON
// library prints it: compact, object keys sorted bytewise, non-ASCII kept as
// UTF-8, control characters escaped.
func EncodeHeader(tensors []Pending, metadata map[string]string) ([]byte, error) {
	type item struct {
		key  string
		body []byte
	}
	items := make([]item, 0, len(tensors)+1)
	seen := make(map[string]bool, len(tensors))
	var offset int64
	for _, p := range tensors {
		if p.Name == "" || p.Name == metadataKey || !utf8.ValidString(p.Name) {
			return nil, fmt.Errorf("safetensors: bad tensor name %q", p.Name)
		}
		if seen[p.Name] {
			return nil, fmt.Errorf("safetensors: tensor %q given twice", p.Name)
		}
		seen[p.Name] = true
		if !p.DType.Valid() {
			return nil, fmt.Errorf("safetensors: tensor %q: unknown dtype %q", p.Name, p.DType)
		}
		for _, d := range p.Shape {
			if d < 0 {
				return nil, fmt.Errorf("safetensors: tensor %q: negative dimension in %v", p.Name, p.Shape)
			}
		}
		size := p.Size()
		b := []byte(`{"data_offsets":[`)
		b = strconv.AppendInt(b, offset, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, offset+size, 10)
		b = append(b, `],"dtype":`...)
		b = appendJSONString(b, string(p.DType))
		b = append(b, `,"shape":[`...)
		for i, d := range p.Shape {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(d), 10)
		}
		b = append(b, "]}"...)
		items = append(items, item{p.Name, b})
		offset += size
	}
	md := []byte("null")
	if len(metadata) > 0 {
		keys := make([]string, 0, len(metadata))
		for k, v := range metadata {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return nil, fmt.Errorf("safetensors: metadata %q is not valid UTF-8", k)
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		md = []byte{'{'}
		for i, k := range keys {
			if i > 0 {
				md = append(md, ',')
			}
			md = appendJSONString(md, k)
			md = append(md, ':')
			md = appendJSONString(md, metadata[k])
		}
		md = append(md, '}')
	}
	items = append(items, item{metadataKey, md})
	slices.SortFunc(items, func(a, b item) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	out := []byte{'{'}
	for i, it := range items {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendJSONString(out, it.key)
		out = append(out, ':')
		out = append(out, it.body...)
	}
	return append(out, '}'), nil
}

// appendJSONString quotes s the way MLX's JSON library does: '"' and '\\'
// escaped, \b \f \n \r \t short forms, other control bytes as \u00xx
// (lowercase hex), everything else verbatim.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			if c < 0x20 {
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			} else {
				b = append(b, c)
			}
		}
	}
	return append(b, '"')
}

// EncodeFloats encodes float32 values as little-endian data of a float
// dtype (F32, BF16 or F16; anything else is written as F32).
func EncodeFloats(f []float32, d DType) []byte {
	out := make([]byte, len(f)*d.Size())
	switch d {
	case BF16:
		floatx.EncodeBF16(out, f)
	case F16:
		floatx.EncodeF16(out, f)
	default:
		out = make([]byte, 4*len(f))
		floatx.EncodeF32(out, f)
	}
	return out
}
