// Package jsonscan pulls single values out of large JSON documents in one
// validating pass, without building the whole document: index files list
// every tensor of a model and tokenizer files run to megabytes, while list
// and health need one key of each. Results match encoding/json (the fuzz
// tests compare the two).
package jsonscan

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/maphash"
)

// ErrSyntax marks a document that is not valid JSON.
var ErrSyntax = errors.New("invalid JSON")

// ErrNotObject marks a valid document whose top level is not an object.
var ErrNotObject = errors.New("top level is not a JSON object")

// TopLevel returns the raw bytes of the value of key in the top-level
// object of b (the last one when the key repeats, as encoding/json and
// Python do), after validating the whole document. found is false when
// the key is absent.
func TopLevel(b []byte, key string) (raw []byte, found bool, err error) {
	s := scanner{b: b}
	s.ws()
	if s.i >= len(s.b) {
		return nil, false, ErrSyntax
	}
	if s.b[s.i] != '{' {
		if !s.value(0) {
			return nil, false, ErrSyntax
		}
		s.ws()
		if s.i != len(s.b) {
			return nil, false, ErrSyntax
		}
		return nil, false, ErrNotObject
	}
	s.i++
	s.ws()
	if !s.eat('}') {
		for {
			s.ws()
			k, esc, ok := s.str()
			if !ok {
				return nil, false, ErrSyntax
			}
			s.ws()
			if !s.eat(':') {
				return nil, false, ErrSyntax
			}
			s.ws()
			start := s.i
			if !s.value(1) {
				return nil, false, ErrSyntax
			}
			if isKey(k, esc, key) {
				raw, found = s.b[start:s.i], true
			}
			s.ws()
			if s.eat(',') {
				continue
			}
			if s.eat('}') {
				break
			}
			return nil, false, ErrSyntax
		}
	}
	s.ws()
	if s.i != len(s.b) {
		return nil, false, ErrSyntax
	}
	return raw, found, nil
}

// StringValues returns the distinct values of a JSON object whose values
// are all strings; ok is false for anything else (including invalid JSON).
func StringValues(raw []byte) (values map[string]bool, ok bool) {
	s := scanner{b: raw}
	s.ws()
	m, allStrings, valid := s.stringObject()
	s.ws()
	if !valid || !allStrings || s.i != len(s.b) {
		return nil, false
	}
	return m, true
}

func isKey(raw []byte, escaped bool, want string) bool {
	if !escaped {
		return string(raw) == want
	}
	return unquote(raw) == want
}

// unquote decodes a JSON string body (without quotes) with escapes.
func unquote(raw []byte) string {
	var v string
	q := make([]byte, 0, len(raw)+2)
	q = append(append(append(q, '"'), raw...), '"')
	if json.Unmarshal(q, &v) != nil {
		return ""
	}
	return v
}

type scanner struct {
	b []byte
	i int
}

const maxDepth = 10000 // encoding/json's nesting limit

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

func (s *scanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str reads a string and returns its body and whether it has escapes.
// The closing quote is found with bytes.IndexByte; the body is then
// checked for backslashes and control characters eight bytes at a time.
func (s *scanner) str() (raw []byte, escaped, ok bool) {
	if !s.eat('"') {
		return nil, false, false
	}
	start := s.i
	q := bytes.IndexByte(s.b[start:], '"')
	if q < 0 || !plain(s.b[start:start+q]) {
		return s.strSlow(start)
	}
	s.i = start + q + 1
	return s.b[start : s.i-1], false, true
}

// plain reports whether b has no backslash and no control character.
func plain(b []byte) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	const bs = 0x5c5c5c5c5c5c5c5c // '\\' in every byte
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		y := x ^ bs
		// A zero byte in y marks a backslash; a byte below 0x20 in x a
		// control character (classic has-less-than bit trick).
		if (y-lo)&^y&hi != 0 || (x-0x2020202020202020)&^x&hi != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c == '\\' || c < 0x20 {
			return false
		}
	}
	return true
}

// strSlow reads a string body from start byte by byte, for bodies with
// escapes (and to reject control characters precisely).
func (s *scanner) strSlow(start int) (raw []byte, escaped, ok bool) {
	s.i = start
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			raw = s.b[start:s.i]
			s.i++
			if escaped && unquoteOK(raw) != nil {
				return nil, false, false
			}
			return raw, escaped, true
		case c == '\\':
			escaped = true
			s.i += 2
		case c < 0x20:
			return nil, false, false
		default:
			s.i++
		}
	}
	return nil, false, false
}

// unquoteOK validates escapes (and invalid UTF-8 is accepted, as
// encoding/json does by replacing it).
func unquoteOK(raw []byte) error {
	q := make([]byte, 0, len(raw)+2)
	q = append(append(append(q, '"'), raw...), '"')
	var v string
	return json.Unmarshal(q, &v)
}

// stringObject reads an object; ok reports whether every value was a
// string (then m holds the distinct values, after later duplicate keys
// replaced earlier ones as in encoding/json), valid whether it was JSON.
//
// Index files hold thousands of entries naming a handful of files, so the
// common case allocates only the distinct values: entries stay slices of
// the input, and duplicate keys are detected through 64-bit key hashes,
// falling back to exact decoding when two hashes meet.
func (s *scanner) stringObject() (m map[string]bool, ok, valid bool) {
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return nil, false, s.value(0)
	}
	s.i++
	type entry struct {
		k, v       []byte
		kesc, vesc bool
		str        bool
	}
	entries := make([]entry, 0, 64)
	seed := maphash.MakeSeed()
	keys := make(map[uint64]struct{}, 64)
	dup := false
	s.ws()
	if !s.eat('}') {
		for {
			s.ws()
			k, kesc, good := s.str()
			if !good {
				return nil, false, false
			}
			s.ws()
			if !s.eat(':') {
				return nil, false, false
			}
			s.ws()
			e := entry{k: k, kesc: kesc}
			if s.i < len(s.b) && s.b[s.i] == '"' {
				e.v, e.vesc, good = s.str()
				if !good {
					return nil, false, false
				}
				e.str = true
			} else if !s.value(1) {
				return nil, false, false
			}
			if !dup {
				h := maphash.Bytes(seed, k)
				if _, seen := keys[h]; seen || kesc {
					dup = true // maybe a repeated key: decide exactly below
				}
				keys[h] = struct{}{}
			}
			entries = append(entries, e)
			s.ws()
			if s.eat(',') {
				continue
			}
			if s.eat('}') {
				break
			}
			return nil, false, false
		}
	}
	if dup {
		// Exact pass: the last value of each decoded key counts.
		last := make(map[string]int, len(entries))
		for i, e := range entries {
			last[decode(e.k, e.kesc)] = i
		}
		m = make(map[string]bool, 8)
		for _, i := range last {
			e := entries[i]
			if !e.str {
				return nil, false, true
			}
			m[decode(e.v, e.vesc)] = true
		}
		return m, true, true
	}
	m = make(map[string]bool, 8)
	for _, e := range entries {
		if !e.str {
			return nil, false, true
		}
		if e.vesc {
			m[unquote(e.v)] = true
		} else if !m[string(e.v)] { // lookup without allocating
			m[string(e.v)] = true
		}
	}
	return m, true, true
}

func decode(raw []byte, escaped bool) string {
	if escaped {
		return unquote(raw)
	}
	return string(raw)
}

// value skips any JSON value, validating it.
func (s *scanner) value(depth int) bool {
	if depth > maxDepth || s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, _, ok := s.str()
		return ok
	case c == '{' || c == '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		s.i++
		s.ws()
		if s.eat(closer) {
			return true
		}
		for {
			s.ws()
			if c == '{' {
				if _, _, ok := s.str(); !ok {
					return false
				}
				s.ws()
				if !s.eat(':') {
					return false
				}
				s.ws()
			}
			if !s.value(depth + 1) {
				return false
			}
			s.ws()
			if s.eat(',') {
				continue
			}
			return s.eat(closer)
		}
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	default:
		return s.number()
	}
}

func (s *scanner) lit(w string) bool {
	if len(s.b)-s.i >= len(w) && string(s.b[s.i:s.i+len(w)]) == w {
		s.i += len(w)
		return true
	}
	return false
}

// number skips a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() bool {
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	s.eat('-')
	if s.eat('0') {
		// no leading zeros
	} else if digits() == 0 {
		return false
	}
	if s.eat('.') && digits() == 0 {
		return false
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if !s.eat('+') {
			s.eat('-')
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}
