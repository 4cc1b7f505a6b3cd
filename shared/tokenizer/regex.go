package tokenizer

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// span is a half-open byte range of a match.
type span struct{ start, end int }

// matcher finds the matches of a Split/Replace pattern. findAll appends
// them to dst with the semantics of the Rust tokenizers crate (Oniguruma's
// find_iter): non-overlapping, leftmost, and an empty match directly after
// the previous match is skipped.
type matcher interface {
	findAll(dst []span, s string) []span
}

// literalMatcher matches a fixed string (SplitPattern::String).
type literalMatcher struct{ lit string }

func (m literalMatcher) findAll(dst []span, s string) []span {
	if m.lit == "" {
		return dst
	}
	off := 0
	for {
		i := strings.Index(s[off:], m.lit)
		if i < 0 {
			return dst
		}
		dst = append(dst, span{off + i, off + i + len(m.lit)})
		off += i + len(m.lit)
	}
}

// regexMatcher runs an Oniguruma-syntax pattern through regexp2.
type regexMatcher struct{ re *regexp2.Regexp }

func compileRegex(pattern string) (*regexMatcher, error) {
	tr, err := translateOniguruma(pattern)
	if err != nil {
		return nil, err
	}
	re, err := regexp2.Compile(tr, regexp2.None)
	if err != nil {
		return nil, fmt.Errorf("%w: regex %q: %v", ErrInvalid, pattern, err)
	}
	return &regexMatcher{re: re}, nil
}

func (m *regexMatcher) findAll(dst []span, s string) []span {
	if s == "" {
		return dst
	}
	runes := []rune(s)
	// byteAt[i] is the byte offset of rune i (valid UTF-8 input assumed;
	// invalid bytes are never passed in).
	byteAt := make([]int, len(runes)+1)
	off := 0
	for i, r := range runes {
		byteAt[i] = off
		off += utf8.RuneLen(r)
	}
	byteAt[len(runes)] = off
	lastEnd, lastMatchEnd := 0, -1
	for lastEnd <= len(runes) {
		mt, err := m.re.FindRunesMatchStartingAt(runes, lastEnd)
		if err != nil || mt == nil {
			break
		}
		st, en := mt.Index, mt.Index+mt.Length
		if st == en && en == lastMatchEnd {
			lastEnd++
			continue
		}
		lastEnd, lastMatchEnd = en, en
		dst = append(dst, span{byteAt[st], byteAt[en]})
	}
	return dst
}

// translateOniguruma rewrites the Oniguruma (Ruby syntax) constructs found
// in tokenizer.json patterns into regexp2 syntax where the two differ:
//   - (?i:…) and (?i) fold ASCII letters with their Unicode simple case
//     folding orbits (s/ſ, k/K) the way Oniguruma does, instead of
//     regexp2's culture-based lowering;
//   - X*+, X++, X?+ are possessive (atomic) in Oniguruma;
//   - X{n,m}+ and X{n,m}* repeat the interval (regexp2 rejects them);
//   - $ matches only at the very end, ^ only at the start;
//   - \h / \H are hex-digit classes; \x{H…} is a code point.
func translateOniguruma(p string) (string, error) {
	var out strings.Builder
	type group struct {
		start int  // out.Len() at the group's "("
		ci    bool // case-insensitive state to restore at ")"
	}
	var stack []group
	ci := false
	atom := -1     // out offset where the last complete atom starts
	lastQ := false // the previous token was a quantifier
	emitAtom := func(s string) {
		atom = out.Len()
		out.WriteString(s)
		lastQ = false
	}
	wrapAtom := func(prefix, suffix string) {
		cur := out.String()
		out.Reset()
		out.WriteString(cur[:atom])
		out.WriteString(prefix)
		out.WriteString(cur[atom:])
		out.WriteString(suffix)
	}
	for i := 0; i < len(p); {
		c := p[i]
		switch c {
		case '\\':
			if i+1 >= len(p) {
				return "", fmt.Errorf("%w: regex %q: trailing backslash", ErrInvalid, p)
			}
			e := p[i+1]
			switch {
			case e == 'h':
				emitAtom(`[0-9a-fA-F]`)
				i += 2
			case e == 'H':
				emitAtom(`[^0-9a-fA-F]`)
				i += 2
			case e == 'x' && i+2 < len(p) && p[i+2] == '{':
				j := strings.IndexByte(p[i:], '}')
				if j < 0 || j == 3 {
					return "", fmt.Errorf("%w: regex %q: bad \\x{}", ErrInvalid, p)
				}
				var r rune
				for k := i + 3; k < i+j; k++ {
					h := hexVal(p[k])
					if h < 0 || r > utf8.MaxRune>>4 {
						return "", fmt.Errorf("%w: regex %q: bad \\x{}", ErrInvalid, p)
					}
					r = r<<4 | rune(h)
				}
				if !utf8.ValidRune(r) {
					return "", fmt.Errorf("%w: regex %q: bad \\x{}", ErrInvalid, p)
				}
				emitAtom(regexp2.Escape(string(r)))
				i += j + 1
			case e == 'p' || e == 'P':
				j, name, err := propertyEnd(p, i)
				if err != nil {
					return "", err
				}
				if body := extraBody(name); body != "" {
					neg := ""
					if e == 'P' {
						neg = "^"
					}
					emitAtom("[" + neg + `\p{` + name + "}" + body + "]")
				} else {
					emitAtom(p[i:j])
				}
				i = j
			case e == 'd' || e == 'D':
				neg := ""
				if e == 'D' {
					neg = "^"
				}
				emitAtom("[" + neg + `\d` + extraBody("Nd") + "]")
				i += 2
			default:
				// Other escapes (\s, \d, \r, \n, \., …) keep their meaning.
				_, size := utf8.DecodeRuneInString(p[i+1:])
				emitAtom(p[i : i+1+size])
				i += 1 + size
			}
		case '[':
			j, err := classEnd(p, i)
			if err != nil {
				return "", err
			}
			cls, err := rewriteClass(p[i:j])
			if err != nil {
				return "", err
			}
			if ci {
				cls = "(?i:" + cls + ")"
			}
			emitAtom(cls)
			i = j
		case '(':
			if strings.HasPrefix(p[i:], "(?i)") {
				ci = true
				i += len("(?i)")
				continue
			}
			if strings.HasPrefix(p[i:], "(?-i)") {
				ci = false
				i += len("(?-i)")
				continue
			}
			stack = append(stack, group{start: out.Len(), ci: ci})
			switch {
			case strings.HasPrefix(p[i:], "(?i:"):
				ci = true
				out.WriteString("(?:")
				i += 4
			case strings.HasPrefix(p[i:], "(?-i:"):
				ci = false
				out.WriteString("(?:")
				i += 5
			default:
				// (?:, (?=, (?!, (?<=, (?<!, (?>, (?<name>, (?P<name> are
				// copied as they are.
				j := i + 1
				if j < len(p) && p[j] == '?' {
					j++
					switch {
					case strings.HasPrefix(p[j:], "<=") || strings.HasPrefix(p[j:], "<!"):
						j += 2
					case j < len(p) && strings.IndexByte(":=!>", p[j]) >= 0:
						j++
					case j < len(p) && (p[j] == '<' || p[j] == 'P' || p[j] == '\''):
						k := strings.IndexAny(p[j+1:], ">'")
						if k < 0 {
							return "", fmt.Errorf("%w: regex %q: bad group name", ErrInvalid, p)
						}
						j += k + 2
					}
				}
				out.WriteString(p[i:j])
				i = j
			}
			lastQ = false
		case ')':
			if len(stack) == 0 {
				return "", fmt.Errorf("%w: regex %q: unbalanced )", ErrInvalid, p)
			}
			g := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			out.WriteByte(')')
			atom = g.start
			ci = g.ci
			lastQ = false
			i++
		case '|':
			out.WriteByte('|')
			atom = -1
			lastQ = false
			i++
		case '$':
			emitAtom(`\z`)
			i++
		case '*', '+', '?':
			if lastQ && atom >= 0 {
				// A quantifier after a quantifier: X*+ X++ X?+ are
				// possessive; X*? X+? X?? are lazy (regexp2 knows them).
				switch {
				case c == '+':
					wrapAtom("(?>", ")")
					lastQ = false
					i++
					continue
				case c == '?':
					out.WriteByte('?')
					lastQ = false
					i++
					continue
				}
			}
			if atom < 0 {
				return "", fmt.Errorf("%w: regex %q: quantifier without operand", ErrInvalid, p)
			}
			out.WriteByte(c)
			lastQ = true
			i++
		case '{':
			j := intervalEnd(p, i)
			if j < 0 || atom < 0 {
				emitAtom(`\{`)
				i++
				continue
			}
			body := p[i:j]
			if strings.HasPrefix(body, "{,") {
				body = "{0," + body[2:]
			}
			if lastQ {
				// Interval after a quantifier: nest.
				wrapAtom("(?:", ")")
			}
			out.WriteString(body)
			i = j
			if i < len(p) && (p[i] == '+' || p[i] == '*') {
				// Oniguruma (Ruby syntax): X{n,m}+ is (X{n,m})+.
				wrapAtom("(?:", ")")
				out.WriteByte(p[i])
				i++
				lastQ = true
				continue
			}
			lastQ = true
		default:
			r, size := utf8.DecodeRuneInString(p[i:])
			switch {
			case ci && r < utf8.RuneSelf && isASCIILetter(byte(r)):
				emitAtom(foldClass(byte(r)))
			case ci && r >= utf8.RuneSelf && unicode.IsLetter(r):
				emitAtom("(?i:" + p[i:i+size] + ")")
			default:
				emitAtom(p[i : i+size])
			}
			i += size
		}
	}
	if len(stack) != 0 {
		return "", fmt.Errorf("%w: regex %q: unbalanced (", ErrInvalid, p)
	}
	return out.String(), nil
}

func isASCIILetter(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// foldClass returns a class of the simple case folding orbit of an ASCII
// letter.
func foldClass(c byte) string {
	lo, up := c|0x20, c&^0x20
	switch lo {
	case 's':
		return "[sS\u017F]"
	case 'k':
		return "[kK\u212A]"
	}
	return "[" + string(rune(lo)) + string(rune(up)) + "]"
}

// classEnd returns the index just past the character class starting at
// p[i] == '['. Nested classes (Oniguruma) are passed through as is.
func classEnd(p string, i int) (int, error) {
	depth := 0
	j := i
	for j < len(p) {
		switch p[j] {
		case '\\':
			j += 2
			continue
		case '[':
			depth++
			if j+1 < len(p) && p[j+1] == ':' {
				// POSIX bracket [:alpha:]
				if k := strings.Index(p[j+2:], ":]"); k >= 0 {
					j += k + 4
					depth--
					continue
				}
			}
			j++
			// A ']' right after '[' or '[^' is literal.
			if j < len(p) && p[j] == '^' {
				j++
			}
			if j < len(p) && p[j] == ']' {
				j++
			}
			continue
		case ']':
			depth--
			j++
			if depth == 0 {
				return j, nil
			}
			continue
		}
		j++
	}
	return 0, fmt.Errorf("%w: regex %q: unterminated class", ErrInvalid, p)
}

// intervalEnd returns the index past a {n}, {n,}, {n,m} or {,m} quantifier
// at p[i], or -1 when the brace is a literal.
func intervalEnd(p string, i int) int {
	j := i + 1
	digits := func() int {
		n := 0
		for j < len(p) && p[j] >= '0' && p[j] <= '9' {
			j++
			n++
		}
		return n
	}
	a := digits()
	if j < len(p) && p[j] == ',' {
		j++
		b := digits()
		if a == 0 && b == 0 {
			return -1
		}
	} else if a == 0 {
		return -1
	}
	if j < len(p) && p[j] == '}' {
		return j + 1
	}
	return -1
}

// propertyEnd parses \p{Name} or \pN at p[i] and returns the index past
// it and the name.
func propertyEnd(p string, i int) (int, string, error) {
	j := i + 2
	if j < len(p) && p[j] == '{' {
		k := strings.IndexByte(p[j:], '}')
		if k < 0 {
			return 0, "", fmt.Errorf("%w: regex %q: bad \\p{}", ErrInvalid, p)
		}
		return j + k + 1, p[j+1 : j+k], nil
	}
	if j < len(p) {
		_, size := utf8.DecodeRuneInString(p[j:])
		return j + size, p[j : j+size], nil
	}
	return 0, "", fmt.Errorf("%w: regex %q: bad \\p", ErrInvalid, p)
}

// extraBody returns the class body of the characters a general category
// gained after Go's Unicode tables, or "".
func extraBody(name string) string {
	if t, ok := extraTables[name]; ok {
		return classBody(t)
	}
	return ""
}

// rewriteClass adds the post-15.0 characters to positive \p{…} and \d
// items inside a character class.
func rewriteClass(cls string) (string, error) {
	if !strings.Contains(cls, `\`) {
		return cls, nil
	}
	var b strings.Builder
	for i := 0; i < len(cls); {
		if cls[i] != '\\' || i+1 >= len(cls) {
			b.WriteByte(cls[i])
			i++
			continue
		}
		switch cls[i+1] {
		case 'p':
			j, name, err := propertyEnd(cls, i)
			if err != nil {
				return "", err
			}
			b.WriteString(cls[i:j])
			b.WriteString(extraBody(name))
			i = j
		case 'd':
			b.WriteString(`\d`)
			b.WriteString(extraBody("Nd"))
			i += 2
		default:
			_, size := utf8.DecodeRuneInString(cls[i+1:])
			b.WriteString(cls[i : i+1+size])
			i += 1 + size
		}
	}
	return b.String(), nil
}
