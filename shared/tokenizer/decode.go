package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// decoder turns token strings back into text pieces (Decoder::decode_chain).
type decoder interface {
	decodeChain(tokens []string) []string
}

// byteLevelDecoder maps each token's runes back to bytes; a token with a
// rune outside the byte alphabet contributes its UTF-8 bytes as they are.
type byteLevelDecoder struct{}

func (byteLevelDecoder) decodeChain(tokens []string) []string {
	n := 0
	for _, t := range tokens {
		n += len(t)
	}
	buf := make([]byte, 0, n)
	for _, t := range tokens {
		buf = appendByteLevelDecoded(buf, t)
	}
	return []string{string(toValidUTF8(buf))}
}

// appendByteLevelDecoded appends the bytes a byte-level token stands for.
func appendByteLevelDecoded(buf []byte, t string) []byte {
	start := len(buf)
	for _, r := range t {
		b, ok := byteLevel.decodeRune(r)
		if !ok {
			return append(buf[:start], t...)
		}
		buf = append(buf, b)
	}
	return buf
}

type replaceDecoder struct {
	m       matcher
	content string
}

func (d replaceDecoder) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		out[i] = replaceAll(d.m, t, d.content)
	}
	return out
}

// byteFallbackDecoder turns runs of <0xXX> tokens into text; a run that is
// not valid UTF-8 becomes one U+FFFD per byte, as in the Rust crate.
type byteFallbackDecoder struct{}

func parseByteToken(t string) (byte, bool) {
	if len(t) != 6 || t[0] != '<' || t[1] != '0' || t[2] != 'x' || t[5] != '>' {
		return 0, false
	}
	hi, lo := hexVal(t[3]), hexVal(t[4])
	if hi < 0 || lo < 0 {
		return 0, false
	}
	return byte(hi<<4 | lo), true
}

func (byteFallbackDecoder) decodeChain(tokens []string) []string {
	out := make([]string, 0, len(tokens))
	var pending []byte
	flush := func() {
		if len(pending) == 0 {
			return
		}
		if utf8.Valid(pending) {
			out = append(out, string(pending))
		} else {
			for range pending {
				out = append(out, "\uFFFD")
			}
		}
		pending = pending[:0]
	}
	for _, t := range tokens {
		if b, ok := parseByteToken(t); ok {
			pending = append(pending, b)
			continue
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out
}

type fuseDecoder struct{}

func (fuseDecoder) decodeChain(tokens []string) []string {
	return []string{strings.Join(tokens, "")}
}

// stripDecoder removes up to start leading and stop trailing content
// characters from every token.
type stripDecoder struct {
	content     rune
	start, stop int
}

func (d stripDecoder) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		for k := 0; k < d.start; k++ {
			r, size := utf8.DecodeRuneInString(t)
			if t == "" || r != d.content {
				break
			}
			t = t[size:]
		}
		for k := 0; k < d.stop; k++ {
			r, size := utf8.DecodeLastRuneInString(t)
			if t == "" || r != d.content {
				break
			}
			t = t[:len(t)-size]
		}
		out[i] = t
	}
	return out
}

// metaspaceDecoder turns the replacement character back into spaces; in
// the first token it is dropped unless prepend_scheme is "never".
type metaspaceDecoder struct {
	replacement rune
	never       bool
}

func (d metaspaceDecoder) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		var b strings.Builder
		b.Grow(len(t))
		for _, r := range t {
			if r == d.replacement {
				if i == 0 && !d.never {
					continue
				}
				b.WriteByte(' ')
				continue
			}
			b.WriteRune(r)
		}
		out[i] = b.String()
	}
	return out
}

type wordPieceDecoder struct {
	prefix  string
	cleanup bool
}

func (d wordPieceDecoder) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		if i != 0 {
			if rest, ok := strings.CutPrefix(t, d.prefix); ok {
				t = rest
			} else {
				t = " " + t
			}
		}
		if d.cleanup {
			t = cleanupTokenization(t)
		}
		out[i] = t
	}
	return out
}

func cleanupTokenization(s string) string {
	for _, p := range [][2]string{
		{" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
		{" n't", "n't"}, {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"},
		{" 've", "'ve"}, {" 're", "'re"},
	} {
		s = strings.ReplaceAll(s, p[0], p[1])
	}
	return s
}

type sequenceDecoder []decoder

func (seq sequenceDecoder) decodeChain(tokens []string) []string {
	for _, d := range seq {
		tokens = d.decodeChain(tokens)
	}
	return tokens
}

// postProcessor adds special tokens around an encoded sequence.
type postProcessor interface {
	process(ids []int32, addSpecial bool) []int32
}

// templatePiece is one element of a TemplateProcessing "single" template:
// the sequence itself (ids == nil, seq true) or a special token's ids.
type templatePiece struct {
	seq bool
	ids []int32
}

type templateProcessor []templatePiece

func (tp templateProcessor) process(ids []int32, addSpecial bool) []int32 {
	out := make([]int32, 0, len(ids)+4)
	for _, p := range tp {
		switch {
		case p.seq:
			out = append(out, ids...)
		case addSpecial:
			out = append(out, p.ids...)
		}
	}
	return out
}

// wrapProcessor is BertProcessing / RobertaProcessing for one sequence:
// cls A sep.
type wrapProcessor struct{ cls, sep int32 }

func (wp wrapProcessor) process(ids []int32, addSpecial bool) []int32 {
	if !addSpecial {
		return ids
	}
	out := make([]int32, 0, len(ids)+2)
	out = append(out, wp.cls)
	out = append(out, ids...)
	return append(out, wp.sep)
}

type noopProcessor struct{}

func (noopProcessor) process(ids []int32, _ bool) []int32 { return ids }

type sequenceProcessor []postProcessor

func (seq sequenceProcessor) process(ids []int32, addSpecial bool) []int32 {
	for _, p := range seq {
		ids = p.process(ids, addSpecial)
	}
	return ids
}
