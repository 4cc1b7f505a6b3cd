// Package mlxconvert converts a float model folder into MLX's format as
// mlx-lm's convert does: every Linear/Embedding weight quantized with MLX's
// affine scheme (uint32 .weight plus .scales and .biases), everything else
// cast to the target float dtype, weights written as MLX safetensors shards
// with an index, and config.json carrying "quantization" and
// "quantization_config". The test-model generator uses the same code, so
// the files the engine's tests read are the files the convert verb writes.
package mlxconvert

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/mlxk/mlxk/shared/floatx"
	"github.com/mlxk/mlxk/shared/quant"
	"github.com/mlxk/mlxk/shared/safetensors"
)

// ErrAlreadyQuantized is matched by the error for a source that already
// holds quantized weights (or a quantization config) when asked to quantize.
var ErrAlreadyQuantized = errors.New("model is already quantized")

// ErrTargetExists is matched when the target folder exists and is not empty.
var ErrTargetExists = errors.New("target folder exists and is not empty")

// ErrInvalidOptions is matched for unsupported options (bits, group size,
// dtype, overrides naming no module).
var ErrInvalidOptions = errors.New("invalid conversion options")

// QuantParams are per-module quantization parameters. Bits == 0 keeps the
// module in float (written as false in the config, as mlx-lm reads it).
type QuantParams struct {
	GroupSize int
	Bits      int
}

// Options control a conversion.
type Options struct {
	// Bits is the global bit width (2, 3, 4, 5, 6, 8); 0 only casts.
	Bits int
	// GroupSize is the global group size (32, 64, 128); 0 means 64.
	GroupSize int
	// DType is the float type of unquantized tensors and of scales and biases:
	// "float32", "bfloat16", "float16", or "" for the config's torch_dtype
	// (else each tensor keeps its own type), as mlx-lm does.
	DType string
	// Overrides give per-module parameters keyed by module path (the weight
	// name without ".weight"), as mixed-precision recipes write them.
	Overrides map[string]QuantParams
	// MaxShardBytes is the shard budget (0 = 5 GiB, as mlx-lm).
	MaxShardBytes int64
	// Shards, when > 0, asks for exactly that many balanced shards instead.
	Shards int
}

// Result reports what a conversion wrote.
type Result struct {
	Files           []string // weight files and index, then config.json, then copied files
	DType           string   // target dtype ("" when tensors kept their own)
	Quantized       []string // module paths quantized
	Unquantized     []string // 2-D weights left in float, with the reason: "path (reason)"
	TotalSize       int64    // bytes of tensor data
	TotalParameters int64    // as mlx-lm counts: quantized weights unpacked
}

// Source is a set of named tensors; *safetensors.Model is one.
type Source interface {
	Names() []string
	Tensor(name string) (safetensors.Tensor, bool)
}

// DTypeOf maps a config dtype name (float32, bfloat16, float16) to its
// safetensors type.
func DTypeOf(name string) (safetensors.DType, bool) {
	switch name {
	case "float32":
		return safetensors.F32, true
	case "bfloat16":
		return safetensors.BF16, true
	case "float16":
		return safetensors.F16, true
	}
	return "", false
}

func (o Options) normalized() (Options, error) {
	if o.GroupSize == 0 {
		o.GroupSize = 64
	}
	if o.Bits != 0 {
		if err := quant.CheckParams(o.GroupSize, o.Bits); err != nil {
			return o, fmt.Errorf("%w: %v", ErrInvalidOptions, err)
		}
	}
	if _, ok := DTypeOf(o.DType); o.DType != "" && !ok {
		return o, fmt.Errorf("%w: dtype %q (want float32, bfloat16 or float16)", ErrInvalidOptions, o.DType)
	}
	for path, p := range o.Overrides {
		if o.Bits == 0 {
			return o, fmt.Errorf("%w: per-module override for %q without quantization", ErrInvalidOptions, path)
		}
		if p.Bits != 0 {
			if err := quant.CheckParams(p.GroupSize, p.Bits); err != nil {
				return o, fmt.Errorf("%w: override for %q: %v", ErrInvalidOptions, path, err)
			}
		}
	}
	return o, nil
}

// Convert converts the model folder srcDir into dstDir, which must not exist
// or be empty. The result appears at dstDir only when complete: it is built
// in a temporary sibling folder and renamed. Files other than weights and
// config.json (tokenizer files, generation_config.json, chat templates,
// README...) are copied.
func Convert(srcDir, dstDir string, opts Options) (*Result, error) {
	if entries, err := os.ReadDir(dstDir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s: %w", dstDir, ErrTargetExists)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("convert: %w", err)
	}
	cfgBytes, err := os.ReadFile(filepath.Join(srcDir, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	cfg, err := ParseConfig(cfgBytes)
	if err != nil {
		return nil, fmt.Errorf("convert: %s: %w", filepath.Join(srcDir, "config.json"), err)
	}
	src, err := safetensors.OpenModel(srcDir)
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	defer src.Close()

	parent := filepath.Dir(filepath.Clean(dstDir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dstDir)+".partial-")
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	res, err := Write(tmp, src, cfg, opts)
	if err != nil {
		return nil, err
	}
	copied, err := copyOtherFiles(srcDir, tmp)
	if err != nil {
		return nil, err
	}
	res.Files = append(res.Files, copied...)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	os.Remove(dstDir) // an empty target folder is replaced
	if err := os.Rename(tmp, dstDir); err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	ok = true
	return res, nil
}

// isWeightFile reports files Convert never copies: weights in any format,
// the shard index and the config it rewrites.
func isWeightFile(name string) bool {
	switch name {
	case "config.json", safetensors.IndexName, "pytorch_model.bin.index.json":
		return true
	}
	for _, ext := range []string{".safetensors", ".bin", ".pt", ".pth", ".gguf", ".h5", ".msgpack", ".ckpt", ".onnx", ".npz"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// copyOtherFiles copies the top-level regular files (following symlinks, as
// in a hub cache snapshot) that are not weights; hidden files and folders
// are skipped.
func copyOtherFiles(srcDir, dstDir string) ([]string, error) {
	entries, err := os.ReadDir(srcDir)
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	var copied []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || isWeightFile(name) {
			continue
		}
		st, err := os.Stat(filepath.Join(srcDir, name))
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		if name == "README.md" && st.Size() <= maxCardBytes {
			b, err := os.ReadFile(filepath.Join(srcDir, name))
			if err != nil {
				return nil, fmt.Errorf("convert: %w", err)
			}
			if err := os.WriteFile(filepath.Join(dstDir, name), MarkCardMLX(b), 0o644); err != nil {
				return nil, fmt.Errorf("convert: %w", err)
			}
		} else if err := copyFile(filepath.Join(srcDir, name), filepath.Join(dstDir, name)); err != nil {
			return nil, err
		}
		copied = append(copied, name)
	}
	if !slices.Contains(copied, "README.md") {
		if err := os.WriteFile(filepath.Join(dstDir, "README.md"), MarkCardMLX(nil), 0o644); err != nil {
			return nil, fmt.Errorf("convert: %w", err)
		}
		copied = append(copied, "README.md")
	}
	return copied, nil
}

// maxCardBytes bounds the model card rewritten in memory; a larger one is
// copied as it is.
const maxCardBytes = 16 << 20

// MarkCardMLX returns the model card with library_name: mlx in its YAML
// front matter (replacing another library_name, adding front matter when
// there is none), as mlx-lm's converter marks its output: list, show and
// health tell MLX models by it. An empty card becomes front matter alone.
func MarkCardMLX(card []byte) []byte {
	const line = "library_name: mlx"
	text := strings.ReplaceAll(string(card), "\r\n", "\n")
	if rest, ok := strings.CutPrefix(text, "---\n"); ok {
		if end := strings.Index(rest, "\n---"); end >= 0 || strings.HasPrefix(rest, "---") {
			if end < 0 {
				end = -1 // empty front matter: "---\n---"
			}
			var fm []string
			if end > 0 {
				fm = strings.Split(rest[:end], "\n")
			}
			replaced := false
			for i, l := range fm {
				if strings.HasPrefix(l, "library_name:") {
					fm[i], replaced = line, true
				}
			}
			if !replaced {
				fm = append([]string{line}, fm...)
			}
			tail := rest[max(end, 0):]
			if end < 0 {
				tail = "\n" + rest
			}
			return []byte("---\n" + strings.Join(fm, "\n") + tail)
		}
	}
	return []byte("---\n" + line + "\n---\n" + text)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("convert: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("convert: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("convert: copy %s: %w", filepath.Base(src), err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("convert: copy %s: %w", filepath.Base(src), err)
	}
	return nil
}

// plan is what happens to one source tensor.
type plan struct {
	src    safetensors.Tensor
	module string
	params QuantParams // Bits != 0: quantize
	dtype  safetensors.DType
}

// Write converts the tensors of src with cfg into dstDir (which must exist
// and hold no weights), writing the weight files, the index and config.json.
// cfg is updated in place.
func Write(dstDir string, src Source, cfg *Config, opts Options) (*Result, error) {
	opts, err := opts.normalized()
	if err != nil {
		return nil, err
	}
	names := src.Names()
	if opts.Bits != 0 {
		if cfg.Has("quantization") || cfg.Has("quantization_config") {
			return nil, fmt.Errorf("config.json has a quantization entry: %w", ErrAlreadyQuantized)
		}
		for _, n := range names {
			if strings.HasSuffix(n, ".scales") {
				return nil, fmt.Errorf("tensor %s: %w", n, ErrAlreadyQuantized)
			}
		}
	}
	target := opts.DType
	if target == "" {
		for _, key := range []string{"torch_dtype", "dtype"} {
			if _, ok := DTypeOf(cfg.String(key)); ok {
				target = cfg.String(key)
				break
			}
		}
	}
	res := &Result{DType: target}

	plans := make([]plan, 0, len(names))
	modules := map[string]bool{}
	for _, n := range names {
		t, ok := src.Tensor(n)
		if !ok {
			return nil, fmt.Errorf("convert: tensor %s vanished", n)
		}
		p := plan{src: t, dtype: t.DType}
		if t.DType.IsFloat() && target != "" {
			p.dtype, _ = DTypeOf(target)
		} else if t.DType == safetensors.F64 && target == "" {
			return nil, fmt.Errorf("convert: tensor %s is F64; give a target dtype", n)
		}
		if module, ok := strings.CutSuffix(n, ".weight"); ok {
			modules[module] = true
			if opts.Bits != 0 {
				p.module = module
				p.params = quantParamsFor(module, t, opts, res)
			}
		}
		plans = append(plans, p)
	}
	for path := range opts.Overrides {
		if !modules[path] {
			return nil, fmt.Errorf("%w: override for %q, which is not a module of this model", ErrInvalidOptions, path)
		}
	}

	q := &quantCache{}
	var pending []safetensors.Pending
	for _, p := range plans {
		pending = append(pending, p.outputs(q)...)
		if p.params.Bits != 0 {
			res.Quantized = append(res.Quantized, p.module)
		}
	}
	slices.SortFunc(pending, func(a, b safetensors.Pending) int { return strings.Compare(a.Name, b.Name) })
	for _, p := range plans {
		res.TotalParameters += p.parameters()
	}
	for _, p := range pending {
		res.TotalSize += p.Size()
	}

	files, err := safetensors.WriteModel(dstDir, pending, safetensors.ModelOptions{
		MaxShardBytes:   opts.MaxShardBytes,
		Shards:          opts.Shards,
		Metadata:        map[string]string{"format": "mlx"},
		TotalParameters: res.TotalParameters,
	})
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	res.Files = files

	if opts.Bits != 0 {
		qc := NewConfig()
		qc.Append("group_size", opts.GroupSize)
		qc.Append("bits", opts.Bits)
		qc.Append("mode", "affine")
		for _, path := range slices.Sorted(maps.Keys(opts.Overrides)) {
			o := opts.Overrides[path]
			if o.Bits == 0 {
				qc.Append(path, false)
				continue
			}
			oc := NewConfig()
			oc.Append("group_size", o.GroupSize)
			oc.Append("bits", o.Bits)
			oc.Append("mode", "affine")
			qc.Append(path, oc)
		}
		cfg.Set("quantization", qc)
		cfg.Set("quantization_config", qc)
	}
	if opts.DType != "" && cfg.Has("torch_dtype") {
		cfg.Set("torch_dtype", opts.DType)
	}
	cb, err := cfg.Marshal()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dstDir, "config.json"), cb, 0o644); err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	res.Files = append(res.Files, "config.json")
	return res, nil
}

// quantParamsFor decides whether weight t of module is quantized and how,
// recording the reason when it is not.
func quantParamsFor(module string, t safetensors.Tensor, opts Options, res *Result) QuantParams {
	p := QuantParams{GroupSize: opts.GroupSize, Bits: opts.Bits}
	if o, ok := opts.Overrides[module]; ok {
		p = o
	}
	skip := func(reason string) QuantParams {
		res.Unquantized = append(res.Unquantized, module+" ("+reason+")")
		return QuantParams{}
	}
	last := module[strings.LastIndexByte(module, '.')+1:]
	switch {
	case len(t.Shape) != 2:
		return QuantParams{} // norms, biases, convolutions: never quantized
	case strings.Contains(last, "norm"):
		return QuantParams{}
	case !t.DType.IsFloat():
		return skip("dtype " + string(t.DType))
	case p.Bits == 0:
		return skip("kept by override")
	case t.Shape[1]%p.GroupSize != 0 || t.Shape[0] == 0:
		return skip(fmt.Sprintf("input dimension %d not a multiple of group size %d", t.Shape[1], p.GroupSize))
	}
	return p
}

// parameters counts the tensor as mlx-lm's get_total_parameters does:
// quantized weights at their unpacked size, scales and biases not at all.
func (p plan) parameters() int64 {
	return int64(p.src.NumElements())
}

// outputs lists the tensors written for p.
func (p plan) outputs(q *quantCache) []safetensors.Pending {
	t := p.src
	if p.params.Bits == 0 {
		return []safetensors.Pending{{Name: t.Name, DType: p.dtype, Shape: t.Shape, Load: func() ([]byte, error) { return cast(t, p.dtype) }}}
	}
	rows, cols := t.Shape[0], t.Shape[1]
	gs, bits := p.params.GroupSize, p.params.Bits
	groups := []int{rows, cols / gs}
	get := func(part int) func() ([]byte, error) {
		return func() ([]byte, error) {
			return q.get(p.module, part, func() ([3][]byte, error) { return quantize(t, gs, bits, p.dtype) })
		}
	}
	return []safetensors.Pending{
		{Name: p.module + ".weight", DType: safetensors.U32, Shape: []int{rows, quant.RowWords(cols, bits)}, Load: get(0)},
		{Name: p.module + ".scales", DType: p.dtype, Shape: groups, Load: get(1)},
		{Name: p.module + ".biases", DType: p.dtype, Shape: groups, Load: get(2)},
	}
}

// cast converts a tensor's bytes to dtype (no copy when it already is).
func cast(t safetensors.Tensor, dtype safetensors.DType) ([]byte, error) {
	if t.DType == dtype {
		return t.Data, nil
	}
	f, err := t.Float32s()
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	return safetensors.EncodeFloats(f, dtype), nil
}

// roundTo returns the rounding a value undergoes when stored as dtype.
func roundTo(dtype safetensors.DType) func(float32) float32 {
	switch dtype {
	case safetensors.BF16:
		return floatx.RoundBF16
	case safetensors.F16:
		return floatx.RoundF16
	}
	return func(f float32) float32 { return f }
}

// quantize casts t to dtype first (as mlx-lm casts the model before
// quantizing), quantizes with float32 arithmetic and stores scales and
// biases in dtype, as MLX does. Large matrices are split by rows across
// the available CPUs; rows are independent, so the result is the same.
func quantize(t safetensors.Tensor, gs, bits int, dtype safetensors.DType) ([3][]byte, error) {
	w, err := t.Float32s()
	if err != nil {
		return [3][]byte{}, fmt.Errorf("convert: %w", err)
	}
	round := roundTo(dtype)
	for i := range w {
		w[i] = round(w[i])
	}
	rows, cols := t.Shape[0], t.Shape[1]
	rw, groups := quant.RowWords(cols, bits), quant.Groups(cols, gs)
	packed := make([]uint32, rows*rw)
	scales := make([]float32, rows*groups)
	biases := make([]float32, rows*groups)
	workers := min(runtime.GOMAXPROCS(0), max(1, rows*cols/(1<<20)))
	chunk := (rows + workers - 1) / workers
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for i := range workers {
		r0, r1 := min(i*chunk, rows), min((i+1)*chunk, rows)
		if r0 == r1 {
			continue
		}
		wg.Go(func() {
			p, s, b, err := quant.QuantizeRounded(w[r0*cols:r1*cols], r1-r0, cols, gs, bits, round)
			if err != nil {
				errs[i] = err
				return
			}
			copy(packed[r0*rw:], p)
			copy(scales[r0*groups:], s)
			copy(biases[r0*groups:], b)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return [3][]byte{}, fmt.Errorf("convert: %s: %w", t.Name, err)
	}
	return [3][]byte{quant.WordsToBytes(packed), safetensors.EncodeFloats(scales, dtype), safetensors.EncodeFloats(biases, dtype)}, nil
}

// quantCache holds the three outputs of the module being written, so the
// weight, scales and biases of one module are computed once; it keeps one
// module at a time (the writer asks for them consecutively).
type quantCache struct {
	module string
	parts  [3][]byte
	taken  [3]bool
}

func (c *quantCache) get(module string, part int, compute func() ([3][]byte, error)) ([]byte, error) {
	if c.module != module || c.taken[part] {
		parts, err := compute()
		if err != nil {
			return nil, err
		}
		c.module, c.parts, c.taken = module, parts, [3]bool{}
	}
	out := c.parts[part]
	c.taken[part] = true
	c.parts[part] = nil
	if c.taken == [3]bool{true, true, true} {
		c.module = ""
	}
	return out, nil
}
