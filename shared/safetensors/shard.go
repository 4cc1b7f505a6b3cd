package safetensors

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/mlxk/mlxk/shared/pyjson"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// DefaultShardBytes is mlx-lm's shard budget (5 GiB).
const DefaultShardBytes = 5 << 30

// ModelOptions controls WriteModel.
type ModelOptions struct {
	// MaxShardBytes is the data budget per file (0 = DefaultShardBytes).
	// A tensor larger than the budget gets a file of its own.
	MaxShardBytes int64
	// Metadata goes into every file's __metadata__ (mlx-lm: {"format": "mlx"}).
	Metadata map[string]string
	// Shards, when > 0, asks for exactly that many files of balanced size
	// (the smallest budget that yields no more than Shards files); it
	// overrides MaxShardBytes and fails when the tensors cannot fill them.
	Shards int
	// TotalParameters, when > 0, is written to the index metadata as
	// total_parameters (mlx-lm counts quantized weights unpacked).
	TotalParameters int64
}

// WriteModel writes tensors into dir as mlx-lm's save_model does: split in
// the given order into files of at most MaxShardBytes of data, named
// model.safetensors when one file suffices and model-0000i-of-0000N.safetensors
// otherwise, plus model.safetensors.index.json (always, as mlx-lm) with
// metadata total_size (and total_parameters) and the weight_map sorted by
// tensor name, indented by 4 spaces as Python's json.dump(indent=4).
// It returns the file names written, index last. dir must exist; existing
// weight files in it are an error.
func WriteModel(dir string, tensors []Pending, opts ModelOptions) ([]string, error) {
	budget := opts.MaxShardBytes
	if budget <= 0 {
		budget = DefaultShardBytes
	}
	var total int64
	for _, p := range tensors {
		total += p.Size()
	}
	if opts.Shards > 0 {
		lo, hi := int64(1), max(total, 1)
		for lo < hi { // smallest budget giving at most opts.Shards files
			mid := lo + (hi-lo)/2
			if len(splitShards(tensors, mid)) <= opts.Shards {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		budget = lo
	}
	shards := splitShards(tensors, budget)
	if opts.Shards > 0 && len(shards) != opts.Shards {
		return nil, fmt.Errorf("safetensors: %d tensors cannot fill %d shards", len(tensors), opts.Shards)
	}
	names := make([]string, len(shards))
	for i := range shards {
		if len(shards) == 1 {
			names[i] = "model.safetensors"
		} else {
			names[i] = fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, len(shards))
		}
	}
	for _, n := range append(slices.Clone(names), IndexName) {
		if _, err := os.Lstat(filepath.Join(dir, n)); !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("safetensors: %s already exists in %s", n, dir)
		}
	}
	// Validate the whole set (names unique across shards) before writing.
	if _, err := EncodeHeader(tensors, nil); err != nil {
		return nil, err
	}
	weightMap := map[string]string{}
	for i, shard := range shards {
		if err := writeFilePending(filepath.Join(dir, names[i]), shard, opts.Metadata); err != nil {
			return nil, err
		}
		for _, p := range shard {
			weightMap[p.Name] = names[i]
		}
	}
	idx := encodeIndex(total, opts.TotalParameters, weightMap)
	if err := writeFileAtomic(filepath.Join(dir, IndexName), func(w io.Writer) error { _, err := w.Write(idx); return err }); err != nil {
		return nil, err
	}
	return append(names, IndexName), nil
}

// splitShards splits tensors in order, starting a new shard when the next
// tensor would take the current one past budget (as mlx-lm's make_shards,
// except that it never leaves an empty shard).
func splitShards(tensors []Pending, budget int64) [][]Pending {
	var shards [][]Pending
	var cur []Pending
	var curSize int64
	for _, p := range tensors {
		size := p.Size()
		if len(cur) > 0 && curSize+size > budget {
			shards = append(shards, cur)
			cur, curSize = nil, 0
		}
		cur = append(cur, p)
		curSize += size
	}
	return append(shards, cur)
}

// encodeIndex renders the index as Python's json.dump(obj, f, indent=4)
// does: ", " never appears (indent mode uses "," line ends and ": "),
// non-ASCII escaped as \uXXXX, no trailing newline.
func encodeIndex(totalSize, totalParams int64, weightMap map[string]string) []byte {
	var b bytes.Buffer
	b.WriteString("{\n    \"metadata\": {\n        \"total_size\": ")
	b.WriteString(strconv.FormatInt(totalSize, 10))
	if totalParams > 0 {
		b.WriteString(",\n        \"total_parameters\": ")
		b.WriteString(strconv.FormatInt(totalParams, 10))
	}
	b.WriteString("\n    },\n    \"weight_map\": {")
	keys := slices.Sorted(maps.Keys(weightMap))
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n        ")
		b.Write(pyjson.AppendString(nil, k))
		b.WriteString(": ")
		b.Write(pyjson.AppendString(nil, weightMap[k]))
	}
	if len(keys) > 0 {
		b.WriteString("\n    ")
	}
	b.WriteString("}\n}")
	return b.Bytes()
}
