package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// rawDoc holds the top-level members of tokenizer.json, with the model's
// vocabulary and merges already read.
type rawDoc struct {
	addedTokens   []byte
	normalizer    []byte
	preTokenizer  []byte
	postProcessor []byte
	decoder       []byte
	model         *bpeModel
	vocab         []vocabEntry // the vocabulary in file order
	modelSeen     bool
	modelType     string
}

type vocabEntry struct {
	s  string
	id int32
}

// mergeTriple is a resolved merge; a is -1 when a part is not in the
// vocabulary.
type mergeTriple struct{ a, b, id int32 }

// byteRef locates a string read from tokenizer.json: a span of the
// document, or (off < 0) of the buffer of decoded strings.
type byteRef struct{ off, n int32 }

type mergeRef struct{ a, b byteRef }

// modelJSON holds the scalar members of "model".
type modelJSON struct {
	Type                    *string  `json:"type"`
	UnkToken                *string  `json:"unk_token"`
	FuseUnk                 bool     `json:"fuse_unk"`
	ByteFallback            bool     `json:"byte_fallback"`
	IgnoreMerges            bool     `json:"ignore_merges"`
	ContinuingSubwordPrefix *string  `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string  `json:"end_of_word_suffix"`
	Dropout                 *float64 `json:"dropout"`
}

func build(data []byte) (*Tokenizer, error) {
	if len(data) > math.MaxInt32 {
		return nil, fmt.Errorf("%w: tokenizer.json over 2 GiB", ErrInvalid)
	}
	doc, err := scanDoc(data)
	if err != nil {
		return nil, err
	}
	if !doc.modelSeen || doc.model == nil {
		if doc.modelSeen && doc.modelType != "" && doc.modelType != "BPE" {
			return nil, &UnsupportedError{Component: "model", Type: doc.modelType}
		}
		return nil, fmt.Errorf("%w: no BPE model", ErrInvalid)
	}
	t := &Tokenizer{model: doc.model, added: make(map[string]int32)}

	if t.normalizer, err = buildNormalizer(doc.normalizer); err != nil {
		return nil, err
	}
	if t.pre, err = buildPreTokenizer(doc.preTokenizer); err != nil {
		return nil, err
	}
	if t.decoder, err = buildDecoder(doc.decoder); err != nil {
		return nil, err
	}
	t.streamKind = decoderStreamKind(t.decoder)
	added, err := parseAddedTokens(doc.addedTokens)
	if err != nil {
		return nil, err
	}

	// Added token ids follow the Rust crate, which ignores the "id"
	// members: a token takes the id its content already has (an earlier
	// added token, else the model vocabulary), or else the next id from
	// the vocabulary size on. In well-formed files that is the listed id.
	// A content listed twice keeps its id and takes the later flags.
	nextID := int32(len(t.model.vocab))
	byID := make(map[int32]*addedToken, len(added))
	var order []int32
	for _, a := range added {
		if id, ok := t.added[a.content]; ok {
			a.id = id
		} else if id, ok := t.model.vocab[a.content]; ok {
			a.id = id
		} else {
			if nextID > maxID {
				return nil, fmt.Errorf("%w: too many added tokens", ErrInvalid)
			}
			a.id = nextID
			nextID++
		}
		t.added[a.content] = a.id
		if _, ok := byID[a.id]; !ok {
			order = append(order, a.id)
		}
		byID[a.id] = a
	}

	// The id table covers the vocabulary and the added tokens; when two
	// vocabulary entries share an id, the later one names it.
	size := 0
	for _, e := range doc.vocab {
		size = max(size, int(e.id)+1)
	}
	for _, id := range order {
		size = max(size, int(id)+1)
	}
	t.tokens = make([]string, size)
	t.has = make([]bool, size)
	for _, e := range doc.vocab {
		if t.model.vocab[e.s] == e.id {
			t.tokens[e.id] = e.s
			t.has[e.id] = true
		}
	}
	special := make(map[string]bool)
	for _, a := range added {
		if a.special {
			special[a.content] = true
		}
	}
	for _, id := range order {
		a := byID[id]
		t.tokens[a.id] = a.content
		t.has[a.id] = true
		pattern := a.content
		if a.normalized {
			if t.normalizer != nil {
				pattern = t.normalizer.normalize(a.content)
				if pattern != a.content {
					if t.decodeAs == nil {
						t.decodeAs = make(map[int32]string)
					}
					t.decodeAs[a.id] = pattern
				}
			}
			if t.normAdded == nil {
				t.normAdded = newAddedMatcher()
			}
			t.normAdded.add(pattern, a)
		} else {
			if t.rawAdded == nil {
				t.rawAdded = newAddedMatcher()
			}
			t.rawAdded.add(pattern, a)
		}
	}
	t.skip = make([]bool, size)
	for id := range t.tokens {
		if !t.has[id] {
			continue
		}
		s := t.tokens[id]
		if d, ok := t.decodeAs[int32(id)]; ok {
			s = d
		}
		t.skip[id] = special[s]
	}
	if t.post, err = buildPostProcessor(doc.postProcessor); err != nil {
		return nil, err
	}
	return t, nil
}

// scanDoc walks the top level of tokenizer.json.
func scanDoc(data []byte) (*rawDoc, error) {
	s := &scanner{b: data}
	doc := &rawDoc{}
	err := s.object(func(key string) error {
		var err error
		switch key {
		case "added_tokens":
			doc.addedTokens, err = s.skip()
		case "normalizer":
			doc.normalizer, err = s.skip()
		case "pre_tokenizer":
			doc.preTokenizer, err = s.skip()
		case "post_processor":
			doc.postProcessor, err = s.skip()
		case "decoder":
			doc.decoder, err = s.skip()
		case "model":
			doc.modelSeen = true
			err = scanModel(s, doc)
		default:
			_, err = s.skip()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if s.peek() != 0 {
		return nil, s.errorf("trailing data")
	}
	return doc, nil
}

// scanModel reads the "model" object, the vocabulary and merges straight
// into a bpeModel.
func scanModel(s *scanner, doc *rawDoc) error {
	if s.isNull() {
		doc.modelSeen = false
		return nil
	}
	m := &bpeModel{vocab: make(map[string]int32), unk: -1}
	var scalars bytes.Buffer
	scalars.WriteByte('{')
	var refs []mergeRef
	var extra []byte // decoded merge parts that had escapes
	vocabSeen, mergesSeen := false, false
	var mergeErr error
	ref := func(start, end int, decoded []byte) byteRef {
		if decoded == nil {
			return byteRef{off: int32(start), n: int32(end - start)}
		}
		r := byteRef{off: -int32(len(extra)) - 1, n: int32(len(decoded))}
		extra = append(extra, decoded...)
		return r
	}
	err := s.object(func(key string) error {
		switch key {
		case "vocab":
			vocabSeen = true
			if s.peek() == '[' {
				// Unigram-style [[piece, score], ...] vocabulary.
				_, err := s.skip()
				doc.modelType = "Unigram"
				return err
			}
			var entries []vocabEntry
			err := s.object(func(tok string) error {
				id, err := s.id()
				if err != nil {
					return err
				}
				entries = append(entries, vocabEntry{tok, id})
				return nil
			})
			if err != nil {
				return err
			}
			m.vocab = make(map[string]int32, len(entries))
			for _, e := range entries {
				m.vocab[e.s] = e.id
			}
			doc.vocab = entries
			return nil
		case "merges":
			mergesSeen = true
			return s.array(func() error {
				if s.peek() == '[' {
					var pair [2]byteRef
					n := 0
					err := s.array(func() error {
						st, en, dec, err := s.strRef()
						if n < 2 {
							pair[n] = ref(st, en, dec)
						}
						n++
						return err
					})
					if err != nil {
						return err
					}
					if n != 2 {
						return s.errorf("merge with %d parts", n)
					}
					refs = append(refs, mergeRef{pair[0], pair[1]})
					return nil
				}
				st, en, dec, err := s.strRef()
				if err != nil {
					return err
				}
				line := dec
				if dec == nil {
					line = s.b[st:en]
				}
				if bytes.HasPrefix(line, []byte("#version")) {
					return nil
				}
				sp := bytes.IndexByte(line, ' ')
				if sp < 0 || bytes.IndexByte(line[sp+1:], ' ') >= 0 {
					if mergeErr == nil {
						mergeErr = fmt.Errorf("%w: merge %q is not two tokens", ErrInvalid, line)
					}
					return nil
				}
				if dec == nil {
					refs = append(refs, mergeRef{ref(st, st+sp, nil), ref(st+sp+1, en, nil)})
				} else {
					refs = append(refs, mergeRef{ref(0, 0, line[:sp]), ref(0, 0, line[sp+1:])})
				}
				return nil
			})
		default:
			raw, err := s.skip()
			if err != nil {
				return err
			}
			if scalars.Len() > 1 {
				scalars.WriteByte(',')
			}
			kb, _ := json.Marshal(key)
			scalars.Write(kb)
			scalars.WriteByte(':')
			scalars.Write(raw)
			return nil
		}
	})
	if err != nil {
		return err
	}
	scalars.WriteByte('}')
	var mj modelJSON
	if err := unmarshal(scalars.Bytes(), &mj); err != nil {
		return err
	}
	typ := ""
	if mj.Type != nil {
		typ = *mj.Type
	}
	switch {
	case typ == "BPE":
	case typ == "" && doc.modelType == "" && vocabSeen && mergesSeen:
	default:
		if typ == "" {
			typ = doc.modelType
		}
		if typ == "" {
			typ = "unknown"
		}
		doc.modelType = typ
		return nil
	}
	if !vocabSeen {
		return fmt.Errorf("%w: BPE model without vocab", ErrInvalid)
	}
	if mergeErr != nil {
		return mergeErr
	}
	if mj.ContinuingSubwordPrefix != nil {
		m.prefix = *mj.ContinuingSubwordPrefix
	}
	m.merges = resolveMerges(m, refs, func(r byteRef) []byte {
		if r.off >= 0 {
			return s.b[r.off : r.off+r.n]
		}
		o := -r.off - 1
		return extra[o : o+r.n]
	})
	if mj.UnkToken != nil {
		if id, ok := m.vocab[*mj.UnkToken]; ok {
			m.unk = id
		}
	}
	m.fuseUnk = mj.FuseUnk
	m.byteFallback = mj.ByteFallback
	m.ignoreMerges = mj.IgnoreMerges
	if mj.EndOfWordSuffix != nil {
		m.suffix = *mj.EndOfWordSuffix
	}
	m.finish()
	doc.model = m
	doc.modelType = "BPE"
	return nil
}

// resolveMerges turns merge rules into a table from id pairs to rank and
// merged id. Rules whose parts or result are not in the vocabulary are
// skipped (the Rust crate refuses such a file); a repeated pair keeps its
// last rank, as a map built in order does. The lookups, random accesses
// into a large vocabulary, are spread over the available cores.
func resolveMerges(m *bpeModel, refs []mergeRef, get func(byteRef) []byte) *mergeTable {
	triples := make([]mergeTriple, len(refs))
	resolve := func(lo, hi int) {
		var cat []byte
		prefix := []byte(m.prefix)
		for i := lo; i < hi; i++ {
			a, b := get(refs[i].a), get(refs[i].b)
			tr := mergeTriple{a: -1}
			if ida, ok := m.vocab[string(a)]; ok {
				if idb, ok := m.vocab[string(b)]; ok {
					cat = append(append(cat[:0], a...), bytes.TrimPrefix(b, prefix)...)
					if id, ok := m.vocab[string(cat)]; ok {
						tr = mergeTriple{a: ida, b: idb, id: id}
					}
				}
			}
			triples[i] = tr
		}
	}
	workers := min(runtime.GOMAXPROCS(0), 8, len(refs)/50000+1)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := len(refs)*w/workers, len(refs)*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			resolve(lo, hi)
		}()
	}
	wg.Wait()
	t := newMergeTable(len(triples))
	for rank, tr := range triples {
		if tr.a >= 0 {
			t.put(pairKey(tr.a, tr.b), merge{rank: int32(rank), id: tr.id})
		}
	}
	return t
}

type addedTokenJSON struct {
	ID         *int64 `json:"id"` // ignored, as by the Rust crate
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	Lstrip     bool   `json:"lstrip"`
	Rstrip     bool   `json:"rstrip"`
	Normalized *bool  `json:"normalized"`
	Special    bool   `json:"special"`
}

func parseAddedTokens(raw []byte) ([]*addedToken, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []addedTokenJSON
	if err := unmarshal(raw, &list); err != nil {
		return nil, err
	}
	out := make([]*addedToken, 0, len(list))
	for _, a := range list {
		if a.Content == "" {
			continue
		}
		normalized := !a.Special
		if a.Normalized != nil {
			normalized = *a.Normalized
		}
		out = append(out, &addedToken{
			content: a.Content, singleWord: a.SingleWord,
			lstrip: a.Lstrip, rstrip: a.Rstrip, normalized: normalized, special: a.Special,
		})
	}
	return out, nil
}

// component holds the members any normalizer, pre-tokenizer,
// post-processor or decoder may have.
type component struct {
	Type string `json:"type"`

	Normalizers   []json.RawMessage `json:"normalizers"`
	Pretokenizers []json.RawMessage `json:"pretokenizers"`
	Processors    []json.RawMessage `json:"processors"`
	Decoders      []json.RawMessage `json:"decoders"`

	Pattern    *patternJSON `json:"pattern"`
	Content    *string      `json:"content"`
	Prepend    *string      `json:"prepend"`
	StripLeft  bool         `json:"strip_left"`
	StripRight bool         `json:"strip_right"`

	Behavior         string  `json:"behavior"`
	Invert           bool    `json:"invert"`
	AddPrefixSpace   *bool   `json:"add_prefix_space"`
	UseRegex         *bool   `json:"use_regex"`
	Replacement      *string `json:"replacement"`
	PrependScheme    *string `json:"prepend_scheme"`
	Split            *bool   `json:"split"`
	IndividualDigits bool    `json:"individual_digits"`
	Delimiter        *string `json:"delimiter"`

	Single        json.RawMessage             `json:"single"`
	SpecialTokens map[string]specialTokenJSON `json:"special_tokens"`
	Sep           json.RawMessage             `json:"sep"`
	Cls           json.RawMessage             `json:"cls"`

	Start   int     `json:"start"`
	Stop    int     `json:"stop"`
	Prefix  *string `json:"prefix"`
	Cleanup *bool   `json:"cleanup"`
}

type patternJSON struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

type specialTokenJSON struct {
	ID     string   `json:"id"`
	IDs    []int64  `json:"ids"`
	Tokens []string `json:"tokens"`
}

// parseComponent decodes a component; ok is false for null or absent.
func parseComponent(raw []byte, what string) (c component, ok bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return c, false, nil
	}
	if err := unmarshal(raw, &c); err != nil {
		return c, false, err
	}
	if c.Type == "" {
		return c, false, fmt.Errorf("%w: %s without a type", ErrInvalid, what)
	}
	return c, true, nil
}

func buildMatcher(p *patternJSON, what string) (matcher, error) {
	switch {
	case p == nil:
		return nil, fmt.Errorf("%w: %s without a pattern", ErrInvalid, what)
	case p.String != nil:
		return literalMatcher{lit: *p.String}, nil
	case p.Regex != nil:
		if m := knownPattern(*p.Regex); m != nil {
			return m, nil
		}
		return compileRegex(*p.Regex)
	}
	return nil, fmt.Errorf("%w: %s pattern is neither String nor Regex", ErrInvalid, what)
}

func buildNormalizer(raw []byte) (normalizer, error) {
	c, ok, err := parseComponent(raw, "normalizer")
	if !ok || err != nil {
		return nil, err
	}
	switch c.Type {
	case "NFC":
		return unicodeNormalizer{norm.NFC}, nil
	case "NFD":
		return unicodeNormalizer{norm.NFD}, nil
	case "NFKC":
		return unicodeNormalizer{norm.NFKC}, nil
	case "NFKD":
		return unicodeNormalizer{norm.NFKD}, nil
	case "Lowercase":
		return lowercaseNormalizer{}, nil
	case "Strip":
		return stripNormalizer{left: c.StripLeft, right: c.StripRight}, nil
	case "StripAccents":
		return stripAccentsNormalizer{}, nil
	case "Prepend":
		if c.Prepend == nil {
			return nil, fmt.Errorf("%w: Prepend without prepend", ErrInvalid)
		}
		return prependNormalizer{prefix: *c.Prepend}, nil
	case "Replace":
		m, err := buildMatcher(c.Pattern, "Replace")
		if err != nil {
			return nil, err
		}
		if c.Content == nil {
			return nil, fmt.Errorf("%w: Replace without content", ErrInvalid)
		}
		return replaceNormalizer{m: m, content: *c.Content}, nil
	case "Sequence":
		seq, err := buildSequence(c.Normalizers, buildNormalizer)
		if err != nil {
			return nil, err
		}
		return sequenceNormalizer(seq), nil
	}
	return nil, &UnsupportedError{Component: "normalizer", Type: c.Type}
}

func parseBehavior(s string) (behavior, error) {
	b, ok := behaviorNames[strings.ToLower(s)]
	if !ok {
		return 0, fmt.Errorf("%w: split behavior %q", ErrInvalid, s)
	}
	return b, nil
}

func oneRune(s *string, def rune, what string) (rune, error) {
	if s == nil {
		return def, nil
	}
	r, size := utf8.DecodeRuneInString(*s)
	if size == 0 || size != len(*s) {
		return 0, fmt.Errorf("%w: %s must be one character", ErrInvalid, what)
	}
	return r, nil
}

func parsePrependScheme(c *component) (prependScheme, error) {
	scheme := prependAlways
	if c.PrependScheme != nil {
		switch *c.PrependScheme {
		case "always":
			scheme = prependAlways
		case "first":
			scheme = prependFirst
		case "never":
			scheme = prependNever
		default:
			return 0, fmt.Errorf("%w: prepend_scheme %q", ErrInvalid, *c.PrependScheme)
		}
	}
	if c.AddPrefixSpace != nil && !*c.AddPrefixSpace {
		scheme = prependNever
	}
	return scheme, nil
}

func buildPreTokenizer(raw []byte) (preTokenizer, error) {
	c, ok, err := parseComponent(raw, "pre_tokenizer")
	if !ok || err != nil {
		return nil, err
	}
	switch c.Type {
	case "Split":
		m, err := buildMatcher(c.Pattern, "Split")
		if err != nil {
			return nil, err
		}
		b, err := parseBehavior(c.Behavior)
		if err != nil {
			return nil, err
		}
		return &splitPreTokenizer{m: m, behavior: b, invert: c.Invert}, nil
	case "ByteLevel":
		bl := &byteLevelPreTokenizer{}
		if c.AddPrefixSpace != nil {
			bl.addPrefixSpace = *c.AddPrefixSpace
		}
		if c.UseRegex == nil || *c.UseRegex {
			bl.split = gpt2Matcher()
		}
		return bl, nil
	case "Metaspace":
		r, err := oneRune(c.Replacement, '▁', "Metaspace replacement")
		if err != nil {
			return nil, err
		}
		scheme, err := parsePrependScheme(&c)
		if err != nil {
			return nil, err
		}
		split := true
		if c.Split != nil {
			split = *c.Split
		}
		return &metaspacePreTokenizer{replacement: r, repl: string(r), scheme: scheme, split: split}, nil
	case "Digits":
		b := behaviorContiguous
		if c.IndividualDigits {
			b = behaviorIsolated
		}
		return funcPreTokenizer{f: isNumeric, behavior: b}, nil
	case "Punctuation":
		b := behaviorIsolated
		if c.Behavior != "" {
			if b, err = parseBehavior(c.Behavior); err != nil {
				return nil, err
			}
		}
		return funcPreTokenizer{f: isPunctuation, behavior: b}, nil
	case "Whitespace":
		return whitespacePreTokenizer{}, nil
	case "WhitespaceSplit":
		return funcPreTokenizer{f: isSpace, behavior: behaviorRemoved}, nil
	case "BertPreTokenizer":
		return bertPreTokenizer{}, nil
	case "CharDelimiterSplit":
		d, err := oneRune(c.Delimiter, 0, "CharDelimiterSplit delimiter")
		if err != nil || c.Delimiter == nil {
			return nil, fmt.Errorf("%w: CharDelimiterSplit delimiter", ErrInvalid)
		}
		return funcPreTokenizer{f: func(r rune) bool { return r == d }, behavior: behaviorRemoved}, nil
	case "Sequence":
		seq, err := buildSequence(c.Pretokenizers, buildPreTokenizer)
		if err != nil {
			return nil, err
		}
		return sequencePreTokenizer(seq), nil
	}
	return nil, &UnsupportedError{Component: "pre_tokenizer", Type: c.Type}
}

func buildDecoder(raw []byte) (decoder, error) {
	c, ok, err := parseComponent(raw, "decoder")
	if !ok || err != nil {
		return nil, err
	}
	switch c.Type {
	case "ByteLevel":
		return byteLevelDecoder{}, nil
	case "Replace":
		m, err := buildMatcher(c.Pattern, "Replace")
		if err != nil {
			return nil, err
		}
		if c.Content == nil {
			return nil, fmt.Errorf("%w: Replace without content", ErrInvalid)
		}
		return replaceDecoder{m: m, content: *c.Content}, nil
	case "ByteFallback":
		return byteFallbackDecoder{}, nil
	case "Fuse":
		return fuseDecoder{}, nil
	case "Strip":
		r, err := oneRune(c.Content, ' ', "Strip content")
		if err != nil {
			return nil, err
		}
		if c.Start < 0 || c.Stop < 0 {
			return nil, fmt.Errorf("%w: Strip with negative counts", ErrInvalid)
		}
		return stripDecoder{content: r, start: c.Start, stop: c.Stop}, nil
	case "Metaspace":
		r, err := oneRune(c.Replacement, '▁', "Metaspace replacement")
		if err != nil {
			return nil, err
		}
		scheme, err := parsePrependScheme(&c)
		if err != nil {
			return nil, err
		}
		return metaspaceDecoder{replacement: r, never: scheme == prependNever}, nil
	case "WordPiece":
		d := wordPieceDecoder{prefix: "##", cleanup: true}
		if c.Prefix != nil {
			d.prefix = *c.Prefix
		}
		if c.Cleanup != nil {
			d.cleanup = *c.Cleanup
		}
		return d, nil
	case "Sequence":
		seq, err := buildSequence(c.Decoders, buildDecoder)
		if err != nil {
			return nil, err
		}
		return sequenceDecoder(seq), nil
	}
	return nil, &UnsupportedError{Component: "decoder", Type: c.Type}
}

func buildPostProcessor(raw []byte) (postProcessor, error) {
	c, ok, err := parseComponent(raw, "post_processor")
	if !ok || err != nil {
		return nil, err
	}
	switch c.Type {
	case "ByteLevel":
		return noopProcessor{}, nil
	case "TemplateProcessing":
		return buildTemplate(&c)
	case "BertProcessing", "RobertaProcessing":
		cls, err := tokenPair(c.Cls, "cls")
		if err != nil {
			return nil, err
		}
		sep, err := tokenPair(c.Sep, "sep")
		if err != nil {
			return nil, err
		}
		return wrapProcessor{cls: cls, sep: sep}, nil
	case "Sequence":
		seq, err := buildSequence(c.Processors, buildPostProcessor)
		if err != nil {
			return nil, err
		}
		return sequenceProcessor(seq), nil
	}
	return nil, &UnsupportedError{Component: "post_processor", Type: c.Type}
}

// tokenPair reads a ["[CLS]", 101] pair and returns the id.
func tokenPair(raw json.RawMessage, what string) (int32, error) {
	var pair []json.RawMessage
	if err := unmarshal(raw, &pair); err != nil || len(pair) != 2 {
		return 0, fmt.Errorf("%w: %s must be [token, id]", ErrInvalid, what)
	}
	var id int64
	if err := unmarshal(pair[1], &id); err != nil || id < 0 || id > maxID {
		return 0, fmt.Errorf("%w: %s must be [token, id]", ErrInvalid, what)
	}
	return int32(id), nil
}

// buildTemplate reads the "single" template of TemplateProcessing; pieces
// are {"Sequence": {"id": "A"}} / {"SpecialToken": {"id": "<s>"}} objects
// or the "$A" / "<s>" / "<s>:0" string form.
func buildTemplate(c *component) (postProcessor, error) {
	var items []json.RawMessage
	if len(c.Single) > 0 && string(c.Single) != "null" {
		if c.Single[0] == '"' {
			var s string
			if err := unmarshal(c.Single, &s); err != nil {
				return nil, err
			}
			for _, f := range strings.Fields(s) {
				b, _ := json.Marshal(f)
				items = append(items, b)
			}
		} else if err := unmarshal(c.Single, &items); err != nil {
			return nil, err
		}
	}
	var tp templateProcessor
	for _, it := range items {
		var name string
		var isSeq bool
		if len(it) > 0 && it[0] == '"' {
			var s string
			if err := unmarshal(it, &s); err != nil {
				return nil, err
			}
			if i := strings.LastIndexByte(s, ':'); i > 0 {
				s = s[:i]
			}
			if strings.HasPrefix(s, "$") {
				isSeq = true
				name = strings.TrimPrefix(s, "$")
				if name == "" {
					name = "A"
				}
			} else {
				name = s
			}
		} else {
			var obj struct {
				Sequence *struct {
					ID string `json:"id"`
				} `json:"Sequence"`
				SpecialToken *struct {
					ID string `json:"id"`
				} `json:"SpecialToken"`
			}
			if err := unmarshal(it, &obj); err != nil {
				return nil, err
			}
			switch {
			case obj.Sequence != nil:
				isSeq, name = true, obj.Sequence.ID
			case obj.SpecialToken != nil:
				name = obj.SpecialToken.ID
			default:
				return nil, fmt.Errorf("%w: template piece %s", ErrInvalid, it)
			}
		}
		if isSeq {
			if name == "A" {
				tp = append(tp, templatePiece{seq: true})
			}
			continue
		}
		st, ok := c.SpecialTokens[name]
		if !ok {
			return nil, fmt.Errorf("%w: template special token %q not in special_tokens", ErrInvalid, name)
		}
		ids := make([]int32, 0, len(st.IDs))
		for _, id := range st.IDs {
			if id < 0 || id > maxID {
				return nil, fmt.Errorf("%w: template special token id %d", ErrInvalid, id)
			}
			ids = append(ids, int32(id))
		}
		tp = append(tp, templatePiece{ids: ids})
	}
	return tp, nil
}

// readConfig picks bos_token and eos_token out of tokenizer_config.json.
func (t *Tokenizer) readConfig(data []byte) error {
	var cfg struct {
		BOS json.RawMessage `json:"bos_token"`
		EOS json.RawMessage `json:"eos_token"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return fmt.Errorf("%w: tokenizer_config.json: %v", ErrInvalid, err)
	}
	t.bos = configToken(cfg.BOS)
	t.eos = configToken(cfg.EOS)
	return nil
}

// configToken reads a special token given as a string or as an object
// with a "content" member; anything else is "".
func configToken(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		Content string `json:"content"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.Content
	}
	return ""
}

// buildSequence builds the members of a Sequence component with build,
// dropping null members (a "null" component builds to nil).
func buildSequence[T any](raws []json.RawMessage, build func([]byte) (T, error)) ([]T, error) {
	var seq []T
	for _, r := range raws {
		c, err := build(r)
		if err != nil {
			return nil, err
		}
		// An interface compared with nil, never with ==: a member may be
		// a slice type (a nested Sequence), which == would panic on.
		if any(c) != nil {
			seq = append(seq, c)
		}
	}
	return seq, nil
}
