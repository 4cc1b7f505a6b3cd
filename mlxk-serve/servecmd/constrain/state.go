package constrain

import "math/bits"

// mode is what the automaton expects next.
type mode uint8

const (
	mValue    mode = iota // a value of want (whitespace first)
	mString               // inside a string value
	mKey                  // inside an object key that may be any string
	mLit                  // matching literal candidates (enum, true/false/null, fixed keys)
	mNumber               // inside a number
	mAfterVal             // after a value in a container: ',' or the close
	mObjStart             // after '{': a key or '}'
	mObjKey               // after ',' in an object: a key
	mColon                // after a key: ':'
	mArrStart             // after '[': a value or ']'
	mDone                 // the root value is complete
)

// betweenTokens reports whether m expects the start of a JSON token,
// which whitespace may precede.
func (m mode) betweenTokens() bool {
	switch m {
	case mValue, mAfterVal, mObjStart, mObjKey, mColon, mArrStart:
		return true
	}
	return false
}

// Whitespace between tokens is one space or tab, or one line break
// followed by up to maxIndent spaces or tabs: compact and pretty-printed
// JSON stay possible, but a model cannot pad (small models like to write
// line after empty line).
const maxIndent = 32

// frame is an open container. Frames are immutable and shared between
// states, so copying a State is cheap.
type frame struct {
	up   *frame
	node *node
	seen uint64 // object: properties given
	cur  *node  // object: the schema of the value after the current key
	n    int    // array: items so far
}

// Phases of a wrapped grammar.
const (
	phaseValue  uint8 = iota // the JSON value
	phasePrefix              // the text before it
	phaseSuffix              // the text after it
	phaseEnd                 // everything written
)

// State is the automaton's position in the output. The zero value is
// unusable; Grammar.Start returns the initial state. States are values:
// copy one to try bytes without committing.
type State struct {
	g     *Grammar
	phase uint8
	at    int // bytes of the prefix or suffix written
	top   *frame
	mode  mode
	want  *node
	// literal matching (mLit), and key matching (mKey)
	lits   []string
	mask   uint64
	pos    int
	litKey bool
	// strings
	esc  bool
	hex  uint8 // \u digits still expected
	cont uint8 // UTF-8 continuation bytes still expected
	// numbers
	num     uint8
	integer bool
	space   uint8
}

// Start is the state before the first byte.
func (g *Grammar) Start() State {
	s := State{g: g, mode: mValue, want: g.root}
	if g.prefix != "" {
		s.phase = phasePrefix
	}
	return s
}

// Done reports that the output is complete and nothing but the end may
// follow.
func (s *State) Done() bool {
	return s.phase == phaseEnd || s.phase == phaseValue && s.mode == mDone && s.g.suffix == ""
}

// Accepting reports whether the output may end here.
func (s *State) Accepting() bool {
	switch {
	case s.phase == phaseEnd:
		return true
	case s.phase != phaseValue || s.g.suffix != "":
		return false
	case s.mode == mDone:
		return true
	case s.top != nil:
		return false
	case s.mode == mNumber:
		return numComplete(s.num)
	case s.mode == mLit:
		return s.litComplete() >= 0
	}
	return false
}

func isSpace(b byte) bool { return b == ' ' || b == '\n' || b == '\r' || b == '\t' }

// spaceByte takes a whitespace byte b of the current run. s.space counts
// the run's bytes; a run that began with a line break is marked by its
// high bit.
func (s *State) spaceByte(b byte) bool {
	const afterBreak = 0x80
	switch {
	case s.space == 0 && b == '\n':
		s.space = afterBreak | 1
	case s.space == 0 && (b == ' ' || b == '\t'):
		s.space = 1
	case s.space&afterBreak != 0 && (b == ' ' || b == '\t') && int(s.space&^afterBreak) <= maxIndent:
		s.space++
	default:
		return false
	}
	return true
}

// Advance consumes one byte; false means the byte is not allowed (s is
// then unspecified: advance a copy when probing).
func (s *State) Advance(b byte) bool {
	switch s.phase {
	case phasePrefix:
		return s.fixed(s.g.prefix, b, phaseValue)
	case phaseSuffix:
		return s.fixed(s.g.suffix, b, phaseEnd)
	case phaseEnd:
		return false
	}
	for {
		if s.mode.betweenTokens() { // whitespace may come first
			if isSpace(b) {
				return s.spaceByte(b)
			}
			s.space = 0
		}
		switch s.mode {
		case mDone:
			if s.g.suffix != "" && b == s.g.suffix[0] {
				s.phase, s.at = phaseSuffix, 0
				return s.fixed(s.g.suffix, b, phaseEnd)
			}
			return isSpace(b) && s.spaceByte(b)
		case mValue:
			return s.startValue(b)
		case mString, mKey:
			return s.stringByte(b)
		case mLit:
			if s.litByte(b) {
				return true
			}
			i := s.litComplete()
			if i < 0 {
				return false
			}
			if s.litKey {
				s.keyDone(i)
			} else {
				s.valueDone()
			}
			// b comes after the literal: process it in the new mode.
		case mNumber:
			if s.numByte(b) {
				return true
			}
			if !numComplete(s.num) {
				return false
			}
			s.valueDone()
		case mAfterVal:
			return s.afterValue(b)
		case mObjStart, mObjKey:
			if b == '"' {
				return s.startKey()
			}
			if b == '}' && s.mode == mObjStart && s.top.node.required == 0 {
				s.top = s.top.up
				s.valueDone()
				return true
			}
			return false
		case mColon:
			if b != ':' {
				return false
			}
			s.mode, s.want = mValue, s.top.cur
			return true
		case mArrStart:
			if b == ']' {
				if s.top.node.minItems > 0 {
					return false
				}
				s.top = s.top.up
				s.valueDone()
				return true
			}
			if s.top.node.maxItems == 0 {
				return false
			}
			s.mode, s.want = mValue, s.top.node.items
			return s.startValue(b)
		default:
			return false
		}
	}
}

// fixed matches the next byte of a fixed text, moving to next after its
// last byte.
func (s *State) fixed(text string, b byte, next uint8) bool {
	if s.at >= len(text) || text[s.at] != b {
		return false
	}
	s.at++
	if s.at == len(text) {
		s.phase, s.at = next, 0
	}
	return true
}

// startValue begins a value of s.want with its first byte.
func (s *State) startValue(b byte) bool {
	n := s.want
	for n.kind == kUnion {
		var pick *node
		for _, a := range n.alts {
			if startsWith(a, b, 0) {
				pick = a
				break
			}
		}
		if pick == nil {
			return false
		}
		n = pick
	}
	s.want = n
	switch {
	case n.kind == kEnum:
		return s.startLit(n.lits, b)
	case b == '{' && n.kind == kObject:
		return s.open(n, mObjStart)
	case b == '{' && n.kind == kAny:
		return s.open(anyObject, mObjStart)
	case b == '[' && n.kind == kArray:
		return s.open(n, mArrStart)
	case b == '[' && n.kind == kAny:
		return s.open(anyArray, mArrStart)
	case b == '"' && (n.kind == kString || n.kind == kAny):
		s.mode, s.esc, s.hex, s.cont = mString, false, 0, 0
		return true
	case (b == '-' || b >= '0' && b <= '9') && (n.kind == kNumber || n.kind == kInteger || n.kind == kAny):
		s.mode, s.num, s.integer = mNumber, 0, n.kind == kInteger
		return s.numByte(b)
	case (b == 't' || b == 'f') && n.kind == kAny:
		return s.startLit(boolLits, b)
	case b == 'n' && n.kind == kAny:
		return s.startLit(nullLits, b)
	}
	return false
}

// open enters a container (an object or array node) with its first byte.
func (s *State) open(n *node, m mode) bool {
	s.top = &frame{up: s.top, node: n}
	s.mode = m
	return true
}

// startLit begins one of the literal texts lits (an enum's values, true
// and false, null) with its first byte.
func (s *State) startLit(lits []string, b byte) bool {
	s.mode, s.lits, s.mask, s.pos, s.litKey = mLit, lits, fullMask(len(lits)), 0, false
	return s.litByte(b)
}

func fullMask(n int) uint64 {
	if n >= 64 {
		return ^uint64(0)
	}
	return 1<<n - 1
}

// valueDone closes a value: back to its container, or done at the root.
func (s *State) valueDone() {
	s.lits, s.mask = nil, 0
	if s.top == nil {
		s.mode = mDone
		return
	}
	if s.top.node.kind == kArray {
		f := *s.top
		f.n++
		s.top = &f
	}
	s.mode = mAfterVal
}

func (s *State) afterValue(b byte) bool {
	f := s.top
	if f.node.kind == kArray {
		switch b {
		case ',':
			if f.node.maxItems >= 0 && f.n >= f.node.maxItems {
				return false
			}
			s.mode, s.want = mValue, f.node.items
			return true
		case ']':
			if f.n < f.node.minItems {
				return false
			}
			s.top = f.up
			s.valueDone()
			return true
		}
		return false
	}
	switch b {
	case ',':
		if f.node.additional == nil && unseen(f) == 0 {
			return false // every allowed key is given
		}
		s.mode = mObjKey
		return true
	case '}':
		if f.node.required&^f.seen != 0 {
			return false
		}
		s.top = f.up
		s.valueDone()
		return true
	}
	return false
}

func unseen(f *frame) uint64 { return fullMask(len(f.node.props)) &^ f.seen }

// startKey begins an object key (the opening quote is consumed here).
func (s *State) startKey() bool {
	f := s.top
	cands := unseen(f)
	if f.node.additional == nil {
		if cands == 0 {
			return false
		}
		s.mode, s.lits, s.mask, s.pos, s.litKey = mLit, f.node.keyLits, cands, 1, true
		return true
	}
	// Any key may come; track the declared ones to know the value's schema.
	s.mode, s.lits, s.mask, s.pos, s.esc, s.hex, s.cont = mKey, f.node.keyLits, cands, 1, false, 0, 0
	return true
}

// keyDone records that the key of property i (or, with i < 0, another
// key) was written.
func (s *State) keyDone(i int) {
	f := *s.top
	if i >= 0 {
		f.seen |= 1 << i
		f.cur = f.node.props[i]
	} else {
		f.cur = f.node.additional
	}
	s.top = &f
	s.mode, s.lits, s.mask = mColon, nil, 0
}

func isHex(b byte) bool { return b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F' }

func (s *State) stringByte(b byte) bool {
	key := s.mode == mKey
	// Strings hold valid UTF-8: a multi-byte character is written whole.
	if s.cont > 0 {
		if b < 0x80 || b > 0xBF {
			return false
		}
		s.cont--
		return s.keyByte(key, b)
	}
	switch {
	case b >= 0xC2 && b <= 0xDF:
		s.cont = 1
		return s.keyByte(key, b)
	case b >= 0xE0 && b <= 0xEF:
		s.cont = 2
		return s.keyByte(key, b)
	case b >= 0xF0 && b <= 0xF4:
		s.cont = 3
		return s.keyByte(key, b)
	case b >= 0x80:
		return false
	}
	switch {
	case s.hex > 0:
		if !isHex(b) {
			return false
		}
		s.hex--
		return true
	case s.esc:
		s.esc = false
		switch b {
		case 'u':
			s.hex = 4
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		default:
			return false
		}
		s.mask = 0 // escaped keys are never declared names
		return true
	case b == '\\':
		s.esc = true
		return true
	case b == '"':
		if !key {
			s.valueDone()
			return true
		}
		i := -1
		for m := s.mask; m != 0; m &= m - 1 {
			j := bits.TrailingZeros64(m)
			if len(s.lits[j]) == s.pos+1 {
				i = j
			}
		}
		s.keyDone(i)
		return true
	case b < 0x20:
		return false
	}
	return s.keyByte(key, b)
}

// keyByte narrows the declared names a key being written can still be.
func (s *State) keyByte(key bool, b byte) bool {
	if key && s.mask != 0 {
		var keep uint64
		for m := s.mask; m != 0; m &= m - 1 {
			j := bits.TrailingZeros64(m)
			if l := s.lits[j]; s.pos < len(l)-1 && l[s.pos] == b {
				keep |= 1 << j
			}
		}
		s.mask = keep
		s.pos++
	}
	return true
}

// litByte continues the literal candidates with b.
func (s *State) litByte(b byte) bool {
	var keep uint64
	for m := s.mask; m != 0; m &= m - 1 {
		j := bits.TrailingZeros64(m)
		if l := s.lits[j]; s.pos < len(l) && l[s.pos] == b {
			keep |= 1 << j
		}
	}
	if keep == 0 {
		return false
	}
	s.mask = keep
	s.pos++
	return true
}

// litComplete is the candidate written in full, or -1.
func (s *State) litComplete() int {
	for m := s.mask; m != 0; m &= m - 1 {
		j := bits.TrailingZeros64(m)
		if len(s.lits[j]) == s.pos {
			return j
		}
	}
	return -1
}

// Number automaton states (JSON's number grammar).
const (
	numStart = iota // nothing yet
	numMinus        // "-"
	numZero         // "0" or "-0": complete
	numInt          // integer digits: complete
	numDot          // "."
	numFrac         // fraction digits: complete
	numE            // "e"
	numESign        // "e+" / "e-"
	numExp          // exponent digits: complete
)

func numComplete(n uint8) bool { return n == numZero || n == numInt || n == numFrac || n == numExp }

func (s *State) numByte(b byte) bool {
	digit := b >= '0' && b <= '9'
	switch s.num {
	case numStart:
		switch {
		case b == '-':
			s.num = numMinus
		case b == '0':
			s.num = numZero
		case digit:
			s.num = numInt
		default:
			return false
		}
	case numMinus:
		switch {
		case b == '0':
			s.num = numZero
		case digit:
			s.num = numInt
		default:
			return false
		}
	case numZero, numInt:
		switch {
		case digit && s.num == numInt:
			s.num = numInt
		case b == '.' && !s.integer:
			s.num = numDot
		case (b == 'e' || b == 'E') && !s.integer:
			s.num = numE
		default:
			return false
		}
	case numDot, numFrac:
		switch {
		case digit:
			s.num = numFrac
		case (b == 'e' || b == 'E') && s.num == numFrac:
			s.num = numE
		default:
			return false
		}
	case numE:
		switch {
		case b == '+' || b == '-':
			s.num = numESign
		case digit:
			s.num = numExp
		default:
			return false
		}
	case numESign, numExp:
		if !digit {
			return false
		}
		s.num = numExp
	default:
		return false
	}
	return true
}
