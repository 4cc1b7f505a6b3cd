// Package stopseq finds user stop strings in a stream of decoded text.
//
// mlx-knife cuts the generated text at the earliest occurrence of any
// stop string (ADR-009: the smallest index wins, list order does not
// matter), and a Go port should never stream text that later turns out
// to be part of a stop. A Matcher therefore holds back every suffix that
// could still grow into a stop string, and also a match that a longer
// stop starting earlier could still pre-empt, so that for any chunking of
// the text the concatenation of what it emits is exactly
//
//	text[:min over stops of strings.Index(text, stop)]
//
// (or the whole text when no stop occurs). Matching runs on text, not on
// token ids, so a stop spanning token boundaries or tokenized differently
// in context is still found (mlx-lm matches token sequences and misses
// those).
//
// When two stops match at the same earliest position the emitted text is
// the same whichever is chosen; the Matcher reports the shortest, which
// is the one that completes first and lets generation end soonest
// (mlx-knife's batch path would name the first in list order).
//
// The stops run as one Aho-Corasick automaton over bytes, so a Push costs
// O(len(chunk)) whatever the number and length of the stops (a server
// takes stop strings from untrusted requests); building costs
// O(total stop length).
//
// A Matcher never emits the first bytes of an incomplete UTF-8 sequence
// at the end of the text it has seen; they wait for the rest (or Flush).
package stopseq

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Matcher is a streaming stop-string matcher for one generation. It is
// not safe for concurrent use.
type Matcher struct {
	ac    automaton
	stops []string // distinct, non-empty, shortest first
	state int32    // automaton state after the text seen so far
	// buf[head:] is the text received but not emitted yet; it starts at
	// stream offset base. A buffer with a moving head keeps long
	// hold-backs (long stop strings) linear rather than quadratic.
	buf   []byte
	head  int
	base  int
	seen  int    // bytes received so far
	match int    // stream offset of the earliest match found, or -1
	which string // the stop matched there
	done  bool   // stopped: the match is final
}

// New returns a Matcher for stops. Empty strings are ignored and
// duplicates collapse; with no stops left the Matcher passes text through
// (still holding back an incomplete trailing UTF-8 sequence).
func New(stops []string) *Matcher {
	var ss []string
	for _, s := range stops {
		if s != "" {
			ss = append(ss, s)
		}
	}
	// Shortest first (equal lengths in byte order, for determinism).
	slices.SortFunc(ss, func(a, b string) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return strings.Compare(a, b)
	})
	ss = slices.Compact(ss)
	return &Matcher{ac: build(ss), stops: ss, match: -1}
}

// Stops returns the effective stop strings (distinct, non-empty), shortest
// first.
func (m *Matcher) Stops() []string { return slices.Clone(m.stops) }

// Push adds the next chunk of decoded text. It returns the text that is
// now safe to show; stopped reports that the earliest stop string is
// known, and stop names it. Once stopped, the generation should end:
// further Push calls return ("", true, stop).
func (m *Matcher) Push(chunk string) (emit string, stopped bool, stop string) {
	if m.done {
		return "", true, m.which
	}
	ac, st := &m.ac, m.state
	for i := 0; i < len(chunk); i++ {
		st = ac.step(st, chunk[i])
		if n := ac.out[st]; n > 0 {
			// The longest stop ending here starts earliest among them.
			if start := m.seen + i + 1 - int(n); m.match < 0 || start < m.match {
				m.match, m.which = start, m.stops[ac.outStop[st]]
			}
		}
	}
	m.state = st
	m.seen += len(chunk)
	if m.head > 0 && m.head >= len(m.buf)/2 {
		m.buf = m.buf[:copy(m.buf, m.buf[m.head:])]
		m.head = 0
	}
	m.buf = append(m.buf, chunk...)

	// The text may still be growing into a stop from here on.
	partial := m.seen - int(ac.hold[st])
	if m.match >= 0 && partial >= m.match {
		return m.finish()
	}
	// Everything before the partial (which lies before any known match,
	// or there would be nothing to wait for) is final.
	pending := m.buf[m.head:]
	cut := completeRunes(pending, partial-m.base)
	emit = string(pending[:cut])
	m.head += cut
	m.base += cut
	return emit, false, ""
}

// Flush ends the stream and returns the held-back text. A match that was
// waiting on a longer stop that might have started earlier is final now:
// Flush then returns the text before it and stopped=true.
func (m *Matcher) Flush() (emit string, stopped bool, stop string) {
	if m.done {
		return "", true, m.which
	}
	if m.match >= 0 {
		return m.finish()
	}
	emit = string(m.buf[m.head:])
	m.base = m.seen
	m.buf, m.head = m.buf[:0], 0
	return emit, false, ""
}

func (m *Matcher) finish() (string, bool, string) {
	emit := string(m.buf[m.head : m.head+m.match-m.base])
	m.buf, m.head = m.buf[:0], 0
	m.done = true
	return emit, true, m.which
}

// Reset prepares the Matcher for a new generation with the same stops.
func (m *Matcher) Reset() {
	m.state = 0
	m.buf, m.head, m.base, m.seen = m.buf[:0], 0, 0, 0
	m.match, m.which, m.done = -1, "", false
}

// automaton is an Aho-Corasick automaton over the bytes of the stops;
// state 0 is the root (the empty string).
type automaton struct {
	root  [256]int32 // children of the root, -1 where none
	edges [][]edge   // children of the other states
	fail  []int32    // longest proper suffix of the state that is a state
	// out is the length of the longest stop that is a suffix of the state
	// (0 if none) and outStop its index.
	out     []int32
	outStop []int32
	// hold is the length of the longest suffix of the state that is a
	// proper prefix of some stop: the text the matcher must hold back.
	hold []int32
}

type edge struct {
	b  byte
	to int32
}

func (a *automaton) child(s int32, b byte) int32 {
	if s == 0 {
		return a.root[b]
	}
	for _, e := range a.edges[s] {
		if e.b == b {
			return e.to
		}
	}
	return -1
}

// step is the automaton's transition: the longest suffix of (state + b)
// that is a state.
func (a *automaton) step(s int32, b byte) int32 {
	for {
		if t := a.child(s, b); t >= 0 {
			return t
		}
		if s == 0 {
			return 0
		}
		s = a.fail[s]
	}
}

func build(stops []string) automaton {
	var a automaton
	for i := range a.root {
		a.root[i] = -1
	}
	a.edges = [][]edge{nil}
	a.out = []int32{0}
	a.outStop = []int32{0}
	depth := []int32{0}
	for i, s := range stops {
		cur := int32(0)
		for j := 0; j < len(s); j++ {
			next := a.child(cur, s[j])
			if next < 0 {
				next = int32(len(a.edges))
				a.edges = append(a.edges, nil)
				a.out = append(a.out, 0)
				a.outStop = append(a.outStop, 0)
				depth = append(depth, depth[cur]+1)
				if cur == 0 {
					a.root[s[j]] = next
				} else {
					a.edges[cur] = append(a.edges[cur], edge{s[j], next})
				}
			}
			cur = next
		}
		a.out[cur], a.outStop[cur] = int32(len(s)), int32(i)
	}
	n := len(a.edges)
	a.fail = make([]int32, n)
	a.hold = make([]int32, n)
	hasChild := func(s int32) bool {
		if s == 0 {
			return len(stops) > 0
		}
		return len(a.edges[s]) > 0
	}
	// Breadth first, so a state's fail target is finished before it.
	queue := make([]int32, 0, n)
	for _, c := range a.root {
		if c >= 0 {
			queue = append(queue, c) // fail = 0
		}
	}
	for qi := 0; qi < len(queue); qi++ {
		s := queue[qi]
		f := a.fail[s]
		if a.out[s] == 0 {
			a.out[s], a.outStop[s] = a.out[f], a.outStop[f]
		}
		if hasChild(s) {
			a.hold[s] = depth[s]
		} else {
			a.hold[s] = a.hold[f]
		}
		for _, e := range a.edges[s] {
			a.fail[e.to] = a.step(f, e.b)
			queue = append(queue, e.to)
		}
	}
	return a
}

// completeRunes moves cut back so that text[:cut] does not end with the
// first bytes of a UTF-8 sequence that is still incomplete.
func completeRunes(text []byte, cut int) int {
	for back := 1; back <= utf8.UTFMax-1 && back <= cut; back++ {
		c := text[cut-back]
		if c < utf8.RuneSelf {
			return cut // ASCII: nothing pending
		}
		if utf8.RuneStart(c) {
			if !utf8.FullRune(text[cut-back : cut]) {
				return cut - back
			}
			return cut
		}
	}
	return cut
}
