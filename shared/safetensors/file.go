package safetensors

import (
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"unsafe"
)

// File is an open safetensors file whose tensors alias a read-only mapping
// of the file (or an in-memory copy where mapping is unavailable).
type File struct {
	path    string
	header  *Header
	data    []byte // the whole file
	mapped  bool   // data is a file mapping
	byName  map[string]int
	release func() error
}

// Open maps path read-only and validates its header. The tensors' Data stay
// valid until Close.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, &FormatError{Path: path, Reason: "not a regular file"}
	}
	size := st.Size()
	if size > math.MaxInt {
		return nil, &FormatError{Path: path, Reason: "file too large for this platform"}
	}
	// Validate the length prefix before mapping, so an empty or truncated
	// file gets a format error rather than a mapping error.
	var prefix [8]byte
	if _, err := f.ReadAt(prefix[:], 0); err != nil && size >= 8 {
		return nil, fmt.Errorf("safetensors: %s: %w", path, err)
	}
	if _, err := HeaderLen(prefix[:], size); err != nil {
		return nil, withPath(err, path)
	}
	data, release, mapped, err := mapFile(f, size)
	if err != nil {
		return nil, fmt.Errorf("safetensors: map %s: %w", path, err)
	}
	h, err := ParseHeader(data, size)
	if err != nil {
		release()
		return nil, withPath(err, path)
	}
	byName := make(map[string]int, len(h.Tensors))
	for i, t := range h.Tensors {
		byName[t.Name] = i
	}
	return &File{path: path, header: h, data: data, mapped: mapped, byName: byName, release: release}, nil
}

// Populate reads the file's pages in and maps them now, so the first
// forward pass does not fault on every page of the weights (what a
// runner pays once at load instead of in its time to first token).
func (f *File) Populate() { populate(f.data) }

// Release tells the file that the caller no longer reads b, a part of
// one of its tensors (for instance weights it has copied into another
// layout): where the file is mapped, the pages wholly inside b leave the
// process's memory; they are read again from disk if touched. Bytes that
// are not the file's are ignored. Safe for concurrent use.
func (f *File) Release(b []byte) {
	if !f.mapped || len(b) == 0 || len(f.data) == 0 {
		return
	}
	lo := uintptr(unsafe.Pointer(&f.data[0]))
	p := uintptr(unsafe.Pointer(&b[0]))
	if p < lo || p+uintptr(len(b)) > lo+uintptr(len(f.data)) {
		return
	}
	dontNeed(b)
}

// readAll reads size bytes of f into memory.
func readAll(f *os.File, size int64) ([]byte, func() error, error) {
	b := make([]byte, size)
	if _, err := io.ReadFull(io.NewSectionReader(f, 0, size), b); err != nil {
		return nil, nil, err
	}
	return b, func() error { return nil }, nil
}

// Path is the path the file was opened with.
func (f *File) Path() string { return f.path }

// Header is the parsed header (tensors in data order). Do not modify it.
func (f *File) Header() *Header { return f.header }

// Metadata is the header's __metadata__ (a copy; nil when absent).
func (f *File) Metadata() map[string]string { return maps.Clone(f.header.Metadata) }

// Names lists the tensor names, sorted.
func (f *File) Names() []string {
	return slices.Sorted(maps.Keys(f.byName))
}

// Tensor returns the named tensor; Data aliases the mapping.
func (f *File) Tensor(name string) (Tensor, bool) {
	i, ok := f.byName[name]
	if !ok || f.data == nil {
		return Tensor{}, false
	}
	return f.tensorAt(i), true
}

// Tensors returns every tensor in data order (none after Close).
func (f *File) Tensors() []Tensor {
	if f.data == nil {
		return nil
	}
	out := make([]Tensor, len(f.header.Tensors))
	for i := range out {
		out[i] = f.tensorAt(i)
	}
	return out
}

func (f *File) tensorAt(i int) Tensor {
	ti := f.header.Tensors[i]
	base := f.header.DataStart
	return Tensor{
		Name:  ti.Name,
		DType: ti.DType,
		Shape: slices.Clone(ti.Shape),
		Data:  f.data[base+ti.Begin : base+ti.End : base+ti.End],
	}
}

// Close releases the mapping; every Tensor.Data from this file becomes
// invalid (touching it may crash the process). Close is idempotent.
func (f *File) Close() error {
	if f.release == nil {
		return nil
	}
	err := f.release()
	f.release, f.data = nil, nil
	return err
}
