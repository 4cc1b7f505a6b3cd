package tokenizer

import (
	"sync"
	"unicode/utf8"
)

// merge is the value of a merge rule: its rank (lower merges first) and
// the id of the merged token.
type merge struct{ rank, id int32 }

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// mergeTable is an open-addressing hash table from pairKey to merge,
// faster to build and probe than a map for half a million rules.
type mergeTable struct {
	keys  []uint64 // emptyKey marks a free slot
	vals  []merge
	shift uint
	n     int
}

// emptyKey cannot be a pairKey: ids stay below maxID.
const emptyKey = ^uint64(0)

func newMergeTable(n int) *mergeTable {
	size, shift := 16, uint(60)
	for size < 2*n {
		size <<= 1
		shift--
	}
	t := &mergeTable{keys: make([]uint64, size), vals: make([]merge, size), shift: shift}
	for i := range t.keys {
		t.keys[i] = emptyKey
	}
	return t
}

func (t *mergeTable) slot(k uint64) uint64 { return (k * 0x9E3779B97F4A7C15) >> t.shift }

func (t *mergeTable) put(k uint64, v merge) {
	mask := uint64(len(t.keys) - 1)
	for i := t.slot(k); ; i = (i + 1) & mask {
		switch t.keys[i] {
		case k:
			t.vals[i] = v
			return
		case emptyKey:
			t.keys[i], t.vals[i] = k, v
			t.n++
			return
		}
	}
}

func (t *mergeTable) get(k uint64) (merge, bool) {
	mask := uint64(len(t.keys) - 1)
	for i := t.slot(k); ; i = (i + 1) & mask {
		switch t.keys[i] {
		case k:
			return t.vals[i], true
		case emptyKey:
			return merge{}, false
		}
	}
}

// bpeModel is the BPE model of tokenizer.json.
type bpeModel struct {
	vocab  map[string]int32
	merges *mergeTable

	unk          int32 // -1 when there is none
	fuseUnk      bool
	byteFallback bool
	byteIDs      [256]int32 // ids of <0xXX>, -1 when absent
	ignoreMerges bool
	prefix       string // continuing_subword_prefix
	suffix       string // end_of_word_suffix

	// smallRunes caches the ids of one-character tokens for runes below
	// len(smallRunes) (-1 when absent), avoiding map lookups for the
	// byte-level alphabet and ASCII.
	smallRunes []int32

	cache bpeCache

	// spSplit enables cutting long SentencePiece-style pieces into words
	// before each '▁' (see tokenize); spUnsafe lists the characters
	// that some token joins to a following '▁', before which no cut is
	// made.
	spSplit  bool
	spUnsafe map[rune]bool
}

const metaspace = '▁'

const smallRuneLimit = 0x400

func (m *bpeModel) finish() {
	m.smallRunes = make([]int32, smallRuneLimit)
	for i := range m.smallRunes {
		m.smallRunes[i] = -1
		if id, ok := m.vocab[string(rune(i))]; ok {
			m.smallRunes[i] = id
		}
	}
	for b := 0; b < 256; b++ {
		m.byteIDs[b] = -1
		if id, ok := m.vocab[byteToken(byte(b))]; ok {
			m.byteIDs[b] = id
		}
	}
	m.cache.m = make(map[string][]int32)

	// A merge can only join characters that some token holds side by
	// side, so a piece may be cut before a '▁' whose predecessor never
	// precedes '▁' inside a token: the parts then merge exactly as the
	// whole would. ignore_merges (whole-piece lookups) and affixes would
	// see the cut, so they turn it off.
	if _, ok := m.vocab[string(metaspace)]; ok && !m.ignoreMerges && m.prefix == "" && m.suffix == "" {
		m.spSplit = true
		m.spUnsafe = make(map[rune]bool)
		for tok := range m.vocab {
			prev := rune(-1)
			for _, r := range tok {
				if r == metaspace && prev >= 0 && prev != metaspace {
					m.spUnsafe[prev] = true
				}
				prev = r
			}
		}
	}
}

// byteToken is the byte-fallback token of b: <0x0A>.
func byteToken(b byte) string {
	const hex = "0123456789ABCDEF"
	return string([]byte{'<', '0', 'x', hex[b>>4], hex[b&15], '>'})
}

// bpeCache memoizes the ids of short pieces, like the Rust crate's cache
// (10,000 entries, pieces under 256 bytes); once full it stops growing.
type bpeCache struct {
	mu sync.RWMutex
	m  map[string][]int32
}

const (
	cacheCapacity  = 10000
	cacheMaxLength = 256
)

func (c *bpeCache) get(s string) ([]int32, bool) {
	c.mu.RLock()
	ids, ok := c.m[s]
	c.mu.RUnlock()
	return ids, ok
}

// getBytes is get for a byte slice, without converting it to a string.
func (c *bpeCache) getBytes(b []byte) ([]int32, bool) {
	c.mu.RLock()
	ids, ok := c.m[string(b)]
	c.mu.RUnlock()
	return ids, ok
}

func (c *bpeCache) put(s string, ids []int32) {
	c.mu.Lock()
	if len(c.m) < cacheCapacity {
		c.m[s] = ids
	}
	c.mu.Unlock()
}

// spSplitMin is the piece length from which cutting into words pays.
const spSplitMin = 64

// tokenize appends the ids of one pre-tokenized piece to dst.
func (m *bpeModel) tokenize(dst []int32, s string, w *bpeWork) []int32 {
	if s == "" {
		return dst
	}
	if m.ignoreMerges {
		if id, ok := m.vocab[s]; ok {
			return append(dst, id)
		}
	}
	if m.spSplit && len(s) >= spSplitMin {
		start := 0
		prev := rune(-1)
		for i, r := range s {
			if r == metaspace && i > start && prev != metaspace && m.isSafeBefore(s, i, prev) {
				dst = m.tokenizeWord(dst, s[start:i], w)
				start = i
			}
			prev = r
		}
		return m.tokenizeWord(dst, s[start:], w)
	}
	return m.tokenizeWord(dst, s, w)
}

// isSafeBefore reports whether a piece may be cut before the '▁' at s[i]
// whose predecessor is prev: prev must be a token of its own (an unknown
// character could vanish or become byte or unk tokens that merge across
// the cut) that no token joins to '▁'.
func (m *bpeModel) isSafeBefore(s string, i int, prev rune) bool {
	if m.spUnsafe[prev] {
		return false
	}
	size := utf8.RuneLen(prev)
	if size < 0 || i < size {
		return false
	}
	_, ok := m.lookupChar(s[i-size:i], prev)
	return ok
}

// tokenizeWord runs the merges over s, through the cache.
func (m *bpeModel) tokenizeWord(dst []int32, s string, w *bpeWork) []int32 {
	if len(s) < cacheMaxLength {
		if ids, ok := m.cache.get(s); ok {
			return append(dst, ids...)
		}
	}
	return m.mergeCached(dst, s, w)
}

// mergeCached runs the merges over s and caches the result.
func (m *bpeModel) mergeCached(dst []int32, s string, w *bpeWork) []int32 {
	start := len(dst)
	dst = m.mergeWord(dst, s, w)
	if len(s) < cacheMaxLength {
		ids := make([]int32, len(dst)-start)
		copy(ids, dst[start:])
		m.cache.put(s, ids)
	}
	return dst
}

// tokenizeByteLevel maps raw to byte-level characters and tokenizes the
// result; the mapped piece is only allocated as a string on a cache miss.
func (m *bpeModel) tokenizeByteLevel(dst []int32, raw string, w *bpeWork) []int32 {
	b := w.mapped[:0]
	for i := 0; i < len(raw); i++ {
		b = append(b, byteLevel.encStr[raw[i]]...)
	}
	w.mapped = b
	if len(b) == 0 {
		return dst
	}
	if m.ignoreMerges {
		if id, ok := m.vocab[string(b)]; ok {
			return append(dst, id)
		}
	}
	if m.spSplit && len(b) >= spSplitMin {
		return m.tokenize(dst, string(b), w)
	}
	if len(b) < cacheMaxLength {
		if ids, ok := m.cache.getBytes(b); ok {
			return append(dst, ids...)
		}
	}
	return m.mergeCached(dst, string(b), w)
}

// symbol is one token of a word being merged; removed symbols have n == 0.
type symbol struct {
	id         int32
	prev, next int32
	n          int32 // bytes of the input covered
}

// mergeEntry is a candidate merge of the symbol at pos with its successor.
type mergeEntry struct{ rank, pos, id int32 }

// bpeWork holds scratch buffers reused across pieces of one Encode call.
type bpeWork struct {
	syms   []symbol
	heap   []mergeEntry
	mapped []byte
}

func (m *bpeModel) lookupChar(s string, r rune) (int32, bool) {
	if r < smallRuneLimit && len(s) == utf8.RuneLen(r) {
		id := m.smallRunes[r]
		return id, id >= 0
	}
	id, ok := m.vocab[s]
	return id, ok
}

// mergeWord splits s into characters and applies the merges by rank, as
// the Rust crate's BPE::merge_word and Word::merge_all do.
func (m *bpeModel) mergeWord(dst []int32, s string, w *bpeWork) []int32 {
	syms := w.syms[:0]
	add := func(id int32, n int) {
		k := int32(len(syms))
		prev := k - 1
		if len(syms) > 0 {
			syms[k-1].next = k
		}
		syms = append(syms, symbol{id: id, prev: prev, next: -1, n: int32(n)})
	}
	unkID, unkLen := int32(-1), 0
	for i, r := range s {
		size := utf8.RuneLen(r)
		if r == utf8.RuneError {
			_, size = utf8.DecodeRuneInString(s[i:])
		}
		ch := s[i : i+size]
		var id int32
		var ok bool
		if (m.prefix != "" && i > 0) || (m.suffix != "" && i+size == len(s)) {
			key := ch
			if m.prefix != "" && i > 0 {
				key = m.prefix + key
			}
			if m.suffix != "" && i+size == len(s) {
				key += m.suffix
			}
			ch = key
			id, ok = m.vocab[key]
		} else {
			id, ok = m.lookupChar(ch, r)
		}
		if ok {
			if unkID >= 0 {
				add(unkID, unkLen)
				unkID = -1
			}
			add(id, size)
			continue
		}
		if m.byteFallback {
			all := true
			for k := 0; k < len(ch); k++ {
				if m.byteIDs[ch[k]] < 0 {
					all = false
					break
				}
			}
			if all {
				for k := 0; k < len(ch); k++ {
					add(m.byteIDs[ch[k]], 1)
				}
				continue
			}
		}
		if m.unk >= 0 {
			switch {
			case unkID >= 0 && m.fuseUnk:
				unkLen += size
			case unkID >= 0:
				add(unkID, unkLen)
				unkID, unkLen = m.unk, size
			default:
				unkID, unkLen = m.unk, size
			}
		}
	}
	if unkID >= 0 {
		add(unkID, unkLen)
	}

	if len(syms) > 1 && m.merges.n > 0 {
		h := w.heap[:0]
		for k := 0; k+1 < len(syms); k++ {
			if mg, ok := m.merges.get(pairKey(syms[k].id, syms[k+1].id)); ok {
				h = heapPush(h, mergeEntry{mg.rank, int32(k), mg.id})
			}
		}
		for len(h) > 0 {
			var top mergeEntry
			top, h = heapPop(h)
			cur := &syms[top.pos]
			if cur.n == 0 || cur.next < 0 {
				continue
			}
			nextPos := cur.next
			right := syms[nextPos]
			mg, ok := m.merges.get(pairKey(cur.id, right.id))
			if !ok || mg.id != top.id {
				continue
			}
			cur.id = top.id
			cur.n += right.n
			cur.next = right.next
			syms[nextPos].n = 0
			if right.next >= 0 {
				syms[right.next].prev = top.pos
			}
			if cur.prev >= 0 {
				if mg, ok := m.merges.get(pairKey(syms[cur.prev].id, cur.id)); ok {
					h = heapPush(h, mergeEntry{mg.rank, cur.prev, mg.id})
				}
			}
			if cur.next >= 0 {
				if mg, ok := m.merges.get(pairKey(cur.id, syms[cur.next].id)); ok {
					h = heapPush(h, mergeEntry{mg.rank, top.pos, mg.id})
				}
			}
		}
		w.heap = h
	}
	for k := range syms {
		if syms[k].n != 0 {
			dst = append(dst, syms[k].id)
		}
	}
	w.syms = syms
	return dst
}

func entryLess(a, b mergeEntry) bool {
	return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos)
}

func heapPush(h []mergeEntry, e mergeEntry) []mergeEntry {
	h = append(h, e)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !entryLess(h[i], h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	return h
}

func heapPop(h []mergeEntry) (mergeEntry, []mergeEntry) {
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		c := l
		if r := l + 1; r < len(h) && entryLess(h[r], h[l]) {
			c = r
		}
		if !entryLess(h[c], h[i]) {
			break
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
	return top, h
}
