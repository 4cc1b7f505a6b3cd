package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// addedToken is one entry of tokenizer.json "added_tokens".
type addedToken struct {
	id         int32
	content    string
	singleWord bool
	lstrip     bool
	rstrip     bool
	normalized bool
	special    bool
}

// addedMatcher finds added tokens in text: leftmost match first, longest
// at that position, non-overlapping (the Aho-Corasick LeftmostLongest
// search of the Rust crate), with the single_word/lstrip/rstrip rules.
type addedMatcher struct {
	// trie: node 0 is the root; edges live in one map keyed by
	// node<<8 | byte.
	edges     map[uint64]int32
	terminal  []int32 // node -> index into tokens, -1 if none
	tokens    []*addedToken
	firstByte [256]bool
}

func newAddedMatcher() *addedMatcher {
	return &addedMatcher{edges: make(map[uint64]int32), terminal: []int32{-1}}
}

func (m *addedMatcher) add(pattern string, tok *addedToken) {
	if pattern == "" {
		return
	}
	node := int32(0)
	for i := 0; i < len(pattern); i++ {
		key := uint64(node)<<8 | uint64(pattern[i])
		next, ok := m.edges[key]
		if !ok {
			next = int32(len(m.terminal))
			m.terminal = append(m.terminal, -1)
			m.edges[key] = next
		}
		node = next
	}
	m.firstByte[pattern[0]] = true
	if m.terminal[node] < 0 {
		m.terminal[node] = int32(len(m.tokens))
		m.tokens = append(m.tokens, tok)
	} else {
		// The same pattern twice: the later entry wins, as in a map.
		m.tokens[m.terminal[node]] = tok
	}
}

func (m *addedMatcher) empty() bool { return len(m.tokens) == 0 }

// longestAt returns the end of the longest pattern starting at s[i] and
// its token, or -1.
func (m *addedMatcher) longestAt(s string, i int) (int, *addedToken) {
	node := int32(0)
	end, tok := -1, (*addedToken)(nil)
	for j := i; j < len(s); j++ {
		next, ok := m.edges[uint64(node)<<8|uint64(s[j])]
		if !ok {
			break
		}
		node = next
		if t := m.terminal[node]; t >= 0 {
			end, tok = j+1, m.tokens[t]
		}
	}
	return end, tok
}

// segment is a part of the text: either an added token (tok != nil) or
// plain text.
type segment struct {
	start, end int
	tok        *addedToken
}

// split cuts s into plain segments and added tokens, appending to dst;
// empty plain segments are left out.
func (m *addedMatcher) split(dst []segment, s string) []segment {
	if m == nil || m.empty() {
		if s != "" {
			dst = append(dst, segment{0, len(s), nil})
		}
		return dst
	}
	startOffset := 0
	pos := 0
	for pos < len(s) {
		// Find the leftmost position with a match.
		i, end := pos, -1
		var tok *addedToken
		for ; i < len(s); i++ {
			if !m.firstByte[s[i]] {
				continue
			}
			if end, tok = m.longestAt(s, i); end >= 0 {
				break
			}
		}
		if end < 0 {
			break
		}
		pos = end
		start, stop := i, end
		if tok.singleWord {
			startSpace := start == 0 || !endsWithWord(s[:start])
			stopSpace := stop == len(s) || !startsWithWord(s[stop:])
			if !startSpace || !stopSpace {
				continue
			}
		}
		if tok.lstrip {
			ns := trailingSpaceStart(s[:start])
			start = max(ns, startOffset)
		}
		if tok.rstrip {
			stop += leadingSpaceLen(s[stop:])
		}
		if startOffset < start {
			dst = append(dst, segment{startOffset, start, nil})
		}
		dst = append(dst, segment{start, stop, tok})
		startOffset = stop
		// Rust resumes the search at the end of the match even after rstrip
		// took the following spaces; a token starting inside those spaces
		// would overlap, so resume after them.
		pos = stop
	}
	if startOffset < len(s) {
		dst = append(dst, segment{startOffset, len(s), nil})
	}
	return dst
}

func endsWithWord(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return s != "" && isRustWord(r)
}

func startsWithWord(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return s != "" && isRustWord(r)
}

// trailingSpaceStart returns where the run of whitespace ending s starts.
func trailingSpaceStart(s string) int {
	i := len(s)
	for i > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:i])
		if !unicode.IsSpace(r) {
			break
		}
		i -= size
	}
	return i
}

// leadingSpaceLen returns the length of the whitespace that starts s.
func leadingSpaceLen(s string) int {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsSpace(r) {
			break
		}
		i += size
	}
	return i
}
