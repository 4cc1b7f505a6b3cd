package live

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Model is one record of `mlxk list --jsonl` (docs/json-api.md): what the
// production command knows about a cached model.
type Model struct {
	Name              string   `json:"name"`
	Hash              string   `json:"hash"`
	SizeBytes         int64    `json:"size_bytes"`
	Framework         string   `json:"framework"`
	ModelType         string   `json:"model_type"`
	Capabilities      []string `json:"capabilities"`
	Health            string   `json:"health"`
	RuntimeCompatible bool     `json:"runtime_compatible"`
	Reason            *string  `json:"reason"`
}

// ErrListing marks output of `mlxk list --jsonl` that is not what the
// JSON API promises.
var ErrListing = errors.New("unexpected mlxk list output")

// maxListLine bounds one record; model objects are a few hundred bytes.
const maxListLine = 1 << 20

// ParseList reads the JSON lines of `mlxk list --jsonl`: one model object
// per non-blank line, each with at least a name.
func ParseList(r io.Reader) ([]Model, error) {
	var out []Model
	err := eachJSONLine(r, maxListLine, ErrListing, func(n int, line []byte) error {
		var m Model
		if err := json.Unmarshal(line, &m); err != nil {
			return fmt.Errorf("%w: line %d: %v", ErrListing, n, err)
		}
		if m.Name == "" {
			return fmt.Errorf("%w: line %d has no model name", ErrListing, n)
		}
		out = append(out, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachJSONLine calls fn with every non-blank line of r (trimmed) and its
// 1-based number, lines up to maxLine bytes; it stops at fn's first error
// and returns it. A read error (a line too long, say) comes back wrapped
// in kind, as fn's own errors are.
func eachJSONLine(r io.Reader, maxLine int, kind error, fn func(n int, line []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if err := fn(n, line); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%w: %v", kind, err)
	}
	return nil
}

// HasCapability reports whether the model lists capability c.
func (m Model) HasCapability(c string) bool {
	return slices.Contains(m.Capabilities, c)
}
