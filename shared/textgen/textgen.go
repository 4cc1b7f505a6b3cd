// Package textgen is what run and serve share above the engine: a model
// folder loaded with its tokenizer and chat template, the set of tokens
// that end a turn, prompt rendering, and generation that yields text.
package textgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mlxk/mlxk/shared/chattemplate"
	"github.com/mlxk/mlxk/shared/engine"
	"github.com/mlxk/mlxk/shared/tokenizer"
)

// Model is a model folder ready to generate text.
type Model struct {
	Dir      string
	Engine   engine.Model
	Tok      *tokenizer.Tokenizer
	Template *chattemplate.Template // nil: the model has no usable template
	// TemplateErr says why Template is nil when a template exists but
	// does not parse.
	TemplateErr error
	// EOS are the token ids that end a turn.
	EOS []int32
	// ContextLength is the model's context window in tokens.
	ContextLength int
	// Embedding is how the model's embeddings are pooled (EmbedTokens).
	Embedding Embedding
	LoadTime  time.Duration
}

// Load reads the tokenizer and template of dir and loads its weights.
func Load(ctx context.Context, b engine.Backend, dir string, opts engine.LoadOptions) (*Model, error) {
	start := time.Now()
	tok, err := tokenizer.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	m := &Model{Dir: dir, Tok: tok, ContextLength: ContextLength(dir), Embedding: EmbeddingConfig(dir)}
	if src, err := chattemplate.Find(dir, false); err == nil {
		m.Template, m.TemplateErr = chattemplate.Parse(src)
	} else if !errors.Is(err, chattemplate.ErrNoTemplate) {
		m.TemplateErr = err
	}
	if m.Engine, err = b.Load(ctx, dir, opts); err != nil {
		return nil, err
	}
	m.EOS = eosSet(dir, m.Engine.Info(), tok)
	m.LoadTime = time.Since(start)
	return m, nil
}

// Close releases the weights.
func (m *Model) Close() error { return m.Engine.Close() }

// eosSet is the union of the ids generation_config.json and config.json
// name, the tokenizer's eos_token, and the common end-of-turn tokens that
// exist as single tokens in this vocabulary (MLX Knife's ADR-009 list plus
// Gemma's <end_of_turn>). <|end|> ends a turn for Phi-3 but only a message
// in gpt-oss's harmony format, so it counts only without harmony channels.
func eosSet(dir string, info engine.Info, tok *tokenizer.Tokenizer) []int32 {
	var out []int32
	add := func(id int32) {
		if id >= 0 && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	for _, id := range info.EOS {
		add(id)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "generation_config.json")); err == nil {
		var gc struct {
			EOS json.RawMessage `json:"eos_token_id"`
		}
		if json.Unmarshal(b, &gc) == nil {
			for _, id := range parseIDs(gc.EOS) {
				add(id)
			}
		}
	}
	single := func(s string) {
		if s == "" {
			return
		}
		if id, ok := tok.TokenID(s); ok {
			add(int32(id))
		}
	}
	single(tok.EOS())
	for _, s := range []string{"</s>", "<|endoftext|>", "<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|return|>"} {
		single(s)
	}
	if _, harmony := tok.TokenID("<|channel|>"); !harmony {
		single("<|end|>")
	}
	return out
}

func parseIDs(raw json.RawMessage) []int32 {
	var one int64
	if json.Unmarshal(raw, &one) == nil {
		return []int32{int32(one)}
	}
	var many []int64
	if json.Unmarshal(raw, &many) == nil {
		out := make([]int32, len(many))
		for i, v := range many {
			out[i] = int32(v)
		}
		return out
	}
	return nil
}

// ContextLength reads the context window from config.json the way MLX
// Knife does (mlxk-spec §7.5): the first positive integer among
// max_position_embeddings, n_positions, context_length,
// max_sequence_length and seq_len, then the same keys in text_config;
// 4096 when none is there.
func ContextLength(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return 4096
	}
	var cfg map[string]any
	if json.Unmarshal(b, &cfg) != nil {
		return 4096
	}
	return ContextLengthOf(cfg)
}

// ContextLengthOf is ContextLength of a config.json already parsed (nil
// when there is none), numbers as float64 or json.Number.
func ContextLengthOf(cfg map[string]any) int {
	keys := []string{"max_position_embeddings", "n_positions", "context_length", "max_sequence_length", "seq_len"}
	find := func(m map[string]any) int {
		for _, k := range keys {
			switch v := m[k].(type) {
			case float64:
				if v > 0 && v == float64(int(v)) {
					return int(v)
				}
			case json.Number:
				if n, err := v.Int64(); err == nil && n > 0 && n <= math.MaxInt32 {
					return int(n)
				}
			case string:
				if n, err := strconv.Atoi(v); err == nil && n > 0 {
					return n
				}
			}
		}
		return 0
	}
	if n := find(cfg); n > 0 {
		return n
	}
	if tc, ok := cfg["text_config"].(map[string]any); ok {
		if n := find(tc); n > 0 {
			return n
		}
	}
	return 4096
}

// Prompt is text ready to tokenize, with how it was made.
type Prompt struct {
	Text string
	// Templated is true when a chat template rendered it; such text already
	// carries its special tokens, so tokenizing adds none.
	Templated bool
}

// ChatOptions are what a rendering adds to the messages.
type ChatOptions struct {
	Kwargs map[string]json.RawMessage // extra template variables
	Tools  json.RawMessage            // the tools the template lists (nil: none)
	// Strict refuses (TemplateRefusedError) instead of falling back to the
	// plain format when the template rejects the conversation
	// (raise_exception), or fails at all while tools were given: a plain
	// prompt would drop them.
	Strict bool
}

// TemplateRefusedError is a strict rendering the template would not do.
type TemplateRefusedError struct{ Err error }

func (e *TemplateRefusedError) Error() string { return e.Err.Error() }
func (e *TemplateRefusedError) Unwrap() error { return e.Err }

// Chat renders a conversation (an OpenAI-style messages array) with the
// model's template, or with MLX Knife's plain fallback when the model has
// none or its template fails (see ChatOptions.Strict).
func (m *Model) Chat(messages json.RawMessage, o ChatOptions) (Prompt, error) {
	if m.Template != nil {
		out, err := m.Template.Render(chattemplate.Request{Messages: messages, AddGenerationPrompt: true,
			BOSToken: m.Tok.BOS(), EOSToken: m.Tok.EOS(), Kwargs: o.Kwargs, Tools: o.Tools})
		if err == nil {
			return Prompt{Text: out, Templated: true}, nil
		}
		var te *chattemplate.TemplateError
		if o.Strict && (errors.As(err, &te) || o.Tools != nil) {
			return Prompt{}, &TemplateRefusedError{Err: err}
		}
	}
	out, err := chattemplate.Plain(messages)
	return Prompt{Text: out}, err
}

// Raw is a prompt used as typed (no template).
func Raw(text string) Prompt { return Prompt{Text: text} }

// Encode tokenizes a prompt. Raw prompts get the tokenizer's special
// tokens (BOS) unless they already start with the BOS text, as mlx-lm does.
func (m *Model) Encode(p Prompt) []int32 {
	special := !p.Templated && (m.Tok.BOS() == "" || !strings.HasPrefix(p.Text, m.Tok.BOS()))
	return m.Tok.EncodeIDs(p.Text, special)
}

// Request is one text generation.
type Request struct {
	Prompt    []int32
	MaxTokens int
	Sampler   engine.TokenSampler
	Stop      []string
	Seq       engine.Sequence
	// IgnoreEOS keeps generating through end-of-turn tokens (benchmarks,
	// or a base model used for continuation).
	IgnoreEOS bool
	// End are more tokens that end this generation, as EOS do (a fill's
	// padding and separators: FIM.End).
	End []int32
	// Lookahead turns on prompt-lookup drafts in Generate
	// (engine.Request.Lookahead).
	Lookahead int
}

// EngineRequest completes r with this model's decoder and end tokens, for
// engine.Generate or an engine.Batcher.
func (m *Model) EngineRequest(r Request) engine.Request {
	req := engine.Request{
		Prompt: r.Prompt, Seq: r.Seq, MaxTokens: r.MaxTokens, Sampler: r.Sampler,
		Decoder: m.Tok.NewStreamDecoder(), EOS: m.EOS, Stop: r.Stop, Lookahead: r.Lookahead,
	}
	switch {
	case r.IgnoreEOS:
		req.EOS = nil
	case len(r.End) > 0:
		req.EOS = append(slices.Clone(m.EOS), r.End...)
	}
	return req
}

// Generate runs a request on its own; emit sees every token with the text
// it released.
func (m *Model) Generate(ctx context.Context, r Request, emit func(engine.Token) error) (engine.Result, error) {
	return engine.Generate(ctx, m.Engine, m.EngineRequest(r), emit)
}
