package live

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxListLine)
	var out []Model
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var m Model
		if err := json.Unmarshal(line, &m); err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrListing, n, err)
		}
		if m.Name == "" {
			return nil, fmt.Errorf("%w: line %d has no model name", ErrListing, n)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrListing, err)
	}
	return out, nil
}

// HasCapability reports whether the model lists capability c.
func (m Model) HasCapability(c string) bool {
	for _, have := range m.Capabilities {
		if have == c {
			return true
		}
	}
	return false
}
