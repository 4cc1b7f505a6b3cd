package constrain

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mlxk/mlxk/shared/engine"
	"github.com/mlxk/mlxk/shared/tokenizer"
)

// Vocab is a vocabulary as bytes, in a trie for masking.
type Vocab struct {
	bytes [][]byte // per token id; nil: a special token, never part of JSON
	nodes []trieNode
}

type trieNode struct {
	b           byte
	first, next int32 // first child, next sibling (-1: none)
	tok         int32 // token ending here, -1 if none
}

// NewVocab reads the bytes of every token of tok, for a model whose
// logits have size n.
func NewVocab(tok *tokenizer.Tokenizer, n int) *Vocab {
	v := &Vocab{bytes: make([][]byte, n), nodes: []trieNode{{first: -1, next: -1, tok: -1}}}
	byteLevel := isByteLevel(tok)
	for id := range n {
		s, ok := tok.Token(id)
		if !ok || s == "" {
			continue
		}
		// Special tokens (<|im_end|>, <s>) decode to nothing when skipped.
		if tok.Decode([]int{id}, true) == "" {
			continue
		}
		var b []byte
		if byteLevel {
			b = fromAlphabet(s)
		} else {
			b = fromPieces(s)
		}
		if len(b) > 0 {
			v.bytes[id] = b
			v.insert(b, int32(id))
		}
	}
	return v
}

// isByteLevel tells GPT-2 style byte-level vocabularies (a space is "Ġ")
// from SentencePiece ones (a space is "▁", odd bytes are <0xNN>).
func isByteLevel(tok *tokenizer.Tokenizer) bool {
	_, g := tok.TokenID("Ġ")
	_, c := tok.TokenID("Ċ")
	return g || c
}

func fromAlphabet(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		b, ok := tokenizer.ByteLevelByte(r)
		if !ok {
			return nil // an added token outside the byte alphabet
		}
		out = append(out, b)
	}
	return out
}

func fromPieces(s string) []byte {
	if len(s) == 6 && strings.HasPrefix(s, "<0x") && s[5] == '>' {
		if v, err := strconv.ParseUint(s[3:5], 16, 8); err == nil {
			return []byte{byte(v)}
		}
	}
	if !utf8.ValidString(s) {
		return nil
	}
	return []byte(strings.ReplaceAll(s, "▁", " "))
}

func (v *Vocab) insert(b []byte, id int32) {
	cur := int32(0)
	for _, c := range b {
		next := int32(-1)
		for ch := v.nodes[cur].first; ch >= 0; ch = v.nodes[ch].next {
			if v.nodes[ch].b == c {
				next = ch
				break
			}
		}
		if next < 0 {
			next = int32(len(v.nodes))
			v.nodes = append(v.nodes, trieNode{b: c, first: -1, next: v.nodes[cur].first, tok: -1})
			v.nodes[cur].first = next
		}
		cur = next
	}
	v.nodes[cur].tok = id
}

// accepts reports whether s takes token id, leaving s after it.
func (v *Vocab) accepts(s *State, id int32) bool {
	if id < 0 || int(id) >= len(v.bytes) || v.bytes[id] == nil {
		return false
	}
	for _, b := range v.bytes[id] {
		if !s.Advance(b) {
			return false
		}
	}
	return true
}

// allowed marks in dst every token s accepts.
func (v *Vocab) allowed(s State, dst []bool) {
	clear(dst)
	v.walk(0, s, dst)
}

func (v *Vocab) walk(n int32, s State, dst []bool) {
	for ch := v.nodes[n].first; ch >= 0; ch = v.nodes[ch].next {
		t := s
		if !t.Advance(v.nodes[ch].b) {
			continue
		}
		if id := v.nodes[ch].tok; id >= 0 {
			dst[id] = true
		}
		v.walk(ch, t, dst)
	}
}

// ErrStuck reports that no token can continue the output (the model's
// vocabulary cannot spell what the grammar needs).
var ErrStuck = errors.New("constrain: no token continues the JSON")

// Sampler wraps a sampler so that it only picks tokens that keep the
// output valid, and the end token only once the value is complete.
type Sampler struct {
	inner engine.TokenSampler
	vocab *Vocab
	state State
	eos   []int32
	// Gate, when set, holds the constraint off until it returns true
	// for a generated token (the end of a reasoning block).
	gate    func(id int32) bool
	masked  []float32
	allowed []bool
}

// NewSampler constrains inner to grammar g. eos are the end tokens.
func NewSampler(inner engine.TokenSampler, v *Vocab, g *Grammar, eos []int32, gate func(int32) bool) *Sampler {
	return &Sampler{inner: inner, vocab: v, state: g.Start(), eos: eos, gate: gate}
}

// Sample implements engine.TokenSampler. It first samples freely and
// keeps a token the grammar accepts; otherwise it samples again from the
// logits with every refused token masked, which draws from the same
// distribution restricted to the allowed tokens.
func (c *Sampler) Sample(logits []float32, history []int32) (int32, float32, error) {
	if c.gate != nil {
		id, lp, err := c.inner.Sample(logits, history)
		if err == nil && c.gate(id) {
			c.gate = nil
		}
		return id, lp, err
	}
	if !c.state.Done() {
		id, lp, err := c.inner.Sample(logits, history)
		if err != nil {
			return id, lp, err
		}
		if c.take(id) {
			return id, lp, nil
		}
	}
	if cap(c.masked) < len(logits) {
		c.masked = make([]float32, len(logits))
		c.allowed = make([]bool, len(logits))
	}
	masked, allowed := c.masked[:len(logits)], c.allowed[:len(logits)]
	if c.state.Done() {
		clear(allowed) // only the end may follow
	} else {
		c.vocab.allowed(c.state, allowed[:min(len(allowed), len(c.vocab.bytes))])
	}
	if c.state.Accepting() {
		for _, e := range c.eos {
			if int(e) < len(allowed) {
				allowed[e] = true
			}
		}
	}
	any := false
	ninf := float32(math.Inf(-1))
	for i, l := range logits {
		if allowed[i] {
			masked[i], any = l, true
		} else {
			masked[i] = ninf
		}
	}
	if !any {
		return 0, 0, ErrStuck
	}
	id, lp, err := c.inner.Sample(masked, history)
	if err != nil {
		return id, lp, err
	}
	if !c.take(id) {
		return id, lp, ErrStuck // cannot happen: id was allowed
	}
	return id, lp, nil
}

// take advances the state over token id if the grammar accepts it.
func (c *Sampler) take(id int32) bool {
	if slices.Contains(c.eos, id) {
		return c.state.Accepting()
	}
	s := c.state
	if !c.vocab.accepts(&s, id) {
		return false
	}
	c.state = s
	return true
}
