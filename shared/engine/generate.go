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
	// PrefillChunk bounds the tokens of one prefill forward (default 512).
	PrefillChunk int
}

// Token is one generated token and the text it released. Text may be
// empty while a partial character or a possible stop string is held back.
type Token struct {
	ID      int32
	Text    string
	Logprob float32
	Logits  []float32 // the raw logits the token was sampled from
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
	Seq             Sequence // the sequence, holding prompt and output
	// Tail is text released at the end (held-back characters); it was
	// also emitted as a final Token with ID -1.
}

// ErrEmptyPrompt reports a generation without prompt tokens.
var ErrEmptyPrompt = errors.New("empty prompt")

// Generate runs req on m, calling emit for every sampled token in order.
// It returns when an EOS token or stop string appears, MaxTokens are
// generated, emit fails, or ctx is cancelled (then with ctx's error and
// the partial Result).
func Generate(ctx context.Context, m Model, req Request, emit func(Token) error) (Result, error) {
	res := Result{EOSToken: -1, PromptTokens: len(req.Prompt)}
	if len(req.Prompt) == 0 {
		return res, ErrEmptyPrompt
	}
	if req.Sampler == nil || req.Decoder == nil {
		return res, fmt.Errorf("generate: request needs a sampler and a decoder")
	}
	seq := req.Seq
	if seq == nil {
		seq = m.NewSequence()
	}
	res.Seq = seq
	// Reuse cached positions, but always feed at least one prompt token so
	// there are logits to sample from.
	cached := min(seq.Len(), len(req.Prompt)-1)
	seq.Truncate(cached)
	res.CachedTokens = cached
	chunk := req.PrefillChunk
	if chunk <= 0 {
		chunk = 512
	}

	start := time.Now()
	var logits []float32
	for pos := cached; pos < len(req.Prompt); pos += chunk {
		end := min(pos+chunk, len(req.Prompt))
		out, err := m.Forward(ctx, []Step{{Seq: seq, Tokens: req.Prompt[pos:end]}})
		if err != nil {
			res.Prefill = time.Since(start)
			return res, err
		}
		logits = out[0]
	}
	res.Prefill = time.Since(start)

	start = time.Now()
	defer func() { res.Decode = time.Since(start) }()
	stops := stopseq.New(req.Stop)
	history := []int32{req.Prompt[len(req.Prompt)-1]}
	// flush releases held-back text when generation ends for any reason
	// other than a stop string.
	flush := func() error {
		tail, stopped, which := stops.Push(req.Decoder.Flush())
		if !stopped {
			var more string
			more, stopped, which = stops.Flush()
			tail += more
		}
		if stopped {
			res.FinishReason, res.StopString = FinishStop, which
		}
		if tail != "" {
			return emit(Token{ID: -1, Text: tail})
		}
		return nil
	}
	for {
		if res.GeneratedTokens >= req.MaxTokens {
			res.FinishReason = FinishLength
			return res, flush()
		}
		tok, lp, err := req.Sampler.Sample(logits, history)
		if err != nil {
			return res, err
		}
		if slices.Contains(req.EOS, tok) {
			res.FinishReason, res.EOSToken = FinishStop, tok
			return res, flush()
		}
		res.GeneratedTokens++
		history = append(history, tok)
		text, stopped, s := stops.Push(req.Decoder.Add(int(tok)))
		if err := emit(Token{ID: tok, Text: text, Logprob: lp, Logits: logits}); err != nil {
			return res, err
		}
		if stopped {
			res.FinishReason, res.StopString = FinishStop, s
			return res, nil
		}
		if res.GeneratedTokens >= req.MaxTokens {
			continue // no forward for a token nobody will sample after
		}
		out, err := m.Forward(ctx, []Step{{Seq: seq, Tokens: []int32{tok}}})
		if err != nil {
			return res, err
		}
		logits = out[0]
	}
}
