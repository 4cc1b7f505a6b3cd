package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"math/bits"
	"slices"
	"strings"
)

// MaxHeaderLen is the largest JSON header accepted, the limit of the
// reference implementation and of MLX (100 MB).
const MaxHeaderLen = 100_000_000

// metadataKey is the reserved header entry holding string metadata.
const metadataKey = "__metadata__"

// Header is a parsed and validated safetensors header.
type Header struct {
	// Metadata is the __metadata__ object (nil when absent or null).
	Metadata map[string]string
	// Tensors are in data order (ascending Begin, then name).
	Tensors []TensorInfo
	// DataStart is the file offset of the data area: 8 + header length.
	DataStart int64
}

// TensorInfo describes one tensor; Begin and End are byte offsets relative to
// the start of the data area.
type TensorInfo struct {
	Name       string
	DType      DType
	Shape      []int
	Begin, End int64
}

// entry is one tensor's header object. Pointer fields tell a missing key
// from a zero value.
type entry struct {
	DType       *string  `json:"dtype"`
	Shape       *[]int64 `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

// HeaderLen reads the 8-byte little-endian header length prefix of b and
// checks it against MaxHeaderLen and fileSize.
func HeaderLen(prefix []byte, fileSize int64) (int64, error) {
	if len(prefix) < 8 || fileSize < 8 {
		return 0, formatErr("file is %d bytes, shorter than the 8-byte header length", min(int64(len(prefix)), fileSize))
	}
	n := binary.LittleEndian.Uint64(prefix)
	if n == 0 {
		return 0, formatErr("header length is zero")
	}
	if n > MaxHeaderLen {
		return 0, formatErr("header length %d exceeds the %d-byte limit", n, MaxHeaderLen)
	}
	if int64(n) > fileSize-8 {
		return 0, formatErr("header length %d runs past the end of the %d-byte file (truncated?)", n, fileSize)
	}
	return int64(n), nil
}

// ParseHeader parses the header at the start of a safetensors file. b must
// hold at least the 8-byte length prefix and the JSON header; fileSize is the
// size of the whole file, against which every tensor's offsets are checked.
// Hostile input yields a *FormatError, never a panic.
func ParseHeader(b []byte, fileSize int64) (*Header, error) {
	n, err := HeaderLen(b, fileSize)
	if err != nil {
		return nil, err
	}
	if int64(len(b)) < 8+n {
		return nil, formatErr("have %d bytes of an %d-byte header", len(b)-8, n)
	}
	h := &Header{DataStart: 8 + n}
	if err := h.parseJSON(b[8:8+n], fileSize-8-n); err != nil {
		return nil, err
	}
	return h, nil
}

func (h *Header) parseJSON(js []byte, dataSize int64) error {
	dec := json.NewDecoder(bytes.NewReader(js))
	tok, err := dec.Token()
	if err != nil {
		return formatErr("header is not JSON: %v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return formatErr("header is not a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return formatErr("header is not JSON: %v", err)
		}
		name, _ := tok.(string) // object keys are always strings
		if seen[name] {
			return formatErr("header names %q twice", name)
		}
		seen[name] = true
		if name == metadataKey {
			var md map[string]string
			if err := dec.Decode(&md); err != nil {
				return formatErr("__metadata__ is not an object of strings: %v", err)
			}
			h.Metadata = md
			continue
		}
		var e entry
		if err := dec.Decode(&e); err != nil {
			return formatErr("tensor %q: %v", name, err)
		}
		ti, err := e.validate(name, dataSize)
		if err != nil {
			return err
		}
		h.Tensors = append(h.Tensors, ti)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return formatErr("header is not JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return formatErr("header has data after its JSON object")
	}
	slices.SortFunc(h.Tensors, func(a, b TensorInfo) int {
		if c := compareInt64(a.Begin, b.Begin); c != 0 {
			return c
		}
		if c := compareInt64(a.End, b.End); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	var prev *TensorInfo
	for i := range h.Tensors {
		t := &h.Tensors[i]
		if t.Begin == t.End {
			continue // empty tensors occupy no bytes and cannot overlap
		}
		if prev != nil && t.Begin < prev.End {
			return formatErr("tensors %q and %q overlap", prev.Name, t.Name)
		}
		prev = t
	}
	return nil
}

func compareInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// validate checks one entry against the data area size; all arithmetic is
// overflow-checked.
func (e entry) validate(name string, dataSize int64) (TensorInfo, error) {
	bad := func(format string, args ...any) (TensorInfo, error) {
		return TensorInfo{}, formatErr("tensor %q: "+format, append([]any{name}, args...)...)
	}
	if name == "" {
		return bad("empty name")
	}
	if e.DType == nil || e.Shape == nil || e.DataOffsets == nil {
		return bad("needs dtype, shape and data_offsets")
	}
	dt := DType(*e.DType)
	if !dt.Valid() {
		return bad("unknown dtype %q", *e.DType)
	}
	offs := *e.DataOffsets
	if len(offs) != 2 {
		return bad("data_offsets has %d values, want 2", len(offs))
	}
	begin, end := offs[0], offs[1]
	if begin < 0 || end < begin {
		return bad("bad data_offsets [%d, %d]", begin, end)
	}
	if end > dataSize {
		return bad("data_offsets [%d, %d] run past the %d-byte data area (truncated?)", begin, end, dataSize)
	}
	count := uint64(1)
	shape := make([]int, len(*e.Shape))
	for i, d := range *e.Shape {
		if d < 0 {
			return bad("negative dimension %d", d)
		}
		hi, lo := bits.Mul64(count, uint64(d))
		if hi != 0 || lo > math.MaxInt64 {
			return bad("shape %v overflows", *e.Shape)
		}
		count = lo
		if d > math.MaxInt {
			return bad("dimension %d too large for this platform", d)
		}
		shape[i] = int(d)
	}
	hi, nbytes := bits.Mul64(count, uint64(dt.Size()))
	if hi != 0 || nbytes != uint64(end-begin) {
		return bad("shape %v of %s needs %d bytes but data_offsets [%d, %d] span %d", *e.Shape, dt, count*uint64(dt.Size()), begin, end, end-begin)
	}
	return TensorInfo{Name: name, DType: dt, Shape: shape, Begin: begin, End: end}, nil
}
