// Package engine is the seam between the commands that run models (run,
// serve) and the code that computes them. A Backend loads a model folder
// into a Model that turns token ids into logits for batches of sequences;
// Generate drives one sequence from prompt to finished text on any Model.
// The native backend computes in pure Go; another runner (for example
// MLX on Apple Silicon) can implement the same interfaces without
// touching the commands.
package engine

import (
	"context"
	"errors"

	"github.com/mlxk/mlxk/shared/engine/model"
)

// ErrTooLarge reports a model whose estimated memory exceeds the budget a
// caller set.
var ErrTooLarge = errors.New("model does not fit in memory")

// Backend loads models.
type Backend interface {
	// Name identifies the backend in logs and --verbose output.
	Name() string
	// Estimate reports what loading dir would cost, without loading it.
	Estimate(dir string) (Estimate, error)
	// Load prepares dir for running.
	Load(ctx context.Context, dir string, opts LoadOptions) (Model, error)
}

// LoadOptions tune loading.
type LoadOptions struct {
	// Threads is the number of compute goroutines (0: GOMAXPROCS).
	Threads int
	// MemoryLimit refuses models whose estimate for ContextTokens exceeds
	// it (0: no limit). The error wraps ErrTooLarge.
	MemoryLimit   int64
	ContextTokens int
}

// Estimate is the memory a model needs.
type Estimate struct {
	WeightBytes     int64 // weights as stored (mapped, not copied)
	KVBytesPerToken int64 // KV cache growth per token of one sequence
	ScratchBytes    int64 // activations of one decode step
}

// Total is the memory for one sequence of n tokens.
func (e Estimate) Total(n int) int64 {
	return e.WeightBytes + e.ScratchBytes + e.KVBytesPerToken*int64(n)
}

// Info describes a loaded model.
type Info struct {
	ModelType     string
	Vocab         int
	ContextLength int     // max_position_embeddings, 0 when unknown
	EOS           []int32 // end-of-sequence ids from config.json
	BOS           []int32
	Estimate      Estimate
	Quantization  string // "4bit g64", "bfloat16", ...
}

// Recycler is a Model that can reuse the memory of the logits a Forward
// call returned: a caller done reading them hands them back, and a decode
// loop stops leaving a vocabulary's worth of garbage per token.
type Recycler interface {
	Recycle(logits [][]float32)
}

// Model computes logits. Forward calls may come from several goroutines;
// implementations serialize or batch them.
type Model interface {
	Info() Info
	NewSequence() Sequence
	// Forward appends each step's tokens to its sequence and returns the
	// logits of the last token of each step (all tokens with AllLogits).
	Forward(ctx context.Context, steps []Step) ([][]float32, error)
	Close() error
}

// Pooling picks the hidden states an embedding is made of.
type Pooling = model.Pooling

// The poolings an Embedder offers.
const (
	PoolLast = model.PoolLast
	PoolMean = model.PoolMean
)

// Embedder is a Model that also returns hidden states: per input, the
// final hidden state (after the last norm) pooled over its tokens, the
// vector embedding models are trained to produce. Each input is read
// from an empty context.
type Embedder interface {
	Embed(ctx context.Context, inputs [][]int32, pool Pooling) ([][]float32, error)
}

// Step is one sequence's part of a forward batch.
type Step struct {
	Seq       Sequence
	Tokens    []int32
	AllLogits bool
}

// Sequence is the state of one token sequence (its KV cache).
type Sequence interface {
	// Len is the number of tokens the sequence holds.
	Len() int
	// Truncate keeps the first n tokens.
	Truncate(n int)
	// Clone copies the first n tokens into an independent sequence.
	Clone(n int) Sequence
	// Bytes is the memory the sequence holds.
	Bytes() int64
}
