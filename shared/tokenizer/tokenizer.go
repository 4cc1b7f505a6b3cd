package tokenizer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// ErrInvalid marks a tokenizer.json (or tokenizer_config.json) that is not
// well-formed: bad JSON, wrong field types, bad regexes, missing parts.
var ErrInvalid = errors.New("tokenizer: invalid tokenizer.json")

// UnsupportedError names a component of tokenizer.json this package does
// not implement.
type UnsupportedError struct{ Component, Type string }

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("tokenizer.json: unsupported %s type %s", e.Component, e.Type)
}

// byteLevel is the immutable GPT-2 byte <-> rune table.
var byteLevel = newByteLevelTables()

// Tokenizer encodes text to token ids and back.
type Tokenizer struct {
	model *bpeModel

	// tokens maps every id (model vocabulary and added tokens) to its
	// string; holes are "" with has[id] false.
	tokens []string
	has    []bool
	// decodeAs overrides tokens[id] when decoding a normalized added token
	// (its normalized form goes through the decoder, as in the Rust crate).
	decodeAs map[int32]string
	// skip marks ids whose string is a special added token.
	skip []bool

	added      map[string]int32 // added token content -> id
	rawAdded   *addedMatcher    // normalized: false tokens, matched on the input
	normAdded  *addedMatcher    // normalized: true tokens, matched after normalizing
	normalizer normalizer
	pre        preTokenizer
	post       postProcessor
	decoder    decoder

	bos, eos   string
	streamKind streamKind

	work sync.Pool // *encodeWork
}

// Load reads dir/tokenizer.json and, when present, dir/tokenizer_config.json.
func Load(dir string) (*Tokenizer, error) {
	tj, err := os.ReadFile(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		return nil, err
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "tokenizer_config.json"))
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		cfg = nil
	}
	return New(tj, cfg)
}

// New builds a tokenizer from file contents (config may be nil).
func New(tokenizerJSON, tokenizerConfigJSON []byte) (*Tokenizer, error) {
	t, err := build(tokenizerJSON)
	if err != nil {
		return nil, err
	}
	if len(tokenizerConfigJSON) > 0 {
		if err := t.readConfig(tokenizerConfigJSON); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// encodeWork is per-call scratch space.
type encodeWork struct {
	segs   []segment
	subs   []segment
	pieces []piece
	pre    preWork
	bpe    bpeWork
}

// Encode tokenizes text; addSpecialTokens applies the post-processor
// (BOS/EOS templates) as HF's add_special_tokens=True does. Invalid UTF-8
// in text is read as U+FFFD, one per maximal ill-formed subsequence.
func (t *Tokenizer) Encode(text string, addSpecialTokens bool) []int {
	ids := t.EncodeIDs(text, addSpecialTokens)
	out := make([]int, len(ids))
	for i, id := range ids {
		out[i] = int(id)
	}
	return out
}

// EncodeIDs is Encode with the ids as int32, the engine's token type.
func (t *Tokenizer) EncodeIDs(text string, addSpecialTokens bool) []int32 {
	text = validString(text)
	w, _ := t.work.Get().(*encodeWork)
	if w == nil {
		w = &encodeWork{}
	}
	ids := make([]int32, 0, len(text)/3+4)
	w.segs = t.rawAdded.split(w.segs[:0], text)
	for _, seg := range w.segs {
		if seg.tok != nil {
			ids = append(ids, seg.tok.id)
			continue
		}
		s := text[seg.start:seg.end]
		first := seg.start == 0
		if t.normalizer != nil {
			s = t.normalizer.normalize(s)
		}
		if t.normAdded == nil {
			ids = t.encodePiece(ids, piece{s: s, first: first}, w)
			continue
		}
		w.subs = t.normAdded.split(w.subs[:0], s)
		for _, sub := range w.subs {
			if sub.tok != nil {
				ids = append(ids, sub.tok.id)
				continue
			}
			ids = t.encodePiece(ids, piece{s: s[sub.start:sub.end], first: first && sub.start == 0}, w)
		}
	}
	if t.post != nil {
		ids = t.post.process(ids, addSpecialTokens)
	}
	t.work.Put(w)
	return ids
}

// encodePiece pre-tokenizes one piece of normalized text and runs the
// model over the result.
func (t *Tokenizer) encodePiece(ids []int32, p piece, w *encodeWork) []int32 {
	if p.s == "" {
		return ids
	}
	if t.pre == nil {
		return t.model.tokenize(ids, p.s, &w.bpe)
	}
	w.pieces = t.pre.preTokenize(w.pieces[:0], p, &w.pre)
	for _, q := range w.pieces {
		if q.byteLevel {
			ids = t.model.tokenizeByteLevel(ids, q.s, &w.bpe)
		} else {
			ids = t.model.tokenize(ids, q.s, &w.bpe)
		}
	}
	return ids
}

// tokenStrings returns the strings the decoder sees for ids: unknown ids
// are dropped and special tokens too when skipSpecial.
func (t *Tokenizer) tokenStrings(dst []string, ids []int, skipSpecial bool) []string {
	for _, id := range ids {
		if id < 0 || id >= len(t.tokens) || !t.has[id] {
			continue
		}
		if skipSpecial && t.skip[id] {
			continue
		}
		s := t.tokens[id]
		if t.decodeAs != nil {
			if d, ok := t.decodeAs[int32(id)]; ok {
				s = d
			}
		}
		dst = append(dst, s)
	}
	return dst
}

// Decode turns ids back into text; skipSpecialTokens drops special added
// tokens, as HF's decode(skip_special_tokens=...). Unknown ids are
// ignored. No clean_up_tokenization_spaces is applied.
func (t *Tokenizer) Decode(ids []int, skipSpecialTokens bool) string {
	toks := t.tokenStrings(make([]string, 0, len(ids)), ids, skipSpecialTokens)
	return t.decodeStrings(toks)
}

func (t *Tokenizer) decodeStrings(toks []string) string {
	if t.decoder == nil {
		return strings.Join(toks, " ")
	}
	return strings.Join(t.decoder.decodeChain(toks), "")
}

// TokenID returns the id of a token string (added tokens first, then the
// model vocabulary).
func (t *Tokenizer) TokenID(token string) (int, bool) {
	if id, ok := t.added[token]; ok {
		return int(id), true
	}
	if id, ok := t.model.vocab[token]; ok {
		return int(id), true
	}
	return 0, false
}

// Token returns the string of an id.
func (t *Tokenizer) Token(id int) (string, bool) {
	if id < 0 || id >= len(t.tokens) || !t.has[id] {
		return "", false
	}
	return t.tokens[id], true
}

// VocabSize returns the largest id + 1 over the vocabulary and the added
// tokens.
func (t *Tokenizer) VocabSize() int { return len(t.tokens) }

// BOS returns tokenizer_config.json's bos_token, "" when absent.
func (t *Tokenizer) BOS() string { return t.bos }

// EOS returns tokenizer_config.json's eos_token, "" when absent.
func (t *Tokenizer) EOS() string { return t.eos }
