package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

func f32bytes(vals ...float32) []byte {
	b := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// fileBytes builds a safetensors file from a raw JSON header and data.
func fileBytes(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

// TestWriteExactBytes pins the byte layout MLX produces: sorted compact
// header, no padding, data back to back in the order given.
func TestWriteExactBytes(t *testing.T) {
	tensors := []Tensor{
		{Name: "b", DType: F32, Shape: []int{2}, Data: f32bytes(1, 2)},
		{Name: "a", DType: U8, Shape: []int{1, 3}, Data: []byte{7, 8, 9}},
		{Name: "c", DType: BF16, Shape: []int{}, Data: []byte{0x80, 0x3F}},
	}
	var buf bytes.Buffer
	if err := Write(&buf, tensors, map[string]string{"format": "mlx"}); err != nil {
		t.Fatal(err)
	}
	header := `{"__metadata__":{"format":"mlx"},` +
		`"a":{"data_offsets":[8,11],"dtype":"U8","shape":[1,3]},` +
		`"b":{"data_offsets":[0,8],"dtype":"F32","shape":[2]},` +
		`"c":{"data_offsets":[11,13],"dtype":"BF16","shape":[]}}`
	want := fileBytes(header, append(append(f32bytes(1, 2), 7, 8, 9), 0x80, 0x3F))
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("written bytes\n%q\nwant\n%q", buf.Bytes(), want)
	}
	buf.Reset()
	if err := Write(&buf, tensors[1:2], nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `{"__metadata__":null,"a":`) {
		t.Errorf("empty metadata not written as null: %q", buf.String())
	}
}

func TestWriteRejects(t *testing.T) {
	cases := map[string][]Tensor{
		"size mismatch": {{Name: "x", DType: F32, Shape: []int{3}, Data: f32bytes(1, 2)}},
		"unknown dtype": {{Name: "x", DType: "F12", Shape: []int{1}, Data: []byte{1}}},
		"duplicate":     {{Name: "x", DType: U8, Shape: []int{1}, Data: []byte{1}}, {Name: "x", DType: U8, Shape: []int{1}, Data: []byte{1}}},
		"reserved name": {{Name: "__metadata__", DType: U8, Shape: []int{1}, Data: []byte{1}}},
		"empty name":    {{Name: "", DType: U8, Shape: []int{1}, Data: []byte{1}}},
		"negative dim":  {{Name: "x", DType: U8, Shape: []int{-1}, Data: nil}},
		"invalid utf8":  {{Name: "x\xff", DType: U8, Shape: []int{1}, Data: []byte{1}}},
	}
	for name, ts := range cases {
		if err := Write(&bytes.Buffer{}, ts, nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestJSONEscaping(t *testing.T) {
	got := string(appendJSONString(nil, "a\"b\\c\n\x01é/\x7f"))
	if want := `"a\"b\\c\n\u0001é/` + "\x7f" + `"`; got != want {
		t.Errorf("appendJSONString = %s, want %s", got, want)
	}
}

func TestRoundTripAndViews(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	words := []byte{1, 0, 0, 0, 2, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF}
	tensors := []Tensor{
		{Name: "odd", DType: U8, Shape: []int{1}, Data: []byte{42}}, // puts the next tensor off alignment
		{Name: "w", DType: U32, Shape: []int{3}, Data: words},
		{Name: "h", DType: BF16, Shape: []int{2}, Data: []byte{0x80, 0x3F, 0x00, 0xC0}},
		{Name: "f", DType: F16, Shape: []int{1}, Data: []byte{0x00, 0x3C}},
		{Name: "g", DType: F32, Shape: []int{2}, Data: f32bytes(0.5, -3)},
		{Name: "empty", DType: F32, Shape: []int{0, 4}, Data: nil},
	}
	if err := WriteFile(path, tensors, map[string]string{"format": "mlx"}); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if md := f.Metadata(); md["format"] != "mlx" || len(md) != 1 {
		t.Errorf("metadata %v", md)
	}
	if got, want := f.Names(), []string{"empty", "f", "g", "h", "odd", "w"}; !slices.Equal(got, want) {
		t.Errorf("Names %v", got)
	}
	for _, want := range tensors {
		got, ok := f.Tensor(want.Name)
		if !ok || got.DType != want.DType || !slices.Equal(got.Shape, want.Shape) || !bytes.Equal(got.Data, want.Data) {
			t.Errorf("tensor %s = %+v, want %+v", want.Name, got, want)
		}
	}
	w, _ := f.Tensor("w")
	if uintptr(unsafe.Pointer(&w.Data[0]))%4 == 0 {
		t.Fatalf("test layout should leave w misaligned")
	}
	if got := w.Uint32s(); !slices.Equal(got, []uint32{1, 2, 0xFFFFFFFF}) {
		t.Errorf("Uint32s = %v", got)
	}
	// An aligned tensor gives a view on the same memory.
	backing := make([]uint32, 2) // a byte slice may sit at any address; this one is 4-aligned
	aligned := Tensor{Name: "v", DType: U32, Shape: []int{2}, Data: unsafe.Slice((*byte)(unsafe.Pointer(&backing[0])), 8)}
	binary.LittleEndian.PutUint32(aligned.Data, 7)
	if v := aligned.Uint32s(); v[0] != 7 || unsafe.Pointer(&v[0]) != unsafe.Pointer(&aligned.Data[0]) {
		t.Errorf("aligned Uint32s did not view the data")
	}
	mis := Tensor{Name: "m", DType: BF16, Shape: []int{1}, Data: []byte{0, 0x80, 0x3F}[1:]}
	if got := mis.Uint16s(); !slices.Equal(got, []uint16{0x3F80}) {
		t.Errorf("misaligned Uint16s = %v", got)
	}
	if got := w.Uint16s(); got != nil {
		t.Errorf("Uint16s of U32 = %v, want nil", got)
	}
	for name, want := range map[string][]float32{"h": {1, -2}, "f": {1}, "g": {0.5, -3}, "empty": {}} {
		tt, _ := f.Tensor(name)
		got, err := tt.Float32s()
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s Float32s = %v, %v; want %v", name, got, err, want)
		}
	}
	if _, err := w.Float32s(); err == nil {
		t.Error("Float32s of U32 did not fail")
	}
	if got := len(f.Tensors()); got != len(tensors) {
		t.Errorf("Tensors() has %d", got)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Tensor("w"); ok {
		t.Error("Tensor after Close succeeded")
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestParseHeaderRejects(t *testing.T) {
	ok := `{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}`
	data2 := []byte{1, 2}
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"empty file", nil, "shorter than"},
		{"short prefix", []byte{1, 0, 0}, "shorter than"},
		{"zero length", fileBytes("", nil), "zero"},
		{"huge length", binary.LittleEndian.AppendUint64(nil, 1<<62), "limit"},
		{"length past end", binary.LittleEndian.AppendUint64(nil, 100), "past the end"},
		{"max uint64 length", binary.LittleEndian.AppendUint64(nil, math.MaxUint64), "limit"},
		{"not json", fileBytes("{nope", nil), "not JSON"},
		{"not object", fileBytes("[1,2]", nil), "not a JSON object"},
		{"trailing data", fileBytes(ok+"x", data2), "after"},
		{"truncated data", fileBytes(ok, data2[:1]), "past the 1-byte data area"},
		{"missing shape", fileBytes(`{"a":{"dtype":"U8","data_offsets":[0,2]}}`, data2), "needs dtype"},
		{"unknown dtype", fileBytes(`{"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,2]}}`, data2), "unknown dtype"},
		{"negative offset", fileBytes(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[-2,0]}}`, data2), "bad data_offsets"},
		{"reversed offsets", fileBytes(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[2,1]}}`, data2), "bad data_offsets"},
		{"three offsets", fileBytes(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,1,2]}}`, data2), "3 values"},
		{"float offsets", fileBytes(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2.0]}}`, data2), "tensor \"a\""},
		{"huge offset", fileBytes(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,99999999999999999999]}}`, data2), "tensor \"a\""},
		{"size mismatch", fileBytes(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,2]}}`, data2), "needs"},
		{"shape overflow", fileBytes(`{"a":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,0]}}`, data2), "overflows"},
		{"size overflow", fileBytes(`{"a":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,0]}}`, data2), "needs"},
		{"negative dim", fileBytes(`{"a":{"dtype":"U8","shape":[-2],"data_offsets":[0,2]}}`, data2), "negative"},
		{"duplicate", fileBytes(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, data2), "twice"},
		{"overlap", fileBytes(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, data2), "overlap"},
		{"metadata not strings", fileBytes(`{"__metadata__":{"x":1}}`, nil), "__metadata__"},
		{"entry not object", fileBytes(`{"a":[1]}`, nil), "tensor \"a\""},
		{"empty name", fileBytes(`{"":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}`, data2), "empty name"},
	}
	for _, c := range cases {
		_, err := ParseHeader(c.file, int64(len(c.file)))
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		var fe *FormatError
		if !errors.Is(err, ErrInvalid) || !errors.As(err, &fe) {
			t.Errorf("%s: error %v is not a *FormatError matching ErrInvalid", c.name, err)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not mention %q", c.name, err, c.want)
		}
	}
	// Open reports the path and the same class of error for a truncated file.
	dir := t.TempDir()
	p := filepath.Join(dir, "x.safetensors")
	os.WriteFile(p, fileBytes(ok, data2[:1]), 0o644)
	_, err := Open(p)
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Path != p {
		t.Errorf("Open truncated: %v", err)
	}
	os.WriteFile(p, nil, 0o644)
	if _, err := Open(p); !errors.Is(err, ErrInvalid) {
		t.Errorf("Open empty: %v", err)
	}
	if _, err := Open(filepath.Join(dir, "missing")); err == nil || errors.Is(err, ErrInvalid) {
		t.Errorf("Open missing: %v", err)
	}
}

func TestParseHeaderAccepts(t *testing.T) {
	// HF pads headers with spaces; null metadata as MLX writes it; holes;
	// empty tensors anywhere.
	h := `{"__metadata__":null,"b":{"dtype":"U8","shape":[1],"data_offsets":[3,4]},"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"e":{"dtype":"F32","shape":[0],"data_offsets":[1,1]}}   `
	file := fileBytes(h, []byte{1, 2, 3, 4})
	hdr, err := ParseHeader(file, int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ti := range hdr.Tensors {
		names = append(names, ti.Name)
	}
	if !slices.Equal(names, []string{"a", "e", "b"}) || hdr.DataStart != int64(8+len(h)) || hdr.Metadata != nil {
		t.Errorf("header %+v", hdr)
	}
}

func writeModel(t *testing.T, dir string, budget int64) []string {
	t.Helper()
	var ts []Tensor
	for _, n := range []string{"model.embed_tokens.weight", "model.layers.0.mlp.up_proj.weight", "model.layers.1.mlp.up_proj.weight", "model.norm.weight"} {
		ts = append(ts, Tensor{Name: n, DType: F32, Shape: []int{2, 2}, Data: f32bytes(1, 2, 3, float32(len(n)))})
	}
	files, err := WriteModel(dir, Ready(ts), ModelOptions{MaxShardBytes: budget, Metadata: map[string]string{"format": "mlx"}, TotalParameters: 16})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestWriteModelShardsAndOpen(t *testing.T) {
	dir := t.TempDir()
	files := writeModel(t, dir, 32) // two 16-byte tensors per shard
	want := []string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", IndexName}
	if !slices.Equal(files, want) {
		t.Fatalf("files %v", files)
	}
	idx, err := os.ReadFile(filepath.Join(dir, IndexName))
	if err != nil {
		t.Fatal(err)
	}
	wantIdx := `{
    "metadata": {
        "total_size": 64,
        "total_parameters": 16
    },
    "weight_map": {
        "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
        "model.layers.0.mlp.up_proj.weight": "model-00001-of-00002.safetensors",
        "model.layers.1.mlp.up_proj.weight": "model-00002-of-00002.safetensors",
        "model.norm.weight": "model-00002-of-00002.safetensors"
    }
}`
	if string(idx) != wantIdx {
		t.Errorf("index:\n%s\nwant:\n%s", idx, wantIdx)
	}
	m, err := OpenModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if len(m.Names()) != 4 || len(m.Files()) != 2 || m.Metadata()["format"] != "mlx" {
		t.Errorf("model names %v files %v md %v", m.Names(), m.Files(), m.Metadata())
	}
	tt, ok := m.Tensor("model.norm.weight")
	if v, _ := tt.Float32s(); !ok || !slices.Equal(v, []float32{1, 2, 3, 17}) {
		t.Errorf("norm = %v", v)
	}
	if _, ok := m.Tensor("lm_head.weight"); ok {
		t.Error("found absent tensor")
	}
	if _, err := WriteModel(dir, nil, ModelOptions{}); err == nil {
		t.Error("WriteModel over an existing model succeeded")
	}

	// One shard is model.safetensors, with an index as mlx-lm writes.
	one := t.TempDir()
	if got := writeModel(t, one, 0); !slices.Equal(got, []string{"model.safetensors", IndexName}) {
		t.Errorf("single shard files %v", got)
	}
	// Without the index, the files are globbed.
	os.Remove(filepath.Join(dir, IndexName))
	m2, err := OpenModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(m2.Names()) != 4 {
		t.Errorf("globbed names %v", m2.Names())
	}
	m2.Close()
}

func TestOpenModelRejects(t *testing.T) {
	setup := func(t *testing.T) string {
		dir := t.TempDir()
		writeModel(t, dir, 32)
		return dir
	}
	writeIndex := func(dir, s string) {
		os.WriteFile(filepath.Join(dir, IndexName), []byte(s), 0o644)
	}
	cases := map[string]func(dir string){
		"missing shard": func(dir string) {
			os.Remove(filepath.Join(dir, "model-00002-of-00002.safetensors"))
		},
		"wrong shard": func(dir string) {
			writeIndex(dir, `{"weight_map":{"model.norm.weight":"model-00001-of-00002.safetensors"}}`)
		},
		"absent tensor": func(dir string) {
			writeIndex(dir, `{"weight_map":{"nope":"model-00001-of-00002.safetensors"}}`)
		},
		"traversal": func(dir string) {
			writeIndex(dir, `{"weight_map":{"model.norm.weight":"../x.safetensors"}}`)
		},
		"no weight_map": func(dir string) { writeIndex(dir, `{"metadata":{}}`) },
		"bad json":      func(dir string) { writeIndex(dir, `{"weight_map":`) },
		"duplicate across shards": func(dir string) {
			os.Remove(filepath.Join(dir, IndexName))
			b, _ := os.ReadFile(filepath.Join(dir, "model-00001-of-00002.safetensors"))
			os.WriteFile(filepath.Join(dir, "model-extra.safetensors"), b, 0o644)
		},
		"corrupt shard": func(dir string) {
			os.WriteFile(filepath.Join(dir, "model-00002-of-00002.safetensors"), []byte("garbage!garbage"), 0o644)
		},
	}
	for name, mutate := range cases {
		dir := setup(t)
		mutate(dir)
		if m, err := OpenModel(dir); err == nil {
			m.Close()
			t.Errorf("%s: accepted", name)
		} else if name != "missing shard" && !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v does not match ErrInvalid", name, err)
		}
	}
	if _, err := OpenModel(t.TempDir()); err == nil {
		t.Error("empty folder accepted")
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add(fileBytes(`{"__metadata__":{"format":"mlx"},"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}`, []byte{1, 2}))
	f.Add(fileBytes(`{"a":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[],"data_offsets":[4,6]}}`, make([]byte, 6)))
	f.Add(fileBytes(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"a":{}}`, []byte{1, 2}))
	f.Add(binary.LittleEndian.AppendUint64(nil, math.MaxUint64))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b, int64(len(b)))
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not match ErrInvalid", err)
			}
			return
		}
		dataSize := int64(len(b)) - h.DataStart
		var prevEnd int64
		seen := map[string]bool{}
		for _, ti := range h.Tensors {
			if seen[ti.Name] {
				t.Fatalf("duplicate %q accepted", ti.Name)
			}
			seen[ti.Name] = true
			if ti.Begin < 0 || ti.End < ti.Begin || ti.End > dataSize {
				t.Fatalf("tensor %q [%d,%d] outside data area %d", ti.Name, ti.Begin, ti.End, dataSize)
			}
			n := int64(ti.DType.Size())
			for _, d := range ti.Shape {
				n *= int64(d)
			}
			if n != ti.End-ti.Begin {
				t.Fatalf("tensor %q size %d for span %d", ti.Name, n, ti.End-ti.Begin)
			}
			if ti.Begin != ti.End {
				if ti.Begin < prevEnd {
					t.Fatalf("overlap at %q", ti.Name)
				}
				prevEnd = ti.End
			}
			// Slicing the data area must be in bounds.
			_ = b[h.DataStart+ti.Begin : h.DataStart+ti.End]
		}
	})
}

func FuzzParseIndex(f *testing.F) {
	f.Add([]byte(`{"metadata":{"total_size":4},"weight_map":{"a":"model-00001-of-00002.safetensors"}}`))
	f.Add([]byte(`{"weight_map":{"a":"../x"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		idx, err := ParseIndex(b)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not match ErrInvalid", err)
			}
			return
		}
		for name, file := range idx.WeightMap {
			if file == "" || strings.ContainsAny(file, `/\`) || file == ".." || file == "." {
				t.Fatalf("%q -> %q accepted", name, file)
			}
		}
	})
}

// TestRelease: releasing a tensor's bytes (pages dropped from a mapping)
// loses nothing, since they are read back from the file when touched, and
// bytes that are not the file's are left alone.
func TestRelease(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	big := make([]byte, 3<<20) // several pages, not page-aligned in the file
	for i := range big {
		big[i] = byte(i*7 + i>>12)
	}
	tensors := []Tensor{
		{Name: "odd", DType: U8, Shape: []int{3}, Data: []byte{1, 2, 3}},
		{Name: "big", DType: U8, Shape: []int{len(big)}, Data: big},
	}
	if err := WriteFile(path, tensors, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tn, _ := f.Tensor("big")
	f.Release(tn.Data[1000 : len(tn.Data)-1000])
	f.Release(tn.Data)
	mine := slices.Clone(big)
	f.Release(mine) // not the file's: must stay untouched
	if !bytes.Equal(tn.Data, big) || !bytes.Equal(mine, big) {
		t.Fatal("bytes changed after Release")
	}
}
