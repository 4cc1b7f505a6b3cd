package tokenizer

import (
	"strings"
	"unicode"
)

// Character predicates at Unicode 16.0, the version the Rust tokenizers
// crate matches with (Oniguruma's \p{…}, Rust's char methods).

func isLetter(r rune) bool {
	if r < 0x80 {
		return isASCIILetter(byte(r))
	}
	return unicode.IsLetter(r) || unicode.Is(extraL, r)
}

func isNumber(r rune) bool {
	if r < 0x80 {
		return r >= '0' && r <= '9'
	}
	return unicode.IsNumber(r) || unicode.Is(extraN, r)
}

func isMark(r rune) bool {
	return r >= 0x300 && (unicode.IsMark(r) || unicode.Is(extraM, r))
}

func isDigit(r rune) bool {
	if r < 0x80 {
		return r >= '0' && r <= '9'
	}
	return unicode.Is(unicode.Nd, r) || unicode.Is(extraNd, r)
}

func isPunct(r rune) bool {
	return unicode.IsPunct(r) || unicode.Is(extraP, r)
}

// extraTables maps the general categories a pattern may name to their
// post-15.0 additions.
var extraTables = map[string]*unicode.RangeTable{
	"L": extraL, "Lu": extraLu, "Ll": extraLl, "Lt": extraLt, "Lm": extraLm, "Lo": extraLo,
	"M": extraM, "N": extraN, "Nd": extraNd, "P": extraP,
}

// classBody renders a range table as the inside of a regex character
// class (literal characters; none of them is special in a class).
func classBody(t *unicode.RangeTable) string {
	var b strings.Builder
	for _, r := range t.R16 {
		b.WriteRune(rune(r.Lo))
		if r.Hi > r.Lo {
			b.WriteByte('-')
			b.WriteRune(rune(r.Hi))
		}
	}
	for _, r := range t.R32 {
		b.WriteRune(rune(r.Lo))
		if r.Hi > r.Lo {
			b.WriteByte('-')
			b.WriteRune(rune(r.Hi))
		}
	}
	return b.String()
}
