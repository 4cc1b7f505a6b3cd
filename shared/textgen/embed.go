package textgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/mlxk/mlxk/shared/engine"
)

// Embeddings: a decoder's final hidden state, pooled over a text's tokens
// and normalized, is the vector embedding models (Qwen3-Embedding,
// gte-Qwen, e5-mistral) are trained to produce. How to pool and whether to
// normalize is in the model folder's sentence-transformers modules
// (modules.json, 1_Pooling/config.json), as sentence-transformers reads
// them; a folder without them gets last-token pooling, normalized, which
// suits causal models (their last position has read the whole text).

// ErrNoEmbeddings reports a backend whose models return no hidden states.
var ErrNoEmbeddings = errors.New("this backend computes no embeddings")

// Embedding is how a model's embeddings are made.
type Embedding struct {
	Pool      engine.Pooling
	Normalize bool
	// Unsupported names a pooling mode of the folder's configuration this
	// engine does not implement ("" when none): embedding fails with it
	// rather than pooling another way.
	Unsupported string
}

// EmbeddingConfig reads dir's sentence-transformers modules.
func EmbeddingConfig(dir string) Embedding {
	e := Embedding{Pool: engine.PoolLast, Normalize: true}
	b, err := os.ReadFile(filepath.Join(dir, "modules.json"))
	if err != nil {
		return e
	}
	var mods []struct {
		Path string `json:"path"`
		Type string `json:"type"`
	}
	if json.Unmarshal(b, &mods) != nil {
		return e
	}
	e.Normalize = false
	for _, m := range mods {
		switch m.Type {
		case "sentence_transformers.models.Normalize":
			e.Normalize = true
		case "sentence_transformers.models.Pooling":
			var p map[string]any
			if b, err := os.ReadFile(filepath.Join(dir, m.Path, "config.json")); err == nil && json.Unmarshal(b, &p) == nil {
				switch {
				case p["pooling_mode_lasttoken"] == true:
					e.Pool = engine.PoolLast
				case p["pooling_mode_mean_tokens"] == true:
					e.Pool = engine.PoolMean
				default:
					for k, v := range p {
						if v == true && len(k) > len("pooling_mode_") && k[:len("pooling_mode_")] == "pooling_mode_" {
							e.Unsupported = k
						}
					}
				}
			}
		}
	}
	return e
}

// embedBatchTokens bounds the tokens of one engine call: the activations of
// a forward pass grow with the tokens in it.
const embedBatchTokens = 2048

// ContextExceededError reports an input longer than the model's context
// (Input counts from 0).
type ContextExceededError struct{ Input, Tokens, Limit int }

func (e *ContextExceededError) Error() string {
	return fmt.Sprintf("input %d has %d tokens; the model's context is %d", e.Input, e.Tokens, e.Limit)
}

// EmbedTokens returns the embeddings of token sequences (each read from an
// empty context). dims > 0 keeps each vector's first dims values (for
// models trained to allow it, Matryoshka style), normalized again when the
// model normalizes.
func (m *Model) EmbedTokens(ctx context.Context, inputs [][]int32, dims int) ([][]float32, error) {
	emb, ok := m.Engine.(engine.Embedder)
	if !ok {
		return nil, ErrNoEmbeddings
	}
	for i, ids := range inputs {
		if m.ContextLength > 0 && len(ids) > m.ContextLength {
			return nil, &ContextExceededError{Input: i, Tokens: len(ids), Limit: m.ContextLength}
		}
	}
	if m.Embedding.Unsupported != "" {
		return nil, fmt.Errorf("the model's sentence-transformers pooling %s is not supported (last token and mean are)", m.Embedding.Unsupported)
	}
	out := make([][]float32, 0, len(inputs))
	for start := 0; start < len(inputs); {
		end, n := start, 0
		for end < len(inputs) && (end == start || n+len(inputs[end]) <= embedBatchTokens) {
			n += len(inputs[end])
			end++
		}
		vs, err := emb.Embed(ctx, inputs[start:end], m.Embedding.Pool)
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
		start = end
	}
	for i, v := range out {
		if dims > 0 && dims < len(v) {
			v = v[:dims:dims]
		}
		if m.Embedding.Normalize {
			normalize(v)
		}
		out[i] = v
	}
	return out, nil
}

// EncodeForEmbedding tokenizes a text as sentence-transformers does: with
// the tokenizer's special tokens (an embedding model's tokenizer appends
// the end token its last-token pooling reads).
func (m *Model) EncodeForEmbedding(text string) []int32 {
	return m.Tok.EncodeIDs(text, true)
}

func normalize(v []float32) {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	if ss == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(ss))
	for i := range v {
		v[i] *= inv
	}
}
