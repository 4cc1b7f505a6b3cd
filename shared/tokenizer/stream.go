package tokenizer

import "strings"

// StreamDecoder turns token ids into text one id at a time, for streaming
// generation. The concatenation of everything Add and Flush return equals
// Decode(ids, false) for the ids added.
//
// It works like the Rust crate's DecodeStream: it decodes a small window
// of recent ids and emits what the window adds to the text already
// emitted, holding back while the text ends in U+FFFD (an incomplete UTF-8
// sequence, or a byte-fallback run still being built). Decoding the window
// rather than single tokens keeps decoders that look at the first token
// (Strip, Metaspace) right in the middle of a stream.
type StreamDecoder struct {
	t      *Tokenizer
	ids    []int  // the window: ids[:read] are context, ids[read:] are pending
	read   int    // how many window ids are covered by prefix
	prefix string // decoded text of ids[:read]
	toks   []string
}

// maxPending bounds how many ids the decoder holds back.
const maxPending = 8

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

// Add appends one id and returns the text it completes ("" while held).
func (s *StreamDecoder) Add(id int) string {
	s.ids = append(s.ids, id)
	text := s.decode(s.ids)
	if len(text) <= len(s.prefix) {
		return ""
	}
	// A character spans at most 4 tokens: past maxPending held tokens the
	// trailing U+FFFD is final, and the window stops growing.
	if strings.HasSuffix(text, "\uFFFD") && len(s.ids)-s.read <= maxPending {
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
	// The decoder rewrote earlier text (no known decoder does for a
	// window that ended on complete text); emit from the first change.
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
		text := s.decode(s.ids)
		if len(text) > len(s.prefix) {
			out = s.emit(text)
		}
	}
	s.ids = s.ids[:0]
	s.read = 0
	s.prefix = ""
	return out
}
