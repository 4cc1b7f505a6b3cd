package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// StreamDecoder turns token ids into text one id at a time, for streaming
// generation. The concatenation of everything Add and Flush return equals
// Decode(ids, false) for the ids added (for any ids an Encode can produce;
// a model emitting a byte run that is not UTF-8 may see its earlier bytes
// turned into U+FFFD by Decode after they were streamed).
//
// It works like the Rust crate's DecodeStream: it decodes a small window
// of recent ids and emits what the window adds to the text already
// emitted, holding back while the text ends in an incomplete UTF-8
// sequence. Decoding a window rather than single tokens keeps decoders
// that look at the first token (Strip, Metaspace) right mid-stream.
// A StreamDecoder serves one stream: it is not safe for concurrent use.
type StreamDecoder struct {
	t      *Tokenizer
	ids    []int  // the window: ids[:read] are context, ids[read:] pending
	read   int    // how many window ids prefix covers
	prefix string // decoded text of ids[:read]
	toks   []string
	tail   []byte
}

// streamKind selects how the stream decoder recognises an incomplete
// character at the end of the text.
type streamKind uint8

const (
	streamText         streamKind = iota // the text ends in U+FFFD
	streamByteLevel                      // the byte-level bytes end mid-sequence
	streamByteFallback                   // a <0xXX> run ends mid-sequence
)

func decoderStreamKind(d decoder) streamKind {
	switch d := d.(type) {
	case byteLevelDecoder:
		return streamByteLevel
	case byteFallbackDecoder:
		return streamByteFallback
	case sequenceDecoder:
		for _, x := range d {
			if k := decoderStreamKind(x); k != streamText {
				return k
			}
		}
	}
	return streamText
}

// NewStreamDecoder returns a detokenizer for streaming generation: Add(id)
// returns the newly completed text, never a broken UTF-8 sequence; Flush()
// returns what is held back.
func (t *Tokenizer) NewStreamDecoder() *StreamDecoder {
	return &StreamDecoder{t: t}
}

func (s *StreamDecoder) decode(ids []int) string {
	s.toks = s.t.tokenStrings(s.toks[:0], ids, false)
	return s.t.decodeStrings(s.toks)
}

// incomplete reports whether the text of the window ends in a character
// that later ids may still complete.
func (s *StreamDecoder) incomplete(text string) bool {
	switch s.t.streamKind {
	case streamByteLevel:
		// The last few bytes, from the tokens at the end of the window.
		s.tail = s.tail[:0]
		for k := len(s.toks) - 1; k >= 0 && len(s.tail) < utf8.UTFMax; k-- {
			b := appendByteLevelDecoded(nil, s.toks[k])
			s.tail = append(b, s.tail...)
		}
		return incompleteTail(s.tail) > 0
	case streamByteFallback:
		s.tail = s.tail[:0]
		k := len(s.toks)
		for k > 0 {
			if _, ok := parseByteToken(s.toks[k-1]); !ok {
				break
			}
			k--
		}
		for _, tok := range s.toks[k:] {
			b, _ := parseByteToken(tok)
			s.tail = append(s.tail, b)
		}
		n := incompleteTail(s.tail)
		return n > 0 && utf8.Valid(s.tail[:len(s.tail)-n])
	}
	return strings.HasSuffix(text, "\uFFFD")
}

// Add appends one id and returns the text it completes ("" while held).
func (s *StreamDecoder) Add(id int) string {
	s.ids = append(s.ids, id)
	text := s.decode(s.ids)
	if len(text) <= len(s.prefix) || s.incomplete(text) {
		return ""
	}
	out := s.emit(text)
	// The ids not yet in the prefix become the next window's context.
	s.ids = append(s.ids[:0], s.ids[s.read:]...)
	s.read = len(s.ids)
	s.prefix = s.decode(s.ids)
	return out
}

// emit returns what text adds to the prefix.
func (s *StreamDecoder) emit(text string) string {
	if strings.HasPrefix(text, s.prefix) {
		return text[len(s.prefix):]
	}
	// The decoder rewrote text already emitted (a byte-fallback run that
	// turned invalid); emit from the first change.
	i := 0
	for i < len(text) && i < len(s.prefix) && text[i] == s.prefix[i] {
		i++
	}
	return validString(text[i:])
}

// Flush returns the text held back and resets the decoder.
func (s *StreamDecoder) Flush() string {
	out := ""
	if s.read < len(s.ids) {
		if text := s.decode(s.ids); len(text) > len(s.prefix) {
			out = s.emit(text)
		}
	}
	s.ids = s.ids[:0]
	s.read = 0
	s.prefix = ""
	return out
}
