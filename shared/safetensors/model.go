package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// IndexName is the shard index file mlx-lm and transformers write.
const IndexName = "model.safetensors.index.json"

// maxIndexLen bounds the index file read into memory (real ones are < 1 MB).
const maxIndexLen = 64 << 20

// Index is model.safetensors.index.json.
type Index struct {
	// Metadata is the "metadata" object (mlx-lm: total_size, total_parameters).
	Metadata map[string]any `json:"metadata"`
	// WeightMap maps each tensor name to the shard file holding it.
	WeightMap map[string]string `json:"weight_map"`
}

// ReadIndex reads and validates an index file: weight_map present, and every
// shard name a plain file name in the same folder.
func ReadIndex(path string) (*Index, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxIndexLen+1))
	if err != nil {
		return nil, fmt.Errorf("safetensors: read %s: %w", path, err)
	}
	idx, err := ParseIndex(b)
	if err != nil {
		return nil, withPath(err, path)
	}
	return idx, nil
}

// ParseIndex parses index JSON (see ReadIndex).
func ParseIndex(b []byte) (*Index, error) {
	if len(b) > maxIndexLen {
		return nil, formatErr("index is larger than %d bytes", maxIndexLen)
	}
	var idx Index
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&idx); err != nil {
		return nil, formatErr("index is not valid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, formatErr("index has data after its JSON object")
	}
	if idx.WeightMap == nil {
		return nil, formatErr("index has no weight_map")
	}
	for name, file := range idx.WeightMap {
		if file == "" || filepath.Base(file) != file || file == "." || file == ".." || strings.ContainsAny(file, `/\`) {
			return nil, formatErr("weight_map sends %q to %q, not a file name in the model folder", name, file)
		}
	}
	return &idx, nil
}

// Model is the set of safetensors files of one model folder.
type Model struct {
	dir    string
	files  []*File
	byName map[string]int // tensor name -> index into files
}

// OpenModel opens the weights of the model in dir. With an index file, the
// files its weight_map names are opened and every mapped tensor must be in
// the file the map names; otherwise every model*.safetensors is opened, as
// mlx-lm does. A tensor present in two files is an error.
func OpenModel(dir string) (*Model, error) {
	var names []string
	var idx *Index
	switch _, err := os.Stat(filepath.Join(dir, IndexName)); {
	case err == nil:
		idx, err = ReadIndex(filepath.Join(dir, IndexName))
		if err != nil {
			return nil, err
		}
		names = slices.Sorted(maps.Values(idx.WeightMap))
		names = slices.Compact(names)
	case errors.Is(err, fs.ErrNotExist):
		matches, err := filepath.Glob(filepath.Join(dir, "model*.safetensors"))
		if err != nil {
			return nil, fmt.Errorf("safetensors: %w", err)
		}
		for _, m := range matches {
			names = append(names, filepath.Base(m))
		}
		slices.Sort(names)
	default:
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("safetensors: no model*.safetensors in %s: %w", dir, fs.ErrNotExist)
	}
	m := &Model{dir: dir, byName: map[string]int{}}
	fileIdx := map[string]int{}
	for _, name := range names {
		f, err := Open(filepath.Join(dir, name))
		if err != nil {
			m.Close()
			return nil, err
		}
		fileIdx[name] = len(m.files)
		m.files = append(m.files, f)
		for _, t := range f.header.Tensors {
			if prev, dup := m.byName[t.Name]; dup {
				m.Close()
				return nil, &FormatError{Path: dir, Reason: fmt.Sprintf("tensor %q is in both %s and %s", t.Name, filepath.Base(m.files[prev].path), name)}
			}
			m.byName[t.Name] = fileIdx[name]
		}
	}
	if idx != nil {
		for tensor, file := range idx.WeightMap {
			if got, ok := m.byName[tensor]; !ok || got != fileIdx[file] {
				m.Close()
				return nil, &FormatError{Path: filepath.Join(dir, IndexName), Reason: fmt.Sprintf("weight_map puts %q in %s, which does not hold it", tensor, file)}
			}
		}
	}
	return m, nil
}

// Dir is the folder the model was opened from.
func (m *Model) Dir() string { return m.dir }

// Populate populates every file's mapping (see File.Populate).
func (m *Model) Populate() {
	for _, f := range m.files {
		f.Populate()
	}
}

// Release releases b in whichever file holds it (see File.Release).
func (m *Model) Release(b []byte) {
	for _, f := range m.files {
		f.Release(b)
	}
}

// Files lists the paths of the opened safetensors files, sorted.
func (m *Model) Files() []string {
	out := make([]string, len(m.files))
	for i, f := range m.files {
		out[i] = f.path
	}
	return out
}

// Names lists every tensor name, sorted.
func (m *Model) Names() []string { return slices.Sorted(maps.Keys(m.byName)) }

// Tensor returns the named tensor; Data aliases a read-only mapping valid
// until Close.
func (m *Model) Tensor(name string) (Tensor, bool) {
	i, ok := m.byName[name]
	if !ok {
		return Tensor{}, false
	}
	return m.files[i].Tensor(name)
}

// Metadata is the __metadata__ of the first file (mlx-lm writes
// {"format": "mlx"} into every shard).
func (m *Model) Metadata() map[string]string {
	if len(m.files) == 0 {
		return nil
	}
	return m.files[0].Metadata()
}

// Close releases every file; tensors obtained from the model become invalid.
func (m *Model) Close() error {
	var errs []error
	for _, f := range m.files {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}
