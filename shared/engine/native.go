package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/mlxk/mlxk/shared/engine/kernels"
	"github.com/mlxk/mlxk/shared/engine/model"
	"github.com/mlxk/mlxk/shared/safetensors"
)

// Native is the pure-Go backend.
type Native struct{}

// Name implements Backend.
func (Native) Name() string { return "go" }

// Estimate implements Backend: the weights are the tensor bytes of the
// safetensors files, the KV cache holds keys and values in float32.
func (Native) Estimate(dir string) (Estimate, error) {
	cfg, err := model.ReadConfig(dir)
	if err != nil {
		return Estimate{}, err
	}
	return estimateDir(cfg, dir)
}

// estimateDir sizes the weights from the files' sizes, without reading them.
func estimateDir(cfg *model.Config, dir string) (Estimate, error) {
	files, err := weightFiles(dir)
	if err != nil {
		return Estimate{}, err
	}
	var w int64
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return Estimate{}, err
		}
		w += st.Size()
	}
	return estimateFor(cfg, w), nil
}

func estimateFor(cfg *model.Config, weights int64) Estimate {
	kv := int64(cfg.Layers) * 2 * int64(cfg.KVHeads*cfg.HeadDim) * 4
	act := int64(cfg.Hidden*4+cfg.Heads*cfg.HeadDim*2+cfg.Intermediate*3+cfg.Vocab) * 4
	return Estimate{WeightBytes: weights, KVBytesPerToken: kv, ScratchBytes: act}
}

func weightFiles(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "model*.safetensors"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no model*.safetensors: %w", dir, model.ErrUnsupported)
	}
	return files, nil
}

// Load implements Backend.
func (Native) Load(ctx context.Context, dir string, opts LoadOptions) (Model, error) {
	cfg, err := model.ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	if opts.MemoryLimit > 0 {
		est, err := estimateDir(cfg, dir)
		if err != nil {
			return nil, err
		}
		if need := est.Total(opts.ContextTokens); need > opts.MemoryLimit {
			return nil, fmt.Errorf("%w: needs about %d MB for %d tokens, limit %d MB",
				ErrTooLarge, need>>20, opts.ContextTokens, opts.MemoryLimit>>20)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st, err := safetensors.OpenModel(dir)
	if err != nil {
		return nil, err
	}
	// Fault the weights in now: loading is where a user expects to wait,
	// not the first token.
	st.Populate()
	pool := kernels.NewPool(opts.Threads)
	m, err := model.New(cfg, st, pool)
	if err != nil {
		pool.Close()
		return nil, errors.Join(err, st.Close())
	}
	return &nativeModel{m: m, st: st, pool: pool}, nil
}

type nativeModel struct {
	m    *model.Model
	st   *safetensors.Model
	pool *kernels.Pool
}

func (n *nativeModel) Info() Info {
	c := n.m.Config()
	q := c.TorchDType
	if c.Quant != nil {
		q = fmt.Sprintf("%dbit g%d", c.Quant.Global.Bits, c.Quant.Global.GroupSize)
	}
	return Info{ModelType: c.ModelType, Vocab: c.Vocab, ContextLength: c.MaxPositions,
		EOS: c.EOS, BOS: c.BOS, Estimate: estimateFor(c, n.m.WeightBytes()), Quantization: q}
}

func (n *nativeModel) NewSequence() Sequence { return nativeSeq{n.m.NewCache()} }

func (n *nativeModel) Forward(ctx context.Context, steps []Step) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	in := make([]model.Input, len(steps))
	for i, s := range steps {
		seq, ok := s.Seq.(nativeSeq)
		if !ok {
			return nil, fmt.Errorf("forward: sequence %d belongs to another backend", i)
		}
		in[i] = model.Input{Cache: seq.c, Tokens: s.Tokens, AllLogits: s.AllLogits}
	}
	return n.m.Forward(in)
}

// Embed implements Embedder: every input in a fresh cache, all in one
// batch.
func (n *nativeModel) Embed(ctx context.Context, inputs [][]int32, pool Pooling) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	in := make([]model.Input, len(inputs))
	for i, toks := range inputs {
		in[i] = model.Input{Cache: n.m.NewCache(), Tokens: toks}
	}
	return n.m.Embed(in, pool)
}

// Recycle implements Recycler.
func (n *nativeModel) Recycle(logits [][]float32) { n.m.Recycle(logits) }

func (n *nativeModel) Close() error {
	n.pool.Close()
	return n.st.Close()
}

type nativeSeq struct{ c *model.Cache }

func (s nativeSeq) Len() int             { return s.c.Len() }
func (s nativeSeq) Truncate(n int)       { s.c.Truncate(n) }
func (s nativeSeq) Clone(n int) Sequence { return nativeSeq{s.c.Clone(n)} }
func (s nativeSeq) Bytes() int64         { return s.c.Bytes() }

// LimitGarbage sets the garbage collector's target to 50% (Go's default
// is 100%) unless the GOGC environment variable chooses one. Commands
// that run models call it once. The weights live outside the Go heap,
// so the heap holds activations, the KV cache and per-token buffers;
// at 100% the runtime lets garbage grow to that size again before
// collecting, which on a 0.5B model is 10% more resident memory for no
// measurable speed (the heap has few pointers to scan).
func LimitGarbage() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
}
