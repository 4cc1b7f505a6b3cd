package reasoning

import "strings"

// Harmony markup.
const (
	hStart     = "<|start|>"
	hChannel   = "<|channel|>"
	hMessage   = "<|message|>"
	hEnd       = "<|end|>"
	hReturn    = "<|return|>"
	hCall      = "<|call|>"
	hConstrain = "<|constrain|>"

	// maxHeader bounds a harmony header; longer text without <|message|>
	// is not a header and is shown as answer text.
	maxHeader = 512
)

// Parser splits one generation's output stream. It is not safe for
// concurrent use.
type Parser struct {
	kind        Kind
	start, end  string // tag kinds
	inReasoning bool   // tag kinds: inside the tags

	// harmony
	inHeader  bool
	channel   string
	recipient string

	buf string // text received and not yet emitted
}

// NewParser returns a parser for kind. startInReasoning says the prompt
// already opened reasoning (see PromptOpensReasoning): for tag kinds the
// output starts inside the tags, for Harmony inside an analysis message.
func NewParser(kind Kind, startInReasoning bool) *Parser {
	p := &Parser{kind: kind}
	p.start, p.end = kind.Markers()
	switch kind {
	case None:
	case Harmony:
		if startInReasoning {
			p.channel = "analysis"
		} else {
			p.inHeader = true
		}
	default:
		p.inReasoning = startInReasoning
	}
	return p
}

// Kind returns the markup the parser splits.
func (p *Parser) Kind() Kind { return p.kind }

// InReasoning reports whether the text seen so far ends inside reasoning.
func (p *Parser) InReasoning() bool {
	if p.kind == Harmony {
		return !p.inHeader && p.segmentKind() == Reasoning
	}
	return p.inReasoning
}

// Push adds the next chunk of decoded text and returns the segments that
// are now certain, markers removed. Adjacent text of the same kind comes
// as one segment.
func (p *Parser) Push(text string) []Segment {
	p.buf += text
	switch p.kind {
	case None:
		cut := completeRunes(p.buf, len(p.buf))
		out := appendSegment(nil, Answer, "", p.buf[:cut])
		p.buf = p.buf[cut:]
		return out
	case Harmony:
		return p.pushHarmony(nil, false)
	}
	return p.pushTags(nil, false)
}

// Flush ends the stream and returns what was held back: a partial marker
// at the very end is plain text after all. An unfinished harmony header
// is markup and is dropped.
func (p *Parser) Flush() []Segment {
	var out []Segment
	switch p.kind {
	case None:
		out = appendSegment(nil, Answer, "", p.buf)
		p.buf = ""
	case Harmony:
		out = p.pushHarmony(nil, true)
	default:
		out = p.pushTags(nil, true)
	}
	return out
}

// Split parses a complete output in one go.
func Split(kind Kind, startInReasoning bool, text string) []Segment {
	p := NewParser(kind, startInReasoning)
	segs := p.Push(text)
	for _, s := range p.Flush() {
		segs = appendSegment(segs, s.Kind, s.Recipient, s.Text)
	}
	return segs
}

func (p *Parser) tagKind() SegmentKind {
	if p.inReasoning {
		return Reasoning
	}
	return Answer
}

// pushTags emits text up to each marker of the current state (the opening
// tag outside reasoning, the closing tag inside), switching state at each.
func (p *Parser) pushTags(out []Segment, final bool) []Segment {
	for {
		marker := p.start
		if p.inReasoning {
			marker = p.end
		}
		if i := strings.Index(p.buf, marker); i >= 0 {
			out = appendSegment(out, p.tagKind(), "", p.buf[:i])
			p.buf = p.buf[i+len(marker):]
			p.inReasoning = !p.inReasoning
			continue
		}
		cut := len(p.buf)
		if !final {
			cut = completeRunes(p.buf, cut-heldSuffix(p.buf, marker))
		}
		out = appendSegment(out, p.tagKind(), "", p.buf[:cut])
		p.buf = p.buf[cut:]
		return out
	}
}

func (p *Parser) segmentKind() SegmentKind {
	switch {
	case p.recipient != "":
		return ToolCall
	case p.channel == "analysis":
		return Reasoning
	}
	return Answer
}

// messageEnds are the markers that end a harmony message's content; the
// first three are consumed, <|start|> and <|channel|> begin the next
// header (a model that skips <|end|>).
var messageEnds = []string{hEnd, hReturn, hCall, hStart, hChannel}

func (p *Parser) pushHarmony(out []Segment, final bool) []Segment {
	for {
		if p.inHeader {
			if i := strings.Index(p.buf, hMessage); i >= 0 && i <= maxHeader && isHeader(p.buf[:i]) {
				p.channel, p.recipient = parseHeader(p.buf[:i])
				p.buf = p.buf[i+len(hMessage):]
				p.inHeader = false
				continue
			}
			if couldBeHeader(p.buf) && len(p.buf) < maxHeader+len(hMessage) {
				if final {
					p.buf = "" // an unfinished header is markup
				}
				return out
			}
			// Not harmony markup: plain text, shown as answer. A leading
			// marker is text too (consuming it guarantees progress).
			p.inHeader = false
			p.channel, p.recipient = "", ""
			for _, m := range []string{hStart, hChannel} {
				if strings.HasPrefix(p.buf, m) {
					out = appendSegment(out, Answer, "", m)
					p.buf = p.buf[len(m):]
					break
				}
			}
			continue
		}
		end, which := -1, ""
		for _, m := range messageEnds {
			if i := strings.Index(p.buf, m); i >= 0 && (end < 0 || i < end) {
				end, which = i, m
			}
		}
		if end >= 0 {
			out = appendSegment(out, p.segmentKind(), p.recipient, p.buf[:end])
			if which == hStart || which == hChannel {
				p.buf = p.buf[end:]
			} else {
				p.buf = p.buf[end+len(which):]
			}
			p.inHeader = true
			continue
		}
		cut := len(p.buf)
		if !final {
			cut = completeRunes(p.buf, cut-heldSuffix(p.buf, messageEnds...))
		}
		out = appendSegment(out, p.segmentKind(), p.recipient, p.buf[:cut])
		p.buf = p.buf[cut:]
		return out
	}
}

// isHeader reports whether h is a harmony header: it begins with
// <|start|> or <|channel|>.
func isHeader(h string) bool {
	return strings.HasPrefix(h, hStart) || strings.HasPrefix(h, hChannel)
}

// couldBeHeader reports whether h is a header or the beginning of one.
func couldBeHeader(h string) bool {
	return isHeader(h) || strings.HasPrefix(hStart, h) || strings.HasPrefix(hChannel, h)
}

// parseHeader reads the channel and the recipient ("to=…", in the role or
// the channel part) of a header such as
// "<|start|>assistant<|channel|>commentary to=functions.f <|constrain|>json".
func parseHeader(h string) (channel, recipient string) {
	h = strings.TrimPrefix(h, hStart)
	if i := strings.Index(h, hChannel); i >= 0 {
		channel = headerWord(h[i+len(hChannel):])
	}
	for rest := h; ; {
		i := strings.Index(rest, "to=")
		if i < 0 {
			break
		}
		if i == 0 || rest[i-1] == ' ' || rest[i-1] == '>' || rest[i-1] == '\t' || rest[i-1] == '\n' {
			recipient = headerWord(rest[i+3:])
			break
		}
		rest = rest[i+3:]
	}
	return channel, recipient
}

// headerWord returns s up to the first space or marker.
func headerWord(s string) string {
	s = strings.TrimLeft(s, " ")
	end := len(s)
	if i := strings.IndexAny(s, " \t\n"); i >= 0 {
		end = i
	}
	if i := strings.Index(s[:end], "<|"); i >= 0 {
		end = i
	}
	return s[:end]
}

// HarmonyMessage is the marker that ends a harmony message's header.
const HarmonyMessage = hMessage

// FinalOpened reports whether harmony output has opened a message on the
// final channel: its header is complete, and what follows is the answer
// (where a response format's constraint starts).
func FinalOpened(text string) bool {
	j := strings.LastIndex(text, hMessage)
	if j < 0 {
		return false
	}
	k := strings.LastIndex(text[:j], hChannel)
	return k >= 0 && headerWord(text[k+len(hChannel):j]) == "final"
}
