package constrain

import (
	"math"
	"testing"

	"github.com/mlxk/mlxk/shared/engine/sample"
	"github.com/mlxk/mlxk/shared/tokenizer"
	"github.com/mlxk/mlxk/shared/tokenizer/tokentest"
)

// byteVocab is a real byte-level tokenizer's vocabulary: ids 0-255 are the
// bytes, 256 is "<eos>" and 257 the special token `{"a"`, whose text
// looks like JSON but which, being special, is never part of it.
func byteVocab(t *testing.T) (*tokenizer.Tokenizer, *Vocab) {
	t.Helper()
	tok, err := tokenizer.New(tokentest.ByteLevel(tokentest.Added{ID: 256, Content: "<eos>"}, tokentest.Added{ID: 257, Content: `{"a"`}),
		[]byte(`{"eos_token": "<eos>"}`))
	if err != nil {
		t.Fatal(err)
	}
	return tok, NewVocab(tok, 258)
}

// favour returns logits that prefer id above all others.
func favour(id int) []float32 {
	l := make([]float32, 258)
	l[id] = 10
	return l
}

// TestSamplerMasks: the constrained sampler keeps the inner sampler's
// pick when the grammar takes it, else draws from the allowed tokens
// only; the end token is allowed only where the JSON is complete, and is
// the only choice after it; a gate holds the grammar off until it opens.
func TestSamplerMasks(t *testing.T) {
	_, v := byteVocab(t)
	greedy, err := sample.NewSampler(sample.Params{})
	if err != nil {
		t.Fatal(err)
	}
	const eos = 256
	s := NewSampler(greedy, v, JSONObject(), []int32{eos}, nil)
	// The model wants "x" first: refused; of the tokens the grammar
	// takes (whitespace and '{') '{' scores highest.
	logits := favour('x')
	logits['{'] = 1
	if id, _, err := s.Sample(logits, nil); err != nil || id != '{' {
		t.Fatalf("first token %d %v, want '{'", id, err)
	}
	// The end token before the object closes is refused.
	if id, _, err := s.Sample(favour(eos), nil); err != nil || id == eos {
		t.Fatalf("end inside the object: %d %v", id, err)
	}
	// Finish the object: '}' after the whitespace taken above.
	if id, _, err := s.Sample(favour('}'), nil); err != nil || id != '}' {
		t.Fatalf("close %d %v", id, err)
	}
	// Done: only the end follows, whatever the model prefers.
	if id, _, err := s.Sample(favour('a'), nil); err != nil || id != eos {
		t.Fatalf("after the object %d %v, want the end", id, err)
	}

	// A special token is never JSON, whatever its text.
	s = NewSampler(greedy, v, JSONObject(), []int32{eos}, nil)
	if id, _, err := s.Sample(favour(257), nil); err != nil || id == 257 {
		t.Fatalf(`special {"a" token: %d %v`, id, err)
	}

	// A gate: free text until it opens, then JSON.
	open := false
	s = NewSampler(greedy, v, JSONObject(), []int32{eos}, func(id int32) bool { return open })
	if id, _, _ := s.Sample(favour('x'), nil); id != 'x' {
		t.Fatalf("gated sample %d, want the model's own 'x'", id)
	}
	open = true
	s.Sample(favour('x'), nil) // opens the gate; still free
	if id, _, _ := s.Sample(favour('x'), nil); id == 'x' {
		t.Fatal("grammar not applied after the gate opened")
	}

	// Every allowed token impossible by the logits: an error, never a
	// token the grammar refuses.
	s = NewSampler(greedy, v, JSONObject(), []int32{eos}, nil)
	stuck := make([]float32, 258)
	for i := range stuck {
		stuck[i] = float32(math.Inf(-1))
	}
	stuck['x'] = 1
	if id, _, err := s.Sample(stuck, nil); err == nil {
		t.Fatalf("all allowed tokens impossible, yet picked %d", id)
	}
}
