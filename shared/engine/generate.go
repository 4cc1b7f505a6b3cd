package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mlxk/mlxk/shared/engine/stopseq"
)

// TokenSampler picks the next token from logits; history is the context
// repetition penalties look at (mlx-lm: the last prompt token and the
// tokens generated since).
type TokenSampler interface {
	Sample(logits []float32, history []int32) (token int32, logprob float32, err error)
}

// TextDecoder turns a token stream into text without splitting characters.
type TextDecoder interface {
	Add(id int) string
	Flush() string
}

// Request is one generation.
type Request struct {
	Prompt []int32
	// Seq continues an existing sequence (prompt-cache reuse): its first
	// Seq.Len() tokens must equal Prompt's. Nil starts a new one.
	Seq       Sequence
	MaxTokens int
	Sampler   TokenSampler
	Decoder   TextDecoder
	// EOS ends generation when sampled; the token's text is not emitted.
	EOS []int32
	// Stop strings end generation at their earliest occurrence in the
	// text; the stop string and anything after it are not emitted.
	Stop []string
	// PrefillChunk bounds the tokens of one prefill forward (default 256:
	// as fast as longer chunks, and it bounds the activations' memory).
	PrefillChunk int
	// Lookahead > 0 turns on prompt-lookup decoding in Generate: when the
	// text's last tokens occurred before (in the prompt or the answer),
	// the up to Lookahead tokens that followed them are fed as a draft
	// together with the sampled token, and every draft token the sampler
	// then picks itself is kept. Each kept token is the sampler's own pick
	// from the model's logits, so the output is the output without
	// lookahead; a step costs more than a plain one, so it pays where
	// answers copy from their context (code edits, quotes, summaries).
	Lookahead int
}

// Token is one generated token and the text it released. Text may be
// empty while a partial character or a possible stop string is held back.
type Token struct {
	ID      int32
	Text    string
	Logprob float32
}

// Finish reasons, as OpenAI spells them.
const (
	FinishStop   = "stop"
	FinishLength = "length"
)

// Result summarizes a generation.
type Result struct {
	PromptTokens    int // tokens of the prompt (cached ones included)
	CachedTokens    int // prompt tokens reused from Seq
	GeneratedTokens int
	FinishReason    string
	StopString      string // the stop string that ended it, if any
	EOSToken        int32  // the EOS id that ended it, -1 otherwise
	Prefill         time.Duration
	Decode          time.Duration
	// DraftTokens were fed as prompt-lookup drafts; AcceptedTokens of them
	// were kept (Request.Lookahead).
	DraftTokens, AcceptedTokens int
	// Seq holds the prompt and every generated token but the last (which
	// was never fed back). Text held back until the end is emitted as a
	// final Token with ID -1.
	Seq Sequence
}

// ErrEmptyPrompt reports a generation without prompt tokens.
var ErrEmptyPrompt = errors.New("empty prompt")

// Generate runs req on m, calling emit for every sampled token in order.
// It returns when an EOS token or stop string appears, MaxTokens are
// generated, emit fails, or ctx is cancelled (then with ctx's error and
// the partial Result). It computes one sequence at a time; a Batcher
// shares decode steps between concurrent requests.
func Generate(ctx context.Context, m Model, req Request, emit func(Token) error) (Result, error) {
	if err := req.check(); err != nil {
		return Result{EOSToken: -1}, err
	}
	seq := req.Seq
	if seq == nil {
		seq = m.NewSequence()
	}
	st := newStepper(req, seq)
	chunk := req.PrefillChunk
	if chunk <= 0 {
		chunk = 256
	}
	start := time.Now()
	var out [][]float32
	for pos := st.res.CachedTokens; pos < len(req.Prompt); pos += chunk {
		end := min(pos+chunk, len(req.Prompt))
		recycle(m, out) // an earlier chunk's logits are not needed
		var err error
		if out, err = m.Forward(ctx, []Step{{Seq: seq, Tokens: req.Prompt[pos:end]}}); err != nil {
			st.res.Prefill = time.Since(start)
			return st.res, err
		}
	}
	st.res.Prefill = time.Since(start)
	start = time.Now()
	var look *lookup
	if req.Lookahead > 0 {
		look = newLookup(req.Prompt, req.Lookahead)
	}
	// Each step feeds the token just picked and, with lookahead, a draft
	// after it; base is the sequence's length before the step.
	logits, draft, base := out[0], []int32(nil), 0
	for {
		tok, done, err := st.sampleStep(logits, draft, seq, base, look, emit)
		if err != nil || done {
			st.res.Decode = time.Since(start)
			return st.res, err
		}
		step := []int32{tok}
		if look != nil {
			// No draft past MaxTokens: the context has room for those only.
			step = look.appendDraft(step, req.MaxTokens-st.res.GeneratedTokens)
		}
		base = seq.Len()
		recycle(m, out)
		if out, err = m.Forward(ctx, []Step{{Seq: seq, Tokens: step, AllLogits: len(step) > 1}}); err != nil {
			st.res.Decode = time.Since(start)
			return st.res, err
		}
		logits, draft = out[0], step[1:]
	}
}

// sampleStep picks the next token from the logits of a step. After a
// draft (the step fed a token and draft after it, so logits holds a row
// per fed token) it keeps the draft tokens the sampler picks itself and
// rewinds seq, base long before the step, past the first it does not:
// the pick returned is the token the next step feeds. Generate and the
// Batcher share it, so drafts never change what is generated.
func (st *stepper) sampleStep(logits []float32, draft []int32, seq Sequence, base int, look *lookup, emit func(Token) error) (int32, bool, error) {
	rows := len(draft) + 1
	V := len(logits) / rows
	st.res.DraftTokens += len(draft)
	for r := 0; r < rows; r++ {
		t, done, err := st.next(logits[r*V:(r+1)*V], emit)
		if err != nil || done {
			if rows > 1 {
				seq.Truncate(base + r + 1) // the cache ends with what was fed and kept
			}
			return t, done, err
		}
		if look != nil {
			look.add(t)
		}
		if r == rows-1 {
			return t, false, nil
		}
		if t != draft[r] {
			seq.Truncate(base + r + 1)
			return t, false, nil
		}
		st.res.AcceptedTokens++
	}
	return 0, true, nil // not reached: the last row returns
}

// lookup drafts tokens by prompt lookup: the tokens that followed the
// most recent earlier occurrence of the text's last three tokens (else
// two), in the prompt and the answer so far.
type lookup struct {
	ctx []int32
	max int
}

func newLookup(prompt []int32, max int) *lookup {
	return &lookup{ctx: slices.Clone(prompt), max: max}
}

func (l *lookup) add(t int32) { l.ctx = append(l.ctx, t) }

// appendDraft appends up to min(l.max, limit) drafted tokens to dst.
func (l *lookup) appendDraft(dst []int32, limit int) []int32 {
	k := min(l.max, limit)
	if k <= 0 {
		return dst
	}
	for n := 3; n >= 2; n-- {
		if len(l.ctx) <= n {
			continue
		}
		tail := l.ctx[len(l.ctx)-n:]
		for i := len(l.ctx) - n - 1; i >= 0; i-- {
			if slices.Equal(l.ctx[i:i+n], tail) {
				return append(dst, l.ctx[i+n:min(i+n+k, len(l.ctx))]...)
			}
		}
	}
	return dst
}

// recycle hands logits back to a model that can reuse them (Recycler).
func recycle(m Model, logits [][]float32) {
	if r, ok := m.(Recycler); ok && logits != nil {
		r.Recycle(logits)
	}
}

func (req *Request) check() error {
	if len(req.Prompt) == 0 {
		return ErrEmptyPrompt
	}
	if req.Sampler == nil || req.Decoder == nil {
		return fmt.Errorf("generate: request needs a sampler and a decoder")
	}
	return nil
}

// stepper is the per-sequence decision logic shared by Generate and the
// Batcher: sample from logits, stop on EOS, limits and stop strings, and
// release text.
type stepper struct {
	req     Request
	stops   *stopseq.Matcher
	history []int32
	res     Result
}

// newStepper prepares seq for req: cached positions are reused, but at
// least one prompt token is always fed so there are logits to sample.
func newStepper(req Request, seq Sequence) *stepper {
	cached := min(seq.Len(), len(req.Prompt)-1)
	seq.Truncate(cached)
	return &stepper{req: req, stops: stopseq.New(req.Stop), history: []int32{req.Prompt[len(req.Prompt)-1]},
		res: Result{EOSToken: -1, PromptTokens: len(req.Prompt), CachedTokens: cached, Seq: seq}}
}

// next handles the logits after the last fed token: it emits the sampled
// token and returns it, or reports that generation is done.
func (st *stepper) next(logits []float32, emit func(Token) error) (int32, bool, error) {
	req := &st.req
	if st.res.GeneratedTokens >= req.MaxTokens {
		st.res.FinishReason = FinishLength
		return 0, true, st.flush(emit)
	}
	tok, lp, err := req.Sampler.Sample(logits, st.history)
	if err != nil {
		return 0, true, err
	}
	if slices.Contains(req.EOS, tok) {
		st.res.FinishReason, st.res.EOSToken = FinishStop, tok
		return 0, true, st.flush(emit)
	}
	st.res.GeneratedTokens++
	st.history = append(st.history, tok)
	text, stopped, which := st.stops.Push(req.Decoder.Add(int(tok)))
	if err := emit(Token{ID: tok, Text: text, Logprob: lp}); err != nil {
		return 0, true, err
	}
	if stopped {
		st.res.FinishReason, st.res.StopString = FinishStop, which
		return 0, true, nil
	}
	if st.res.GeneratedTokens >= req.MaxTokens {
		// No forward pass for a token nobody will sample after.
		st.res.FinishReason = FinishLength
		return 0, true, st.flush(emit)
	}
	return tok, false, nil
}

// flush releases held-back text when generation ends for any reason other
// than a stop string; the tail may still complete one.
func (st *stepper) flush(emit func(Token) error) error {
	tail, stopped, which := st.stops.Push(st.req.Decoder.Flush())
	if !stopped {
		var more string
		more, stopped, which = st.stops.Flush()
		tail += more
	}
	if stopped {
		st.res.FinishReason, st.res.StopString = FinishStop, which
	}
	if tail != "" {
		return emit(Token{ID: -1, Text: tail})
	}
	return nil
}
