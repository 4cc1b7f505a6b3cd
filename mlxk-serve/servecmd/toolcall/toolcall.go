// Package toolcall finds function calls in a model's streamed output. Each
// model family writes calls in its own markup, which its chat template
// teaches it:
//
//   - Hermes (Qwen2.5, Qwen3, Hermes, many fine-tunes):
//     <tool_call>{"name": …, "arguments": {…}}</tool_call>, one block per call;
//   - Mistral: [TOOL_CALLS] followed by a JSON array of
//     {"name", "arguments"} objects, or by name[ARGS]{…} (newer templates);
//   - Llama 3.1+ JSON: the whole answer is {"name": …, "parameters": {…}},
//     possibly after <|python_tag|>;
//   - gpt-oss (harmony): messages addressed to functions.NAME, which the
//     reasoning parser already separates; this package only names the format.
//
// Text outside the markup is answer text. A block whose JSON does not
// parse is given back as text, so nothing the model wrote is lost.
package toolcall

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Format is the tool-call markup of a model family.
type Format int

const (
	// None: the template takes no tools.
	None Format = iota
	// Unknown: the template takes tools, but its call markup is not one
	// this package parses.
	Unknown
	Hermes
	Mistral
	Llama3
	Harmony
)

var formatNames = [...]string{"none", "unknown", "hermes", "mistral", "llama3_json", "harmony"}

func (f Format) String() string {
	if f >= 0 && int(f) < len(formatNames) {
		return formatNames[f]
	}
	return "unknown"
}

// Supported reports whether calls in this format can be parsed.
func (f Format) Supported() bool { return f >= Hermes }

// Markup is how a call is written in f, for forcing one: the text
// before the call's JSON object, the text after it, and the key of the
// arguments in that object. ok is false for formats without such markup.
func (f Format) Markup() (prefix, suffix, argsKey string, ok bool) {
	switch f {
	case Hermes:
		return hermesOpen + "\n", "\n" + hermesClose, "arguments", true
	case Mistral:
		return mistralMark + "[", "]", "arguments", true
	case Llama3:
		return "", "", "parameters", true
	}
	return "", "", "", false
}

// Detect tells the format from a chat template's source. harmony is true
// for gpt-oss templates (the reasoning detector decides that).
func Detect(template string, harmony bool) Format {
	switch {
	case harmony:
		return Harmony
	case !strings.Contains(template, "tools"):
		return None
	case strings.Contains(template, "<tool_call>"):
		return Hermes
	case strings.Contains(template, "[TOOL_CALLS]"):
		return Mistral
	case strings.Contains(template, "<|python_tag|>") || strings.Contains(template, `"parameters"`) && strings.Contains(template, "<|eot_id|>"):
		return Llama3
	}
	return Unknown
}

// Call is one parsed function call; Arguments is a JSON object text.
type Call struct {
	Name      string
	Arguments string
}

// Parser splits streamed text into answer text and calls.
type Parser struct {
	format Format
	buf    strings.Builder // text not yet decided
	in     bool            // inside call markup
	// searched is how much of the held call (Hermes) was already searched
	// for its closing tag, so a long call streaming in is searched once.
	searched int
	// started is true once anything but whitespace went out as text (a
	// Llama 3 call must be the whole answer).
	started bool
}

// NewParser returns a parser for f. Formats without markup (None,
// Unknown, Harmony) pass all text through.
func NewParser(f Format) *Parser { return &Parser{format: f} }

// Push adds text and returns the text that is surely answer, and the
// calls completed by it.
func (p *Parser) Push(text string) (string, []Call) {
	p.buf.WriteString(text)
	return p.scan(false)
}

// Flush ends the stream: held text is released, an unterminated call is
// parsed if its JSON is whole, and given back as text otherwise.
func (p *Parser) Flush() (string, []Call) {
	return p.scan(true)
}

const (
	hermesOpen  = "<tool_call>"
	hermesClose = "</tool_call>"
	mistralMark = "[TOOL_CALLS]"
	pythonTag   = "<|python_tag|>"
)

func (p *Parser) scan(final bool) (string, []Call) {
	switch p.format {
	case Hermes:
		return p.scanHermes(final)
	case Mistral:
		return p.scanTail(mistralMark, parseMistral, final)
	case Llama3:
		return p.scanLlama3(final)
	}
	s := p.buf.String()
	p.buf.Reset()
	return s, nil
}

// scanHermes handles any number of <tool_call>…</tool_call> blocks.
func (p *Parser) scanHermes(final bool) (string, []Call) {
	s := p.buf.String()
	var text strings.Builder
	var calls []Call
	for {
		if !p.in {
			i := strings.Index(s, hermesOpen)
			if i < 0 {
				keep := 0
				if !final {
					keep = heldPrefix(s, hermesOpen)
				}
				text.WriteString(s[:len(s)-keep])
				s = s[len(s)-keep:]
				break
			}
			text.WriteString(s[:i])
			s = s[i+len(hermesOpen):]
			p.in, p.searched = true, 0
		}
		from := max(0, p.searched-len(hermesClose)+1)
		j := strings.Index(s[from:], hermesClose)
		if j < 0 {
			p.searched = len(s)
			if final {
				if c, ok := parseCall(s, "arguments"); ok {
					calls = append(calls, c)
				} else {
					text.WriteString(hermesOpen + s)
				}
				s, p.in = "", false
			}
			break
		}
		j += from
		if c, ok := parseCall(s[:j], "arguments"); ok {
			calls = append(calls, c)
		} else {
			text.WriteString(hermesOpen + s[:j+len(hermesClose)])
		}
		s, p.in = s[j+len(hermesClose):], false
	}
	if len(s) != p.buf.Len() { // something was decided: keep only the rest
		p.buf.Reset()
		p.buf.WriteString(s)
	}
	return p.release(text.String()), calls
}

// scanTail handles formats where a marker starts calls that run to the
// end of the output.
func (p *Parser) scanTail(mark string, parse func(string) ([]Call, bool), final bool) (string, []Call) {
	s := p.buf.String()
	if !p.in {
		i := strings.Index(s, mark)
		if i < 0 {
			keep := 0
			if !final {
				keep = heldPrefix(s, mark)
			}
			p.buf.Reset()
			p.buf.WriteString(s[len(s)-keep:])
			return p.release(s[:len(s)-keep]), nil
		}
		p.in = true
		p.buf.Reset()
		p.buf.WriteString(s[i:])
		if !final {
			return p.release(s[:i]), nil
		}
		text := s[:i]
		calls, text2 := p.finishTail(mark, parse)
		return p.release(text + text2), calls
	}
	if !final {
		return "", nil
	}
	calls, text := p.finishTail(mark, parse)
	return p.release(text), calls
}

func (p *Parser) finishTail(mark string, parse func(string) ([]Call, bool)) ([]Call, string) {
	s := p.buf.String()
	p.buf.Reset()
	p.in = false
	if calls, ok := parse(strings.TrimSpace(strings.TrimPrefix(s, mark))); ok {
		return calls, ""
	}
	return nil, s
}

// scanLlama3 holds an answer that starts like a JSON object (or with the
// python tag) to the end, then decides whether it is a call.
func (p *Parser) scanLlama3(final bool) (string, []Call) {
	s := p.buf.String()
	if !p.in && !p.started {
		t := strings.TrimLeft(s, " \t\r\n")
		switch {
		case t == "" && !final:
			return "", nil
		case strings.HasPrefix(t, "{") || strings.HasPrefix(t, pythonTag):
			p.in = true
		case !final && strings.HasPrefix(pythonTag, t):
			return "", nil // may become the tag
		}
	}
	if p.in {
		if !final {
			return "", nil
		}
		p.buf.Reset()
		p.in = false
		body := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), pythonTag))
		var calls []Call
		for _, part := range splitSemicolons(body) {
			c, ok := parseCall(part, "parameters", "arguments")
			if !ok {
				return p.release(s), nil
			}
			calls = append(calls, c)
		}
		if len(calls) == 0 {
			return p.release(s), nil
		}
		return "", calls
	}
	p.buf.Reset()
	return p.release(s), nil
}

// release marks text as sent.
func (p *Parser) release(s string) string {
	if strings.TrimSpace(s) != "" {
		p.started = true
	}
	return s
}

// heldPrefix is the length of the longest suffix of s that is a proper
// prefix of mark.
func heldPrefix(s, mark string) int {
	for k := min(len(mark)-1, len(s)); k > 0; k-- {
		if strings.HasSuffix(s, mark[:k]) {
			return k
		}
	}
	return 0
}

// parseCall reads {"name": …, "<args>": {…}} with the first of argKeys
// present; arguments given as a JSON string are unwrapped.
func parseCall(s string, argKeys ...string) (Call, bool) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(strings.TrimSpace(s)), &obj); err != nil {
		return Call{}, false
	}
	var name string
	if json.Unmarshal(obj["name"], &name) != nil || name == "" {
		return Call{}, false
	}
	args := json.RawMessage("{}")
	for _, k := range argKeys {
		if raw, ok := obj[k]; ok {
			args = raw
			break
		}
	}
	var str string
	if json.Unmarshal(args, &str) == nil {
		args = json.RawMessage(str)
	}
	text, ok := objectArguments(args)
	if !ok {
		return Call{}, false
	}
	return Call{Name: name, Arguments: text}, true
}

// objectArguments is a call's arguments as compact JSON text: an object,
// its keys in the model's order and its numbers exactly as written
// (json.Compact, not a decode and encode, which sorted keys and rounded
// large integers); no arguments or null is {}. Anything else is not a
// call (ok false).
func objectArguments(raw json.RawMessage) (string, bool) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return "{}", true
	}
	var b bytes.Buffer
	if t[0] != '{' || json.Compact(&b, t) != nil {
		return "", false
	}
	return b.String(), true
}

// parseMistral reads the text after [TOOL_CALLS]: a JSON array of calls,
// or one or more name[ARGS]{…} calls.
func parseMistral(s string) ([]Call, bool) {
	var list []json.RawMessage
	if json.Unmarshal([]byte(s), &list) == nil {
		calls := make([]Call, 0, len(list))
		for _, raw := range list {
			c, ok := parseCall(string(raw), "arguments")
			if !ok {
				return nil, false
			}
			calls = append(calls, c)
		}
		return calls, len(calls) > 0
	}
	var calls []Call
	for _, part := range strings.Split(s, mistralMark) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, args, ok := strings.Cut(part, "[ARGS]")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, false
		}
		text, ok := objectArguments(json.RawMessage(args))
		if !ok {
			return nil, false
		}
		calls = append(calls, Call{Name: strings.TrimSpace(name), Arguments: text})
	}
	return calls, len(calls) > 0
}

// splitSemicolons splits Llama 3's "call; call" form at top-level
// semicolons (outside strings and brackets).
func splitSemicolons(s string) []string {
	var parts []string
	depth, start := 0, 0
	inStr, esc := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inStr:
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		case c == ';' && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	parts = append(parts, s[start:])
	out := parts[:0]
	for _, p := range parts {
		if strings.TrimSpace(p) != "" {
			out = append(out, p)
		}
	}
	return out
}
