package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// piece is a part of the input on its way to the model.
type piece struct {
	s string
	// first marks a piece that starts at offset 0 of the original input
	// (Metaspace's prepend_scheme "first" looks at it).
	first bool
	// byteLevel marks a piece whose bytes still have to be mapped to the
	// byte-level alphabet (done late, to spare allocations).
	byteLevel bool
}

// materialize applies a pending byte-level mapping.
func (p piece) materialize() piece {
	if p.byteLevel {
		p.s = byteLevelEncode(p.s)
		p.byteLevel = false
	}
	return p
}

// preTokenizer splits one piece into smaller ones, appending them to dst.
type preTokenizer interface {
	preTokenize(dst []piece, p piece, w *preWork) []piece
}

// preWork holds scratch buffers reused across the pieces of one Encode.
type preWork struct {
	spans []span
	items []item
	depth int        // Sequence nesting; only the outermost uses bufs
	bufs  [2][]piece // Sequence's ping-pong buffers
}

// behavior is SplitDelimiterBehavior.
type behavior uint8

const (
	behaviorRemoved behavior = iota
	behaviorIsolated
	behaviorMergedWithPrevious
	behaviorMergedWithNext
	behaviorContiguous
)

var behaviorNames = map[string]behavior{
	"removed":              behaviorRemoved,
	"isolated":             behaviorIsolated,
	"merged_with_previous": behaviorMergedWithPrevious,
	"mergedwithprevious":   behaviorMergedWithPrevious,
	"merged_with_next":     behaviorMergedWithNext,
	"mergedwithnext":       behaviorMergedWithNext,
	"contiguous":           behaviorContiguous,
}

// item is a stretch of a piece with whether it matched the pattern.
type item struct {
	start, end int
	match      bool
}

// itemsFromSpans turns match spans into items covering all of s, as the
// Rust Pattern::find_matches does (with an empty s giving no items).
func itemsFromSpans(dst []item, s string, spans []span, invert bool) []item {
	prev := 0
	for _, sp := range spans {
		if prev != sp.start {
			dst = append(dst, item{prev, sp.start, invert})
		}
		dst = append(dst, item{sp.start, sp.end, !invert})
		prev = sp.end
	}
	if prev != len(s) {
		dst = append(dst, item{prev, len(s), invert})
	}
	return dst
}

// itemsFromFunc marks every character for which f is true as its own
// match, as Rust's Pattern for Fn(char) -> bool does.
func itemsFromFunc(dst []item, s string, f func(rune) bool) []item {
	last := 0
	for i, r := range s {
		if f(r) {
			size := utf8.RuneLen(r)
			if r == utf8.RuneError {
				_, size = utf8.DecodeRuneInString(s[i:])
			}
			if last < i {
				dst = append(dst, item{last, i, false})
			}
			dst = append(dst, item{i, i + size, true})
			last = i + size
		}
	}
	if last < len(s) {
		dst = append(dst, item{last, len(s), false})
	}
	return dst
}

// applyBehavior cuts p according to the items and the behavior
// (NormalizedString::split), dropping empty pieces.
func applyBehavior(dst []piece, p piece, items []item, b behavior) []piece {
	emit := func(st, en int) {
		if st < en {
			dst = append(dst, piece{s: p.s[st:en], first: p.first && st == 0})
		}
	}
	switch b {
	case behaviorIsolated:
		for _, it := range items {
			emit(it.start, it.end)
		}
	case behaviorRemoved:
		for _, it := range items {
			if !it.match {
				emit(it.start, it.end)
			}
		}
	case behaviorContiguous, behaviorMergedWithPrevious:
		var acc []item
		prevMatch := false
		for _, it := range items {
			var merge bool
			if b == behaviorContiguous {
				merge = it.match == prevMatch
			} else {
				merge = it.match && !prevMatch
			}
			if merge && len(acc) > 0 {
				acc[len(acc)-1].end = it.end
			} else {
				acc = append(acc, it)
			}
			prevMatch = it.match
		}
		for _, it := range acc {
			emit(it.start, it.end)
		}
	case behaviorMergedWithNext:
		var acc []item // built right to left
		prevMatch := false
		for k := len(items) - 1; k >= 0; k-- {
			it := items[k]
			if it.match && !prevMatch && len(acc) > 0 {
				acc[len(acc)-1].start = it.start
			} else {
				acc = append(acc, it)
			}
			prevMatch = it.match
		}
		for k := len(acc) - 1; k >= 0; k-- {
			emit(acc[k].start, acc[k].end)
		}
	}
	return dst
}

// splitPreTokenizer is the Split pre-tokenizer.
type splitPreTokenizer struct {
	m        matcher
	behavior behavior
	invert   bool
}

func (sp *splitPreTokenizer) preTokenize(dst []piece, p piece, w *preWork) []piece {
	spans := sp.m.findAll(w.spans[:0], p.s)
	w.spans = spans[:0]
	if !sp.invert && len(spans) > 0 && (sp.behavior == behaviorIsolated || sp.behavior == behaviorRemoved) {
		// Fast path without the item list.
		prev := 0
		for _, s := range spans {
			if prev < s.start {
				dst = append(dst, piece{s: p.s[prev:s.start], first: p.first && prev == 0})
			}
			if sp.behavior == behaviorIsolated && s.start < s.end {
				dst = append(dst, piece{s: p.s[s.start:s.end], first: p.first && s.start == 0})
			}
			prev = s.end
		}
		if prev < len(p.s) {
			dst = append(dst, piece{s: p.s[prev:], first: p.first && prev == 0})
		}
		return dst
	}
	items := itemsFromSpans(w.items[:0], p.s, spans, sp.invert)
	w.items = items[:0]
	return applyBehavior(dst, p, items, sp.behavior)
}

// funcPreTokenizer splits on characters selected by a predicate
// (Digits, Punctuation, WhitespaceSplit, CharDelimiterSplit).
type funcPreTokenizer struct {
	f        func(rune) bool
	behavior behavior
}

func (fp funcPreTokenizer) preTokenize(dst []piece, p piece, w *preWork) []piece {
	items := itemsFromFunc(w.items[:0], p.s, fp.f)
	w.items = items[:0]
	return applyBehavior(dst, p, items, fp.behavior)
}

func isPunctuation(r rune) bool {
	return (r < utf8.RuneSelf && isASCIIPunct(byte(r))) || isPunct(r)
}

func isASCIIPunct(c byte) bool {
	return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~')
}

// bertPreTokenizer splits on whitespace (removed) and then isolates
// punctuation.
type bertPreTokenizer struct{}

func (bertPreTokenizer) preTokenize(dst []piece, p piece, w *preWork) []piece {
	var tmp [32]piece
	ws := funcPreTokenizer{f: unicode.IsSpace, behavior: behaviorRemoved}.preTokenize(tmp[:0], p, w)
	punct := funcPreTokenizer{f: isPunctuation, behavior: behaviorIsolated}
	for _, q := range ws {
		dst = punct.preTokenize(dst, q, w)
	}
	return dst
}

// isRustWord is the Rust regex crate's Unicode \w: Alphabetic, marks,
// decimal numbers, connector punctuation and the joiners.
func isRustWord(r rune) bool {
	if r < utf8.RuneSelf {
		c := byte(r)
		return isASCIILetter(c) || (c >= '0' && c <= '9') || c == '_'
	}
	return isLetter(r) || unicode.Is(unicode.Nl, r) || unicode.Is(unicode.Other_Alphabetic, r) ||
		isMark(r) || isDigit(r) || unicode.Is(unicode.Pc, r) ||
		r == 0x200C || r == 0x200D
}

// whitespacePreTokenizer keeps the matches of \w+|[^\w\s]+.
type whitespacePreTokenizer struct{}

func (whitespacePreTokenizer) preTokenize(dst []piece, p piece, w *preWork) []piece {
	s := p.s
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			i += size
			continue
		}
		word := isRustWord(r)
		j := i + size
		for j < len(s) {
			r2, size2 := utf8.DecodeRuneInString(s[j:])
			if unicode.IsSpace(r2) || isRustWord(r2) != word {
				break
			}
			j += size2
		}
		dst = append(dst, piece{s: s[i:j], first: p.first && i == 0})
		i = j
	}
	return dst
}

// byteLevelPreTokenizer is the ByteLevel pre-tokenizer: optional prefix
// space, optional GPT-2 split, then every byte mapped to its rune.
type byteLevelPreTokenizer struct {
	addPrefixSpace bool
	split          matcher // nil when use_regex is false
}

func (bl *byteLevelPreTokenizer) preTokenize(dst []piece, p piece, w *preWork) []piece {
	if bl.addPrefixSpace && !strings.HasPrefix(p.s, " ") {
		p.s = " " + p.s
	}
	start := len(dst)
	if bl.split != nil {
		dst = (&splitPreTokenizer{m: bl.split, behavior: behaviorIsolated}).preTokenize(dst, p, w)
	} else if p.s != "" {
		dst = append(dst, p)
	}
	for k := start; k < len(dst); k++ {
		dst[k].byteLevel = true
	}
	return dst
}

// byteLevelEncode maps every byte of s to its GPT-2 rune.
func byteLevelEncode(s string) string {
	var b strings.Builder
	b.Grow(len(s) * 2)
	for i := 0; i < len(s); i++ {
		b.WriteString(byteLevel.encStr[s[i]])
	}
	return b.String()
}

// metaspacePreTokenizer replaces spaces with the replacement character,
// prepends one per prepend_scheme, and optionally splits before each.
type metaspacePreTokenizer struct {
	replacement rune
	repl        string
	scheme      prependScheme
	split       bool
}

type prependScheme uint8

const (
	prependAlways prependScheme = iota
	prependFirst
	prependNever
)

func (ms *metaspacePreTokenizer) preTokenize(dst []piece, p piece, w *preWork) []piece {
	s := strings.ReplaceAll(p.s, " ", ms.repl)
	if !strings.HasPrefix(s, ms.repl) {
		if ms.scheme == prependAlways || (ms.scheme == prependFirst && p.first) {
			s = ms.repl + s
		}
	}
	q := piece{s: s, first: p.first}
	if !ms.split {
		if s != "" {
			dst = append(dst, q)
		}
		return dst
	}
	items := itemsFromFunc(w.items[:0], s, func(r rune) bool { return r == ms.replacement })
	w.items = items[:0]
	return applyBehavior(dst, q, items, behaviorMergedWithNext)
}

type sequencePreTokenizer []preTokenizer

func (seq sequencePreTokenizer) preTokenize(dst []piece, p piece, w *preWork) []piece {
	var cur, next []piece
	outer := w.depth == 0
	if outer {
		cur, next = w.bufs[0][:0], w.bufs[1][:0]
	}
	w.depth++
	cur = append(cur, p)
	for _, pt := range seq {
		next = next[:0]
		for _, q := range cur {
			next = pt.preTokenize(next, q.materialize(), w)
		}
		cur, next = next, cur
	}
	w.depth--
	dst = append(dst, cur...)
	if outer {
		w.bufs[0], w.bufs[1] = cur[:0], next[:0]
	}
	return dst
}
