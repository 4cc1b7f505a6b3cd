package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/constrain"
	"github.com/mlxk/mlxk/mlxk-serve/servecmd/models"
	"github.com/mlxk/mlxk/mlxk-serve/servecmd/openai"
	"github.com/mlxk/mlxk/mlxk-serve/servecmd/toolcall"
	"github.com/mlxk/mlxk/shared/engine/reasoning"
	"github.com/mlxk/mlxk/shared/textgen"
)

// chat answers POST /v1/chat/completions.
func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	req, m, ok := s.begin(w, r, openai.DecodeChat)
	if !ok {
		return
	}
	defer s.reg.Release(m, req.KeepAlive)
	turn, e := newChatTurn(req, m)
	if e != nil {
		s.fail(w, r, e)
		return
	}
	id, created := newID("chatcmpl-"), s.cfg.Now().Unix()
	choices := make([]*chatCompletion, req.N)
	for i := range choices {
		j := turn.job(start, i)
		if e := s.prepare(j); e != nil {
			s.fail(w, r, e)
			return
		}
		choices[i] = &chatCompletion{choiceBase: choiceBase{id: id, created: created, model: m.ID, j: j}}
	}
	respond(s, w, r, "chat", choices, endChat, wholeChat)
}

// chatTurn is a chat-shaped request (chat completions, Anthropic's
// Messages, the Responses API) made ready for its model: whether the tools
// go to the template, the grammar the answer must follow (nil: free
// text), the prompt's tokens, and whether the prompt itself opens a
// reasoning block.
type chatTurn struct {
	req      *openai.Request
	m        *models.Model
	useTools bool
	grammar  *constrain.Grammar
	ids      []int32
	opens    bool
}

// newChatTurn checks what the model can do and renders the prompt.
func newChatTurn(req *openai.Request, m *models.Model) (*chatTurn, *openai.Error) {
	useTools, grammar, e := checkChatFeatures(req, m)
	if e != nil {
		return nil, e
	}
	prompt, e := renderChat(m, req, useTools)
	if e != nil {
		return nil, e
	}
	return &chatTurn{req: req, m: m, useTools: useTools, grammar: grammar, ids: m.Text.Encode(prompt),
		opens: reasoning.PromptOpensReasoning(m.Reasoning, prompt.Text)}, nil
}

// job is the generation of the turn's choice i, with its parsers.
func (t *chatTurn) job(start time.Time, choice int) *job {
	j := &job{req: t.req, m: t.m, start: start, ids: t.ids, choice: choice}
	j.reasoning = reasoning.NewParser(t.m.Reasoning, t.opens)
	if t.grammar != nil { // the answer, not the thinking, must follow the grammar
		j.grammar = t.grammar
		switch {
		case t.m.Reasoning == reasoning.Harmony:
			j.gate = harmonyFinal(t.m)
		case t.opens:
			j.gate = reasoningEnd(t.m)
		}
	}
	if t.useTools {
		j.tools = toolcall.NewParser(t.m.Tools)
	}
	return j
}

// beginSingleChat decodes a chat-shaped request that has no choices
// (Messages, Responses), acquires its model and readies its one
// generation; ok is false when it answered an error instead. The caller
// defers release, which gives the model back.
func (s *Server) beginSingleChat(w http.ResponseWriter, r *http.Request, decode func([]byte) (*openai.Request, *openai.Error)) (j *job, release func(), ok bool) {
	start := time.Now()
	req, m, ok := s.begin(w, r, decode)
	if !ok {
		return nil, nil, false
	}
	release = func() { s.reg.Release(m, req.KeepAlive) }
	turn, e := newChatTurn(req, m)
	if e == nil {
		j = turn.job(start, 0)
		if e = s.prepare(j); e == nil {
			return j, release, true
		}
	}
	release()
	s.fail(w, r, e)
	return nil, nil, false
}

// checkChatFeatures refuses what the model cannot do. It says whether
// the tools go to the template, and returns the grammar the answer must
// follow (nil: free text): the response_format's JSON, or the markup of a
// call tool_choice requires.
func checkChatFeatures(req *openai.Request, m *models.Model) (bool, *constrain.Grammar, *openai.Error) {
	var g *constrain.Grammar
	switch req.Format.Type {
	case "json_object":
		g = constrain.JSONObject()
	case "json_schema":
		var err error
		if g, err = constrain.Compile(req.Format.Schema); err != nil {
			return false, nil, openai.Errorf(http.StatusBadRequest, openai.CodeUnsupportedValue, "response_format.json_schema.schema", "%v", err)
		}
	}
	if req.ToolChoice.Mode == "none" || len(req.Tools) == 0 {
		return false, g, nil
	}
	switch {
	case g != nil:
		return false, nil, openai.Errorf(http.StatusBadRequest, openai.CodeUnsupportedValue, "response_format",
			"response_format %q cannot be combined with tools", req.Format.Type)
	case m.Tools == toolcall.None:
		return false, nil, openai.Errorf(http.StatusBadRequest, openai.CodeUnsupportedValue, "tools",
			"model %s does not support tools: its chat template takes none", m.ID)
	case !m.Tools.Supported():
		return false, nil, openai.Errorf(http.StatusBadRequest, openai.CodeUnsupportedValue, "tools",
			"model %s takes tools, but its tool-call format is not one this server can parse", m.ID)
	case req.ToolChoice.Mode == "auto":
		return true, nil, nil
	}
	g, e := forcedCall(req, m)
	return e == nil, g, e
}

// forcedCall is the grammar of the call tool_choice "required" or a named
// function asks for: the model's call markup around
// {"name": <one of the tools>, "arguments": {...}}. The arguments follow
// the function's parameter schema when it uses the keywords constrain
// supports, and are any JSON object otherwise.
func forcedCall(req *openai.Request, m *models.Model) (*constrain.Grammar, *openai.Error) {
	prefix, suffix, argsKey, ok := m.Tools.Markup()
	if !ok {
		return nil, openai.Errorf(http.StatusBadRequest, openai.CodeUnsupportedValue, "tool_choice",
			"tool_choice %q is not supported for %s: its %s call format cannot be forced; use \"auto\"", req.ToolChoice.Mode, m.ID, m.Tools)
	}
	var names []string
	var params json.RawMessage
	for _, t := range req.Tools {
		if req.ToolChoice.Mode == "function" && t.Name != req.ToolChoice.Function {
			continue
		}
		names = append(names, t.Name)
		params = t.Parameters
	}
	if len(names) > 1 {
		params = nil // one schema cannot follow the name chosen
	}
	call := func(args json.RawMessage) (*constrain.Grammar, error) {
		schema := map[string]any{"type": "object", "required": []string{"name", argsKey}, "additionalProperties": false,
			"properties": map[string]any{"name": map[string]any{"enum": names}, argsKey: args}}
		var defs map[string]json.RawMessage
		if json.Unmarshal(args, &defs) == nil { // hoist the parameters' definitions for their $refs
			for _, k := range []string{"$defs", "definitions"} {
				if d, ok := defs[k]; ok {
					schema[k] = d
				}
			}
		}
		b, err := json.Marshal(schema)
		if err != nil {
			return nil, err
		}
		return constrain.Compile(b)
	}
	g, err := call(params)
	if params == nil || err != nil {
		g, err = call(json.RawMessage(`{"type":"object"}`))
	}
	if err != nil {
		return nil, openai.Errorf(http.StatusBadRequest, openai.CodeUnsupportedValue, "tool_choice", "%v", err)
	}
	return g.Wrap(prefix, suffix), nil
}

// reasoningEnd returns a gate that opens once the model has closed its
// reasoning block (the kind's end marker appears in the output).
func reasoningEnd(m *models.Model) func(int32) bool {
	_, end := m.Reasoning.Markers()
	return outputGate(m, end, func(string) bool { return true })
}

// harmonyFinal is the gate of a gpt-oss answer: the analysis and any
// other channel are free text, the message on the final channel follows
// the grammar.
func harmonyFinal(m *models.Model) func(int32) bool {
	return outputGate(m, reasoning.HarmonyMessage, reasoning.FinalOpened)
}

// outputGate returns a gate that opens when the output so far, decoded,
// satisfies open. open is asked only when the newest token completed an
// occurrence of marker, so a long reasoning costs one short search per
// token, not a pass over everything written.
func outputGate(m *models.Model, marker string, open func(text string) bool) func(int32) bool {
	var seen strings.Builder
	return func(id int32) bool {
		before := seen.Len()
		seen.WriteString(m.Text.Tok.Decode([]int{int(id)}, false))
		text := seen.String()
		tail := text[max(0, before-len(marker)+1):]
		return strings.Contains(tail, marker) && open(text)
	}
}

// renderChat renders the conversation with the model's template, or with
// MLX Knife's plain fallback when the model has none. A template that
// refuses the conversation (raise_exception) is the client's error.
func renderChat(m *models.Model, req *openai.Request, useTools bool) (textgen.Prompt, *openai.Error) {
	o := textgen.ChatOptions{Kwargs: req.TemplateKwargs, Strict: true}
	if useTools {
		o.Tools = req.ToolsJSON
	}
	p, err := m.Text.Chat(req.Messages, o)
	var refused *textgen.TemplateRefusedError
	switch {
	case errors.As(err, &refused):
		return textgen.Prompt{}, openai.Errorf(http.StatusBadRequest, openai.CodeInvalidValue, "messages",
			"the chat template of %s refused the conversation: %v", m.ID, refused.Err)
	case err != nil:
		return textgen.Prompt{}, openai.Errorf(http.StatusBadRequest, openai.CodeInvalidValue, "messages", "%v", err)
	}
	return p, nil
}

// chatCompletion assembles a chat answer, streamed or whole.
type chatCompletion struct {
	choiceBase

	sentRole  bool
	content   strings.Builder
	reasoning strings.Builder
	calls     []openai.ToolCall
	logprobs  []openai.TokenLogprob
}

func (c *chatCompletion) base() *choiceBase { return &c.choiceBase }

func (c *chatCompletion) chunk(delta openai.Delta, lp []openai.TokenLogprob, finish *string) openai.ChatChunk {
	ch := openai.ChatChunk{ID: c.id, Object: openai.ObjectChatChunk, Created: c.created, Model: c.model,
		Choices: []openai.ChunkChoice{{Index: c.j.choice, Delta: delta, FinishReason: finish}}}
	if c.j.req.Logprobs && lp != nil {
		ch.Choices[0].Logprobs = &openai.ChatLogprobs{Content: lp}
	}
	return ch
}

// sendRole opens the stream with the assistant role, as OpenAI does.
func (c *chatCompletion) sendRole() error {
	if c.sentRole {
		return nil
	}
	c.sentRole = true
	empty := ""
	return c.stream.event(c.chunk(openai.Delta{Role: "assistant", Content: &empty}, nil, nil))
}

func (c *chatCompletion) piece(p piece) error {
	lps := chatLogprobs(p.logprobs, c.j)
	calls := make([]openai.ToolCall, 0, len(p.calls))
	for _, call := range p.calls {
		calls = append(calls, openai.ToolCall{ID: newID("call_"), Type: "function",
			Function: openai.FunctionCall{Name: call.Name, Arguments: call.Arguments}})
	}
	if c.stream == nil {
		c.content.WriteString(p.content)
		c.reasoning.WriteString(p.reasoning)
		c.calls = append(c.calls, calls...)
		c.logprobs = append(c.logprobs, lps...)
		return nil
	}
	if err := c.sendRole(); err != nil {
		return err
	}
	var d openai.Delta
	if p.reasoning != "" {
		d.ReasoningContent = &p.reasoning
	}
	if p.content != "" {
		d.Content = &p.content
	}
	for i := range calls {
		idx := len(c.calls) + i
		calls[i].Index = &idx
	}
	c.calls = append(c.calls, calls...)
	d.ToolCalls = calls
	return c.stream.event(c.chunk(d, lps, nil))
}

// whole is the non-streamed answer.
func (c *chatCompletion) whole(finish string, o outcome) openai.ChatCompletion {
	msg := openai.ChatMessage{Role: "assistant", ToolCalls: c.calls}
	content := c.content.String()
	if len(c.calls) == 0 || strings.TrimSpace(content) != "" {
		msg.Content = &content
	}
	if r := c.reasoning.String(); r != "" {
		msg.ReasoningContent = &r
	}
	choice := openai.ChatChoice{Index: c.j.choice, Message: msg, FinishReason: finish}
	if c.j.req.Logprobs {
		lp := c.logprobs
		if lp == nil {
			lp = []openai.TokenLogprob{}
		}
		choice.Logprobs = &openai.ChatLogprobs{Content: lp}
	}
	return openai.ChatCompletion{ID: c.id, Object: openai.ObjectChat, Created: c.created, Model: c.model,
		Choices: []openai.ChatChoice{choice}, Usage: usage(o.res)}
}

// wholeChat is the non-streamed answer with every choice.
func wholeChat(choices []*chatCompletion, finishes []string, outs []outcome) any {
	resp := choices[0].whole(finishes[0], outs[0])
	for i, c := range choices[1:] {
		resp.Choices = append(resp.Choices, c.whole(finishes[i+1], outs[i+1]).Choices...)
	}
	resp.Usage = usageAll(outs)
	return resp
}

// endChat writes the end of a chat stream: each choice's finish chunk,
// the usage chunk when asked for, and [DONE].
func endChat(choices []*chatCompletion, finishes []string, outs []outcome) {
	for i, c := range choices {
		if c.sendRole() != nil || c.stream.event(c.chunk(openai.Delta{}, nil, &finishes[i])) != nil {
			return
		}
	}
	c := choices[0]
	if c.j.req.IncludeUsage {
		ch := openai.ChatChunk{ID: c.id, Object: openai.ObjectChatChunk, Created: c.created, Model: c.model,
			Choices: []openai.ChunkChoice{}, Usage: usageAll(outs)}
		if c.stream.event(ch) != nil {
			return
		}
	}
	_ = c.stream.done()
}

// chatLogprobs converts recorded logprobs to the chat shape.
func chatLogprobs(lps []tokenLogprob, j *job) []openai.TokenLogprob {
	if len(lps) == 0 {
		return nil
	}
	tok := j.m.Text.Tok
	out := make([]openai.TokenLogprob, 0, len(lps))
	for _, lp := range lps {
		t := openai.TokenLogprob{Token: lp.text, Logprob: lp.logprob, Bytes: byteList(lp.text),
			TopLogprobs: make([]openai.TopLogprob, 0, len(lp.top))}
		for _, alt := range lp.top {
			text := tok.Decode([]int{int(alt.Token)}, false)
			t.TopLogprobs = append(t.TopLogprobs, openai.TopLogprob{Token: text,
				Logprob: finiteLogprob(alt.Logprob), Bytes: byteList(text)})
		}
		out = append(out, t)
	}
	return out
}

func byteList(s string) []int {
	out := make([]int, len(s))
	for i := 0; i < len(s); i++ {
		out[i] = int(s[i])
	}
	return out
}
