package tokenizer

import "unicode/utf8"

// toValidUTF8 returns b with every ill-formed sequence replaced by U+FFFD,
// one replacement per maximal subpart (the Unicode/WHATWG practice that
// Rust's String::from_utf8_lossy and JavaScript's TextDecoder follow; Go's
// own decoders replace byte by byte instead).
func toValidUTF8(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	out := make([]byte, 0, len(b)+8)
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			out = append(out, c)
			i++
			continue
		}
		n := validPrefix(b[i:])
		if n > 0 {
			out = append(out, b[i:i+n]...)
			i += n
			continue
		}
		out = append(out, "\uFFFD"...)
		i += maximalSubpart(b[i:])
	}
	return out
}

// validString returns s unchanged when it is valid UTF-8, else the lossy
// conversion of toValidUTF8.
func validString(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return string(toValidUTF8([]byte(s)))
}

// seqBounds gives, for a lead byte, the sequence length and the allowed
// range of the second byte (later bytes are always 0x80..0xBF).
func seqBounds(c byte) (n int, lo, hi byte) {
	switch {
	case c >= 0xC2 && c <= 0xDF:
		return 2, 0x80, 0xBF
	case c == 0xE0:
		return 3, 0xA0, 0xBF
	case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
		return 3, 0x80, 0xBF
	case c == 0xED:
		return 3, 0x80, 0x9F
	case c == 0xF0:
		return 4, 0x90, 0xBF
	case c >= 0xF1 && c <= 0xF3:
		return 4, 0x80, 0xBF
	case c == 0xF4:
		return 4, 0x80, 0x8F
	}
	return 0, 0, 0
}

// validPrefix returns the length of the well-formed sequence at the start
// of b (whose first byte is >= 0x80), or 0.
func validPrefix(b []byte) int {
	n, lo, hi := seqBounds(b[0])
	if n == 0 || len(b) < n {
		return 0
	}
	if b[1] < lo || b[1] > hi {
		return 0
	}
	for k := 2; k < n; k++ {
		if b[k] < 0x80 || b[k] > 0xBF {
			return 0
		}
	}
	return n
}

// maximalSubpart returns the length of the ill-formed prefix of b that one
// U+FFFD replaces: the lead byte plus the continuation bytes that could
// still have completed it.
func maximalSubpart(b []byte) int {
	n, lo, hi := seqBounds(b[0])
	if n == 0 {
		return 1
	}
	k := 1
	if k < len(b) && b[k] >= lo && b[k] <= hi {
		k++
		for k < n && k < len(b) && b[k] >= 0x80 && b[k] <= 0xBF {
			k++
		}
	}
	return k
}

// incompleteTail returns how many bytes at the end of b form the start of
// a UTF-8 sequence that more bytes could still complete (0..3).
func incompleteTail(b []byte) int {
	for k := 1; k <= 3 && k <= len(b); k++ {
		c := b[len(b)-k]
		if c < 0x80 {
			return 0
		}
		if c >= 0xC0 {
			n, lo, hi := seqBounds(c)
			if n <= k {
				return 0
			}
			tail := b[len(b)-k:]
			if len(tail) > 1 && (tail[1] < lo || tail[1] > hi) {
				return 0
			}
			return k
		}
	}
	return 0
}

// ByteLevelAlphabet is GPT-2's bytes_to_unicode table, the alphabet of
// byte-level BPE vocabularies: the character that stands for each byte.
func ByteLevelAlphabet() [256]rune { return byteLevel.enc }

// ByteLevelByte is the byte a byte-level character stands for; ok is
// false for a character outside the alphabet.
func ByteLevelByte(r rune) (b byte, ok bool) { return byteLevel.decodeRune(r) }

// byteLevel holds the GPT-2 bytes_to_unicode table: printable bytes map to
// themselves, the other 68 to U+0100 + n in byte order.
type byteLevelTables struct {
	enc    [256]rune   // byte -> rune
	encStr [256]string // byte -> UTF-8 of enc
	dec    map[rune]byte
}

func newByteLevelTables() *byteLevelTables {
	t := &byteLevelTables{dec: make(map[rune]byte, 256)}
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			t.enc[b] = rune(b)
		} else {
			t.enc[b] = rune(256 + n)
			n++
		}
		t.encStr[b] = string(t.enc[b])
		t.dec[t.enc[b]] = byte(b)
	}
	return t
}

// decodeRune maps a byte-level rune back to its byte.
func (t *byteLevelTables) decodeRune(r rune) (byte, bool) {
	if r < 0x100 {
		if (r >= '!' && r <= '~') || (r >= 0xA1 && r <= 0xAC) || (r >= 0xAE && r <= 0xFF) {
			return byte(r), true
		}
		return 0, false
	}
	if r < 0x144 {
		b, ok := t.dec[r]
		return b, ok
	}
	return 0, false
}
