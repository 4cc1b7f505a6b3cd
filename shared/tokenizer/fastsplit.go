package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// The Split regexes of the common byte-level tokenizers, matched by hand
// (as llama.cpp does) because the backtracking engine is the slowest part
// of encoding. Each scanner reproduces Oniguruma's leftmost-first
// alternation and greedy backtracking for its pattern exactly; the tests
// compare them with the regexp2 translation on random input.
const (
	// gpt2Pattern is the split regex of the ByteLevel pre-tokenizer.
	gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
	// qwen2Pattern: Qwen2, Qwen2.5, Qwen3.
	qwen2Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	// llama3Pattern: Llama-3.x (cl100k style).
	llama3Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	// o200kPattern: gpt-oss, GPT-4o.
	o200kPattern = `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

type scanKind uint8

const (
	scanGPT2 scanKind = iota
	scanQwen2
	scanLlama3
	scanO200k
)

// fastSplitter matches one of the known patterns.
type fastSplitter struct{ kind scanKind }

// knownPattern returns a hand-written matcher for a Split regex that
// appears in common tokenizer.json files, or nil.
func knownPattern(p string) matcher {
	switch p {
	case gpt2Pattern:
		return fastSplitter{scanGPT2}
	case qwen2Pattern:
		return fastSplitter{scanQwen2}
	case llama3Pattern:
		return fastSplitter{scanLlama3}
	case o200kPattern:
		return fastSplitter{scanO200k}
	}
	return nil
}

func gpt2Matcher() matcher { return fastSplitter{scanGPT2} }

// Character classes of the patterns.
const (
	cL    = 1 << iota // \p{L}
	cN                // \p{N}
	cS                // \s
	cU                // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
	cLw               // [\p{Ll}\p{Lm}\p{Lo}\p{M}]
	cCRLF             // [\r\n]
)

var asciiClass = func() (t [128]uint8) {
	for c := 0; c < 128; c++ {
		switch {
		case c >= 'A' && c <= 'Z':
			t[c] = cL | cU
		case c >= 'a' && c <= 'z':
			t[c] = cL | cLw
		case c >= '0' && c <= '9':
			t[c] = cN
		case c == '\r' || c == '\n':
			t[c] = cS | cCRLF
		case c == ' ' || c == '\t' || c == '\v' || c == '\f':
			t[c] = cS
		}
	}
	return t
}()

func classOf(r rune) uint8 {
	if r < utf8.RuneSelf {
		return asciiClass[r]
	}
	var c uint8
	switch {
	case unicode.IsSpace(r):
		return cS
	case isNumber(r):
		return cN
	case isLetter(r):
		c = cL
		lu := unicode.Is(unicode.Lu, r) || unicode.Is(extraLu, r) || unicode.Is(unicode.Lt, r)
		ll := unicode.Is(unicode.Ll, r) || unicode.Is(extraLl, r)
		switch {
		case lu:
			c |= cU
		case ll:
			c |= cLw
		default: // Lm, Lo
			c |= cU | cLw
		}
	case isMark(r):
		c = cU | cLw
	}
	return c
}

// at decodes the rune at s[i] and returns its class and size; at the end
// it returns class 0 and size 0.
func at(s string, i int) (rune, uint8, int) {
	if i >= len(s) {
		return -1, 0, 0
	}
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), asciiClass[c], 1
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	return r, classOf(r), size
}

// isPrefixChar is [^\r\n\p{L}\p{N}].
func isPrefixChar(c uint8) bool { return c&(cL|cN|cCRLF) == 0 }

// isPunctChar is [^\s\p{L}\p{N}].
func isPunctChar(c uint8) bool { return c&(cL|cN|cS) == 0 }

func (f fastSplitter) findAll(dst []span, s string) []span {
	for pos := 0; pos < len(s); {
		end := f.matchAt(s, pos)
		dst = append(dst, span{pos, end})
		pos = end
	}
	return dst
}

// contraction matches 's|'t|'re|'ve|'m|'ll|'d at s[i] (ASCII case folded,
// plus ſ for s, when fold), returning the end or -1.
func contraction(s string, i int, fold bool) int {
	if i+1 >= len(s) || s[i] != '\'' {
		return -1
	}
	lower := func(c byte) byte {
		if fold && c >= 'A' && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}
	switch lower(s[i+1]) {
	case 's', 't', 'm', 'd':
		return i + 2
	case 'r', 'v':
		if i+2 < len(s) && lower(s[i+2]) == 'e' {
			return i + 3
		}
	case 'l':
		if i+2 < len(s) && lower(s[i+2]) == 'l' {
			return i + 3
		}
	case 0xC5:
		// ſ (U+017F, C5 BF) folds to s.
		if fold && i+2 < len(s) && s[i+2] == 0xBF {
			return i + 3
		}
	}
	return -1
}

// run returns the end of the run of characters from i whose class has a
// bit of mask (or, with none, has no bit of mask), at most max characters
// when max > 0.
func run(s string, i int, mask uint8, none bool, max int) int {
	n := 0
	for i < len(s) && (max <= 0 || n < max) {
		var c uint8
		size := 1
		if b := s[i]; b < utf8.RuneSelf {
			c = asciiClass[b]
		} else {
			_, c, size = at(s, i)
		}
		if (c&mask != 0) == none {
			break
		}
		i += size
		n++
	}
	return i
}

func isL(c uint8) bool  { return c&cL != 0 }
func isN(c uint8) bool  { return c&cN != 0 }
func isS(c uint8) bool  { return c&cS != 0 }
func isLw(c uint8) bool { return c&cLw != 0 }

// matchAt returns the end of the match that starts at pos (every position
// of these patterns matches something non-empty).
func (f fastSplitter) matchAt(s string, pos int) int {
	r0, c0, n0 := at(s, pos)
	_, c1, _ := at(s, pos+n0)
	fold := f.kind != scanGPT2

	// Contractions first (all but o200k, which has them as suffixes).
	if f.kind != scanO200k && r0 == '\'' {
		if e := contraction(s, pos, fold); e >= 0 {
			return e
		}
	}

	switch f.kind {
	case scanGPT2:
		// ` ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+`
		start := pos
		c := c0
		if r0 == ' ' {
			start, c = pos+1, c1
		}
		switch {
		case isL(c):
			return run(s, start, cL, false, 0)
		case isN(c):
			return run(s, start, cN, false, 0)
		case isPunctChar(c) && start < len(s):
			return run(s, start, cL|cN|cS, true, 0)
		}
		// A space not followed by a letter, number or symbol: whitespace.
		return whitespaceMatch(s, pos, false)

	case scanQwen2, scanLlama3:
		// `[^\r\n\p{L}\p{N}]?\p{L}+`
		if isPrefixChar(c0) && isL(c1) {
			return run(s, pos+n0, cL, false, 0)
		}
		if isL(c0) {
			return run(s, pos, cL, false, 0)
		}
		// `\p{N}` or `\p{N}{1,3}`
		if isN(c0) {
			if f.kind == scanQwen2 {
				return pos + n0
			}
			return run(s, pos, cN, false, 3)
		}
		if e := punctMatch(s, pos, r0, c0, n0, c1, false); e >= 0 {
			return e
		}
		return whitespaceMatch(s, pos, true)

	default: // scanO200k
		if e := o200kWord(s, pos, c0, n0); e >= 0 {
			return e
		}
		if isN(c0) {
			return run(s, pos, cN, false, 3)
		}
		if e := punctMatch(s, pos, r0, c0, n0, c1, true); e >= 0 {
			return e
		}
		return whitespaceMatch(s, pos, true)
	}
}

// punctMatch matches ` ?[^\s\p{L}\p{N}]+[\r\n]*` (with '/' in the tail
// class when slash), or returns -1.
func punctMatch(s string, pos int, r0 rune, c0 uint8, n0 int, c1 uint8, slash bool) int {
	start := -1
	switch {
	case r0 == ' ' && isPunctChar(c1) && pos+n0 < len(s):
		start = pos + n0
	case isPunctChar(c0):
		start = pos
	default:
		return -1
	}
	e := run(s, start, cL|cN|cS, true, 0)
	for e < len(s) && (s[e] == '\r' || s[e] == '\n' || (slash && s[e] == '/')) {
		e++
	}
	return e
}

// whitespaceMatch matches, at a whitespace character,
// `\s*[\r\n]+` (when newlines) then `\s+(?!\S)` then `\s+`.
func whitespaceMatch(s string, pos int, newlines bool) int {
	e := pos
	lastNL := -1
	n := 0
	for e < len(s) {
		r, c, size := at(s, e)
		if !isS(c) {
			break
		}
		if r == '\r' || r == '\n' {
			lastNL = e + size
		}
		e += size
		n++
	}
	if newlines && lastNL >= 0 {
		return lastNL
	}
	if e == len(s) || n == 1 {
		return e
	}
	// Give back the last whitespace character to the next word.
	_, size := utf8.DecodeLastRuneInString(s[:e])
	return e - size
}

// o200kWord matches the two letter alternatives of the o200k pattern:
//
//	[^\r\n\p{L}\p{N}]?U*Lw+C? | [^\r\n\p{L}\p{N}]?U+Lw*C?
//
// with U = [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}], Lw = [\p{Ll}\p{Lm}\p{Lo}\p{M}]
// and C the case-insensitive contractions; it returns -1 when neither
// matches.
func o200kWord(s string, pos int, c0 uint8, n0 int) int {
	starts := [2]int{pos, -1}
	if isPrefixChar(c0) {
		// The optional prefix is tried first, then without it.
		starts = [2]int{pos + n0, pos}
	}
	// First alternative: U* Lw+ C?, backtracking U* from its longest.
	for _, u0 := range starts {
		if u0 < 0 {
			continue
		}
		ue := run(s, u0, cU, false, 0)
		// Candidate starts of Lw+: ue, then each U character back to u0.
		k := ue
		for {
			if _, c, _ := at(s, k); isLw(c) {
				e := run(s, k, cLw, false, 0)
				if ce := contraction(s, e, true); ce >= 0 {
					return ce
				}
				return e
			}
			if k == u0 {
				break
			}
			_, size := utf8.DecodeLastRuneInString(s[:k])
			k -= size
		}
	}
	// Second alternative: U+ Lw* C?.
	for _, u0 := range starts {
		if u0 < 0 {
			continue
		}
		ue := run(s, u0, cU, false, 0)
		if ue == u0 {
			continue
		}
		e := run(s, ue, cLw, false, 0)
		if ce := contraction(s, e, true); ce >= 0 {
			return ce
		}
		return e
	}
	return -1
}

func isNumeric(r rune) bool { return isNumber(r) }

func isSpace(r rune) bool { return unicode.IsSpace(r) }

type stripAccentsNormalizer struct{}

func (stripAccentsNormalizer) normalize(s string) string {
	for _, r := range s {
		if isMark(r) {
			b := make([]rune, 0, len(s))
			for _, r := range s {
				if !isMark(r) {
					b = append(b, r)
				}
			}
			return string(b)
		}
	}
	return s
}
