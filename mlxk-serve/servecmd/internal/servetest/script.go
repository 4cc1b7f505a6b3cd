package servetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mlxk/mlxk/shared/engine"
)

// ScriptBackend is an engine.Backend whose models answer every prompt with
// a fixed reply over the byte vocabulary, then the end token (byte 0). A
// random model cannot be made to write <think> or <tool_call> markup, and
// runs too fast to catch in the middle of a generation; this backend does
// both, so the server's handling of such output, of queues, cancellation
// and shutdown can be tested through the real Batcher and HTTP stack.
type ScriptBackend struct {
	// Reply is what the model writes after the prompt.
	Reply string
	// Repeat writes Reply over and over instead of ending.
	Repeat bool
	// Marker is the text the prompt ends with (default "<|assistant|>").
	Marker string
	// Step is slept in every forward pass.
	Step time.Duration
	// LoadDelay is slept in Load; LoadErr, when set, is what Load returns.
	LoadDelay time.Duration
	LoadErr   error
	// Forwards counts forward passes (may be nil).
	Forwards *atomic.Int64
	// FailAfter > 0 fails a forward pass that feeds a sequence after its
	// first FailAfter passes (a generation that breaks mid-stream).
	FailAfter int64
}

// Name implements engine.Backend.
func (b ScriptBackend) Name() string { return "script" }

// Estimate implements engine.Backend with the native estimate of the
// folder's weights.
func (b ScriptBackend) Estimate(dir string) (engine.Estimate, error) {
	return engine.Native{}.Estimate(dir)
}

// Load implements engine.Backend; the folder's weights are not read.
func (b ScriptBackend) Load(ctx context.Context, dir string, opts engine.LoadOptions) (engine.Model, error) {
	if b.Marker == "" {
		b.Marker = "<|assistant|>"
	}
	select {
	case <-time.After(b.LoadDelay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if b.LoadErr != nil {
		return nil, b.LoadErr
	}
	return &scriptModel{b: b}, nil
}

// EOS is the script models' end token.
const EOS = 0

type scriptModel struct{ b ScriptBackend }

func (m *scriptModel) Info() engine.Info {
	return engine.Info{ModelType: "llama", Vocab: 256, ContextLength: 256, EOS: []int32{EOS}, Quantization: "script"}
}

func (m *scriptModel) NewSequence() engine.Sequence { return &scriptSeq{} }

func (m *scriptModel) Close() error { return nil }

func (m *scriptModel) Forward(ctx context.Context, steps []engine.Step) ([][]float32, error) {
	if m.b.Forwards != nil {
		m.b.Forwards.Add(1)
	}
	for _, st := range steps {
		seq := st.Seq.(*scriptSeq)
		if seq.forwards++; m.b.FailAfter > 0 && seq.forwards > m.b.FailAfter {
			return nil, errors.New("scripted failure")
		}
	}
	if m.b.Step > 0 {
		select {
		case <-time.After(m.b.Step):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	out := make([][]float32, len(steps))
	for i, st := range steps {
		seq := st.Seq.(*scriptSeq)
		seq.toks = append(seq.toks, st.Tokens...)
		logits := make([]float32, 256)
		first, second := m.next(seq.toks)
		logits[second] = 50
		logits[first] = 100
		out[i] = logits
	}
	return out, nil
}

// next scores the bytes that may follow the history: the reply continues
// after the last marker. When the output strayed from the reply
// (constrained decoding forced other bytes) the model prefers to resume
// from the longest start of the reply the output ends with, and as a
// second choice continues the reply by position.
func (m *scriptModel) next(toks []int32) (first, second int) {
	b := make([]byte, len(toks))
	for i, t := range toks {
		b[i] = byte(t)
	}
	s := string(b)
	i := strings.LastIndex(s, m.b.Marker)
	if i < 0 || m.b.Reply == "" {
		return EOS, EOS
	}
	out := s[i+len(m.b.Marker):]
	reply := m.b.Reply
	if m.b.Repeat {
		c := int(reply[len(out)%len(reply)])
		return c, c
	}
	at := func(k int) int {
		if k >= len(reply) {
			return EOS
		}
		return int(reply[k])
	}
	k := min(len(out), len(reply))
	for k > 0 && !strings.HasSuffix(out, reply[:k]) {
		k--
	}
	return at(k), at(len(out))
}

type scriptSeq struct {
	toks     []int32
	forwards int64
}

func (s *scriptSeq) Len() int       { return len(s.toks) }
func (s *scriptSeq) Truncate(n int) { s.toks = s.toks[:min(n, len(s.toks))] }
func (s *scriptSeq) Bytes() int64   { return int64(len(s.toks)) * 4 }
func (s *scriptSeq) Clone(n int) engine.Sequence {
	return &scriptSeq{toks: slices.Clone(s.toks[:min(n, len(s.toks))])}
}
