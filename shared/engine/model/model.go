package model

import (
	"fmt"
	"sync"

	"github.com/mlxk/mlxk/shared/engine/kernels"
)

// Model is a loaded decoder. Forward calls are serialized; a batch passed
// to one call shares every pass over the weights.
type Model struct {
	cfg             *Config
	w               *weights
	pool            *kernels.Pool
	rope, localRope *kernels.Rope

	mu      sync.Mutex // serializes Forward and guards buf, scores and spare
	buf     *scratch   // activations, reused across calls
	bufRows int
	scores  [][]float32 // attention scores, one buffer per worker
	// spare is a logits buffer handed back by Recycle, and last the
	// one the latest Forward returned: a decode loop reuses one buffer
	// instead of leaving the vocabulary's worth of garbage per token.
	spare, last []float32
}

// New binds the weights a configuration needs from src. The pool does
// the parallel parts of every product; nil computes on the caller only.
func New(cfg *Config, src TensorSource, pool *kernels.Pool) (*Model, error) {
	if cfg.TiedUnlessHead {
		_, has := src.Tensor(cfg.WeightPrefix + "lm_head.weight")
		cfg.Tied = !has
	}
	w, err := bind(src, cfg)
	if err != nil {
		return nil, err
	}
	// Repack what the pool's kernels read in another layout now, at load,
	// and let a file-backed source drop the original pages.
	var release func([]byte)
	if r, ok := src.(interface{ Release([]byte) }); ok {
		release = r.Release
	}
	pool.Pack(w.matrices(), release)
	m := &Model{cfg: cfg, w: w, pool: pool, rope: ropeKernel(cfg.Rope)}
	if cfg.LocalRope != nil {
		m.localRope = ropeKernel(*cfg.LocalRope)
	}
	return m, nil
}

func ropeKernel(r RopeSpec) *kernels.Rope {
	return &kernels.Rope{Dims: r.Dims, InvFreq: r.InvFreq, Traditional: r.Traditional, PosScale: r.PosScale, MScale: r.MScale}
}

// Config is the configuration the model runs with.
func (m *Model) Config() *Config { return m.cfg }

// WeightBytes is the size of all bound weights: what one decode step reads.
func (m *Model) WeightBytes() int64 { return m.w.bytes }

// Input is one sequence's share of a forward batch: Tokens are appended to
// Cache, starting at position Cache.Len().
type Input struct {
	Cache  *Cache
	Tokens []int32
	// AllLogits asks for the logits of every token, not just the last.
	AllLogits bool
}

// row is one token of a batch.
type row struct {
	in, pos int
}

// Forward runs the decoder over a batch and returns, per input, the logits
// of its last token (or of all its tokens, row-major, with AllLogits).
// Each input's tokens are added to its cache.
func (m *Model) Forward(inputs []Input) ([][]float32, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.run(inputs)
	if err != nil {
		return nil, err
	}
	return m.logits(inputs, s)
}

// Pooling picks the hidden states an embedding is made of.
type Pooling int

const (
	PoolLast Pooling = iota // the last token's (a causal model's last position has read everything)
	PoolMean                // the mean over all tokens
)

// Embed runs the decoder over a batch and returns, per input, its final
// hidden state (after the last norm, what the LM head reads) pooled over
// its tokens. The inputs' tokens are added to their caches as in Forward.
func (m *Model) Embed(inputs []Input, pool Pooling) ([][]float32, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.run(inputs)
	if err != nil {
		return nil, err
	}
	c := m.cfg
	H := c.Hidden
	out := make([][]float32, len(inputs))
	h := make([]float32, H)
	r := 0
	for i, in := range inputs {
		v := make([]float32, H)
		first := r
		if pool == PoolLast {
			first = r + len(in.Tokens) - 1
		}
		for p := first; p < r+len(in.Tokens); p++ {
			kernels.RMSNorm(h, s.x[p*H:(p+1)*H], m.w.norm, c.NormEps, c.NormPlusOne)
			for j, x := range h {
				v[j] += x
			}
		}
		if n := r + len(in.Tokens) - first; n > 1 {
			inv := 1 / float32(n)
			for j := range v {
				v[j] *= inv
			}
		}
		out[i] = v
		r += len(in.Tokens)
	}
	return out, nil
}

// run is the decoder stack over a batch: it leaves every token's final
// residual stream in the scratch's x rows. m.mu is held.
func (m *Model) run(inputs []Input) (*scratch, error) {
	c := m.cfg
	var rows []row
	for i, in := range inputs {
		if in.Cache == nil || len(in.Tokens) == 0 {
			return nil, fmt.Errorf("forward: input %d has no cache or no tokens", i)
		}
		for j, t := range in.Tokens {
			if t < 0 || int(t) >= c.Vocab {
				return nil, fmt.Errorf("forward: token id %d outside the vocabulary of %d", t, c.Vocab)
			}
			rows = append(rows, row{in: i, pos: in.Cache.Len() + j})
		}
	}
	for _, in := range inputs {
		in.Cache.reserve(in.Cache.Len() + len(in.Tokens))
	}
	n := len(rows)
	H, qd, kvd := c.Hidden, c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	s := m.scratchFor(n)

	r := 0
	for _, in := range inputs {
		for _, t := range in.Tokens {
			x := s.x[r*H : (r+1)*H]
			m.w.embed.Row(x, int(t))
			if c.EmbedScale != 0 {
				for i := range x {
					x[i] *= c.EmbedScale
				}
			}
			r++
		}
	}

	for li := range m.w.layers {
		l := &m.w.layers[li]
		normRows(s.a, s.x, l.inNorm, n, H, c)
		if l.qkv != nil {
			m.apply(l.qkv, s.qkv, s.a, n)
			for i := 0; i < n; i++ {
				src := s.qkv[i*(qd+2*kvd):]
				copy(s.q[i*qd:(i+1)*qd], src[:qd])
				copy(s.k[i*kvd:(i+1)*kvd], src[qd:qd+kvd])
				copy(s.v[i*kvd:(i+1)*kvd], src[qd+kvd:qd+2*kvd])
			}
		} else {
			m.applyFused([]*linear{l.q, l.k, l.v}, [][]float32{s.q, s.k, s.v}, s.a, n)
		}
		rope := m.rope
		if l.sliding && m.localRope != nil {
			rope = m.localRope
		}
		for i, rw := range rows {
			if l.qNorm != nil {
				for h := 0; h < c.Heads; h++ {
					qh := s.q[i*qd+h*c.HeadDim : i*qd+(h+1)*c.HeadDim]
					kernels.RMSNorm(qh, qh, l.qNorm, c.NormEps, c.NormPlusOne)
				}
			}
			rope.ApplyHeads(s.q[i*qd:(i+1)*qd], c.Heads, c.HeadDim, rw.pos)
			if l.kNorm != nil {
				for h := 0; h < c.KVHeads; h++ {
					kh := s.k[i*kvd+h*c.HeadDim : i*kvd+(h+1)*c.HeadDim]
					kernels.RMSNorm(kh, kh, l.kNorm, c.NormEps, c.NormPlusOne)
				}
			}
			rope.ApplyHeads(s.k[i*kvd:(i+1)*kvd], c.KVHeads, c.HeadDim, rw.pos)
			cache := inputs[rw.in].Cache
			copy(cache.k[li][rw.pos*kvd:(rw.pos+1)*kvd], s.k[i*kvd:(i+1)*kvd])
			copy(cache.v[li][rw.pos*kvd:(rw.pos+1)*kvd], s.v[i*kvd:(i+1)*kvd])
		}
		m.attention(li, l.sliding, inputs, rows, s)
		m.apply(l.o, s.a, s.att, n)
		if c.PostNorms {
			normRows(s.a, s.a, l.postAttnNorm, n, H, c)
			addRows(s.x, s.a)
			normRows(s.a, s.x, l.preFFNorm, n, H, c)
		} else {
			addRows(s.x, s.a)
			normRows(s.a, s.x, l.postAttnNorm, n, H, c)
		}
		I := c.Intermediate
		if l.gu != nil {
			m.apply(l.gu, s.gu, s.a, n)
			for i := 0; i < n; i++ {
				copy(s.gate[i*I:(i+1)*I], s.gu[i*2*I:i*2*I+I])
				copy(s.up[i*I:(i+1)*I], s.gu[i*2*I+I:(i+1)*2*I])
			}
		} else {
			m.applyFused([]*linear{l.gate, l.up}, [][]float32{s.gate, s.up}, s.a, n)
		}
		switch c.Act {
		case GeluTanh:
			kernels.GeluTanhMul(s.gate, s.up)
		default:
			kernels.SiLUMul(s.gate, s.up)
		}
		m.apply(l.down, s.a, s.gate, n)
		if c.PostNorms {
			normRows(s.a, s.a, l.postFFNorm, n, H, c)
		}
		addRows(s.x, s.a)
	}
	for _, in := range inputs {
		in.Cache.n += len(in.Tokens)
	}
	return s, nil
}

// logits applies the final norm and the LM head to the rows callers want.
func (m *Model) logits(inputs []Input, s *scratch) ([][]float32, error) {
	c := m.cfg
	H, V := c.Hidden, c.Vocab
	var pick []int
	r := 0
	for _, in := range inputs {
		if in.AllLogits {
			for j := range in.Tokens {
				pick = append(pick, r+j)
			}
		} else {
			pick = append(pick, r+len(in.Tokens)-1)
		}
		r += len(in.Tokens)
	}
	h := make([]float32, len(pick)*H)
	for i, p := range pick {
		kernels.RMSNorm(h[i*H:(i+1)*H], s.x[p*H:(p+1)*H], m.w.norm, c.NormEps, c.NormPlusOne)
	}
	var all []float32
	if need := len(pick) * V; cap(m.spare) >= need {
		all, m.spare = m.spare[:need], nil
	} else {
		all = make([]float32, need)
	}
	m.last = all
	kernels.MatMul(m.pool, m.w.lmHead, all, h, len(pick))
	if c.FinalSoftcap != 0 {
		kernels.Softcap(all, c.FinalSoftcap)
	}
	out := make([][]float32, len(inputs))
	off := 0
	for i, in := range inputs {
		k := 1
		if in.AllLogits {
			k = len(in.Tokens)
		}
		out[i] = all[off*V : (off+k)*V : (off+k)*V]
		off += k
	}
	return out, nil
}

// Recycle hands back the logits of the latest Forward call once the
// caller is done with them; the next call may write into them. Logits of
// older calls are ignored.
func (m *Model) Recycle(logits [][]float32) {
	if len(logits) == 0 || len(logits[0]) == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.last) > 0 && &logits[0][0] == &m.last[0] {
		m.spare, m.last = m.last, nil
	}
}

// apply computes out = x·Wᵀ (+bias) for n rows.
func (m *Model) apply(l *linear, out, x []float32, n int) {
	kernels.MatMul(m.pool, l.W, out, x, n)
	addBias(l, out, n)
}

// applyFused computes outs[j] = x·ls[j].Wᵀ (+bias) for linears sharing
// their input, in one dispatch (the input is quantized once).
func (m *Model) applyFused(ls []*linear, outs [][]float32, x []float32, n int) {
	ws := make([]*kernels.Matrix, len(ls))
	for j, l := range ls {
		ws[j] = l.W
	}
	kernels.MatMulFused(m.pool, ws, outs, x, n)
	for j, l := range ls {
		addBias(l, outs[j], n)
	}
}

func addBias(l *linear, out []float32, n int) {
	if l.Bias != nil {
		rows := l.W.Rows
		for i := 0; i < n; i++ {
			o := out[i*rows : (i+1)*rows]
			for j, b := range l.Bias {
				o[j] += b
			}
		}
	}
}

// attention computes softmax(q·kᵀ·scale)·v for every row and head over the
// row's own cache, causally and within the window on sliding layers.
func (m *Model) attention(li int, sliding bool, inputs []Input, rows []row, s *scratch) {
	c := m.cfg
	D, qd, kvd := c.HeadDim, c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	group := c.Heads / c.KVHeads
	tasks := len(rows) * c.Heads
	parts := min(m.pool.Workers(), tasks)
	if len(m.scores) < parts {
		m.scores = make([][]float32, parts)
	}
	m.pool.Run(parts, func(part int) {
		lo, hi := splitRange(tasks, parts, part)
		scores := m.scores[part]
		defer func() { m.scores[part] = scores }()
		for t := lo; t < hi; t++ {
			i, h := t/c.Heads, t%c.Heads
			rw := rows[i]
			cache := inputs[rw.in].Cache
			start := 0
			if sliding && c.SlidingWindow > 0 {
				start = max(0, rw.pos-c.SlidingWindow+1)
			}
			span := rw.pos + 1 - start
			if cap(scores) < span {
				scores = make([]float32, span, max(span, 256))
			}
			scores = scores[:span]
			q := s.q[i*qd+h*D : i*qd+(h+1)*D]
			kvh := h / group
			keys, vals := cache.k[li], cache.v[li]
			kernels.DotRows(scores, q, keys[start*kvd+kvh*D:], kvd, c.AttnScale)
			if c.AttnSoftcap != 0 {
				kernels.Softcap(scores, c.AttnSoftcap)
			}
			kernels.Softmax(scores)
			out := s.att[i*qd+h*D : i*qd+(h+1)*D]
			clear(out)
			kernels.AddScaledRows(out, scores, vals[start*kvd+kvh*D:], kvd)
		}
	})
}

func splitRange(n, parts, i int) (int, int) {
	lo := n * i / parts
	hi := n * (i + 1) / parts
	return lo, hi
}

func normRows(out, x, w []float32, n, dim int, c *Config) {
	for i := 0; i < n; i++ {
		kernels.RMSNorm(out[i*dim:(i+1)*dim], x[i*dim:(i+1)*dim], w, c.NormEps, c.NormPlusOne)
	}
}

func addRows(x, y []float32) {
	for i := range x {
		x[i] += y[i]
	}
}

// scratch holds the activations of one forward batch.
type scratch struct {
	x, a, q, k, v, att, qkv, gate, up, gu []float32
}

// scratchFor returns activation buffers for n rows, reusing the ones of
// earlier calls (Forward holds m.mu) so decode steps do not allocate and
// a prefill chunk's buffers serve every later step.
func (m *Model) scratchFor(n int) *scratch {
	c := m.cfg
	H, I, qd, kvd := c.Hidden, c.Intermediate, c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	if m.buf == nil || m.bufRows < n {
		m.bufRows = n
		m.buf = &scratch{
			x: make([]float32, n*H), a: make([]float32, n*max(H, qd)),
			q: make([]float32, n*qd), k: make([]float32, n*kvd), v: make([]float32, n*kvd),
			att: make([]float32, n*qd), gate: make([]float32, n*I), up: make([]float32, n*I),
		}
		if c.FusedQKV {
			m.buf.qkv = make([]float32, n*(qd+2*kvd))
		}
		if c.FusedGateUp {
			m.buf.gu = make([]float32, n*2*I)
		}
	}
	b := m.buf
	s := &scratch{x: b.x[:n*H], a: b.a[:n*max(H, qd)], q: b.q[:n*qd], k: b.k[:n*kvd], v: b.v[:n*kvd],
		att: b.att[:n*qd], gate: b.gate[:n*I], up: b.up[:n*I]}
	if b.qkv != nil {
		s.qkv = b.qkv[:n*(qd+2*kvd)]
	}
	if b.gu != nil {
		s.gu = b.gu[:n*2*I]
	}
	return s
}
