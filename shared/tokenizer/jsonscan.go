package tokenizer

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner is a small validating JSON reader over a byte slice. It exists so
// that the vocabulary (up to 262k entries) and merges (up to 515k) of a
// tokenizer.json are read in one pass straight into their final form,
// without building maps of interfaces or copying the document; everything
// small (component configs, added tokens) goes through encoding/json from
// the raw spans the scanner returns.
type scanner struct {
	b []byte
	i int
}

// maxDepth bounds nesting while skipping values, so hostile input cannot
// exhaust the stack.
const maxDepth = 512

func (s *scanner) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: offset %d: %s", ErrInvalid, s.i, fmt.Sprintf(format, args...))
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

func (s *scanner) eat(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) expect(c byte) error {
	if !s.eat(c) {
		return s.errorf("expected %q", c)
	}
	return nil
}

// strRef reads a JSON string. When it has no escapes and is valid UTF-8
// it returns its span in the document (decoded is nil); otherwise it
// returns the decoded bytes.
func (s *scanner) strRef() (start, end int, decoded []byte, err error) {
	if s.peek() != '"' {
		return 0, 0, nil, s.errorf("expected string")
	}
	start = s.i + 1
	for j := start; j < len(s.b); j++ {
		c := s.b[j]
		if c == '"' {
			s.i = j + 1
			if !utf8.Valid(s.b[start:j]) {
				return 0, 0, toValidUTF8(s.b[start:j]), nil
			}
			return start, j, nil, nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
	}
	str, err := s.str()
	return 0, 0, []byte(str), err
}

// str reads a JSON string and returns its decoded value.
func (s *scanner) str() (string, error) {
	if s.peek() != '"' {
		return "", s.errorf("expected string")
	}
	s.i++
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			v := s.b[start:s.i]
			s.i++
			if !utf8.Valid(v) {
				return string(toValidUTF8(v)), nil
			}
			return string(v), nil
		case c == '\\':
			return s.strSlow(start)
		case c < 0x20:
			return "", s.errorf("control character in string")
		}
		s.i++
	}
	return "", s.errorf("unterminated string")
}

func (s *scanner) strSlow(start int) (string, error) {
	buf := make([]byte, 0, s.i-start+16)
	buf = append(buf, s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			if !utf8.Valid(buf) {
				buf = toValidUTF8(buf)
			}
			return string(buf), nil
		case c < 0x20:
			return "", s.errorf("control character in string")
		case c != '\\':
			buf = append(buf, c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			return "", s.errorf("unterminated escape")
		}
		e := s.b[s.i+1]
		s.i += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return "", s.errorf("bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
					save := s.i
					s.i += 2
					var ok2 bool
					r2, ok2 = s.hex4()
					if !ok2 {
						return "", s.errorf("bad \\u escape")
					}
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						buf = utf8.AppendRune(buf, d)
						continue
					}
					s.i = save
				}
				// A lone surrogate decodes to U+FFFD, as encoding/json does.
				r = utf8.RuneError
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", s.errorf("bad escape")
		}
	}
	return "", s.errorf("unterminated string")
}

func (s *scanner) hex4() (rune, bool) {
	if s.i+4 > len(s.b) {
		return 0, false
	}
	var r rune
	for _, c := range s.b[s.i : s.i+4] {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	s.i += 4
	return r, true
}

// number reads a JSON number and returns its text.
func (s *scanner) number() ([]byte, error) {
	s.ws()
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
	} else if digits() == 0 {
		return nil, s.errorf("bad number")
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return nil, s.errorf("bad number")
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return nil, s.errorf("bad number")
		}
	}
	return s.b[start:s.i], nil
}

// id reads a token id: a non-negative integer that fits in an int32.
func (s *scanner) id() (int32, error) {
	num, err := s.number()
	if err != nil {
		return 0, err
	}
	n, perr := strconv.ParseInt(string(num), 10, 32)
	if perr != nil || n < 0 {
		// Integral floats such as 5.0 are accepted, as serde_json does not,
		// but transformers.js does; anything else is an error.
		f, ferr := strconv.ParseFloat(string(num), 64)
		if ferr != nil || f < 0 || f > maxID || f != float64(int64(f)) {
			return 0, s.errorf("bad token id %s", num)
		}
		n = int64(f)
	}
	if n > maxID {
		return 0, s.errorf("token id %d too large", n)
	}
	return int32(n), nil
}

// maxID bounds token ids so that id tables stay allocatable.
const maxID = 1 << 22

func (s *scanner) lit(w string) bool {
	s.ws()
	if len(s.b)-s.i >= len(w) && string(s.b[s.i:s.i+len(w)]) == w {
		s.i += len(w)
		return true
	}
	return false
}

// skip validates and steps over one value, returning its raw bytes.
func (s *scanner) skip() ([]byte, error) {
	s.ws()
	start := s.i
	if err := s.skipValue(0); err != nil {
		return nil, err
	}
	return s.b[start:s.i], nil
}

func (s *scanner) skipValue(depth int) error {
	if depth > maxDepth {
		return s.errorf("nesting too deep")
	}
	switch c := s.peek(); c {
	case '{':
		s.i++
		if s.eat('}') {
			return nil
		}
		for {
			if _, err := s.str(); err != nil {
				return err
			}
			if err := s.expect(':'); err != nil {
				return err
			}
			if err := s.skipValue(depth + 1); err != nil {
				return err
			}
			if s.eat(',') {
				continue
			}
			return s.expect('}')
		}
	case '[':
		s.i++
		if s.eat(']') {
			return nil
		}
		for {
			if err := s.skipValue(depth + 1); err != nil {
				return err
			}
			if s.eat(',') {
				continue
			}
			return s.expect(']')
		}
	case '"':
		_, err := s.str()
		return err
	case 't':
		if s.lit("true") {
			return nil
		}
	case 'f':
		if s.lit("false") {
			return nil
		}
	case 'n':
		if s.lit("null") {
			return nil
		}
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			_, err := s.number()
			return err
		}
	}
	return s.errorf("unexpected input")
}

// object iterates over the members of an object, calling fn with each key;
// fn must consume the value.
func (s *scanner) object(fn func(key string) error) error {
	if err := s.expect('{'); err != nil {
		return err
	}
	if s.eat('}') {
		return nil
	}
	for {
		k, err := s.str()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		if err := fn(k); err != nil {
			return err
		}
		if s.eat(',') {
			continue
		}
		return s.expect('}')
	}
}

// array iterates over the elements of an array; fn must consume each one.
func (s *scanner) array(fn func() error) error {
	if err := s.expect('['); err != nil {
		return err
	}
	if s.eat(']') {
		return nil
	}
	for {
		if err := fn(); err != nil {
			return err
		}
		if s.eat(',') {
			continue
		}
		return s.expect(']')
	}
}

// isNull consumes a null literal if one comes next.
func (s *scanner) isNull() bool {
	return s.peek() == 'n' && s.lit("null")
}

// unmarshal decodes a raw span with encoding/json, wrapping errors.
func unmarshal(raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return nil
}
