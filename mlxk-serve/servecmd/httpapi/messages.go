package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/openai"
	"github.com/mlxk/mlxk/mlxk-serve/servecmd/toolcall"
	"github.com/mlxk/mlxk/shared/engine"
)

// messages answers POST /v1/messages, Anthropic's Messages API: the same
// pipeline as a chat completion (template, tools, reasoning, constrained
// output, the batcher), answered in Anthropic's content blocks and
// stream events.
func (s *Server) messages(w http.ResponseWriter, r *http.Request) {
	j, release, ok := s.beginSingleChat(w, r, openai.DecodeMessages)
	if !ok {
		return
	}
	defer release()
	a := &anthropicAnswer{choiceBase: choiceBase{id: newID("msg_"), model: j.m.ID, j: j}}
	respond(s, w, r, "messages", []*anthropicAnswer{a}, endMessages, wholeMessage)
}

// countTokens answers POST /v1/messages/count_tokens: the prompt a
// messages request would send the model, in tokens.
func (s *Server) countTokens(w http.ResponseWriter, r *http.Request) {
	req, m, ok := s.begin(w, r, openai.DecodeCountTokens)
	if !ok {
		return
	}
	defer s.reg.Release(m, req.KeepAlive)
	turn, e := newChatTurn(req, m)
	if e != nil {
		s.fail(w, r, e)
		return
	}
	s.writeJSON(w, r, http.StatusOK, openai.AnthropicCount{InputTokens: len(turn.ids)})
}

// anthropicAnswer assembles a Messages API answer: content blocks in
// order (thinking, text, tool uses), whole or as stream events.
type anthropicAnswer struct {
	choiceBase

	blocks []openai.AnthropicBlock // whole answers
	// The text or thinking block being written (whole answers), kept in a
	// builder until another kind of block follows.
	accType string
	acc     strings.Builder
	started bool   // message_start went out
	open    string // the type of the block being streamed, "" when none
	next    int    // index of the next streamed block
}

func (a *anthropicAnswer) base() *choiceBase { return &a.choiceBase }

func (a *anthropicAnswer) framing() framing { return framingNamed }

func (a *anthropicAnswer) piece(p piece) error {
	if a.stream == nil {
		if p.reasoning != "" {
			a.appendText("thinking", p.reasoning)
		}
		if p.content != "" {
			a.appendText("text", p.content)
		}
		if len(p.calls) > 0 {
			a.flushText()
		}
		for _, c := range p.calls {
			a.blocks = append(a.blocks, openai.ToolUseBlock(newID("toolu_"), c.Name, callInput(c)))
		}
		return nil
	}
	if err := a.begin(); err != nil {
		return err
	}
	if p.reasoning != "" {
		if err := a.delta("thinking", openai.AnthropicDelta{Type: "thinking_delta", Thinking: &p.reasoning}); err != nil {
			return err
		}
	}
	if p.content != "" {
		if err := a.delta("text", openai.AnthropicDelta{Type: "text_delta", Text: &p.content}); err != nil {
			return err
		}
	}
	for _, c := range p.calls {
		if err := a.closeBlock(); err != nil {
			return err
		}
		start := openai.ToolUseBlock(newID("toolu_"), c.Name, json.RawMessage("{}"))
		args := string(callInput(c))
		if err := a.startBlock(start); err != nil {
			return err
		}
		if err := a.event("content_block_delta", openai.AnthropicEvent{Index: &a.next,
			Delta: openai.AnthropicDelta{Type: "input_json_delta", PartialJSON: &args}}); err != nil {
			return err
		}
		if err := a.closeBlock(); err != nil {
			return err
		}
	}
	return nil
}

// appendText adds text to the block being written when it has the same
// type, else starts a new one (whole answers).
func (a *anthropicAnswer) appendText(typ, s string) {
	if a.accType != typ {
		a.flushText()
		a.accType = typ
	}
	a.acc.WriteString(s)
}

// flushText ends the text or thinking block being written.
func (a *anthropicAnswer) flushText() {
	switch a.accType {
	case "text":
		a.blocks = append(a.blocks, openai.TextBlock(a.acc.String()))
	case "thinking":
		a.blocks = append(a.blocks, openai.ThinkingBlock(a.acc.String()))
	}
	a.accType = ""
	a.acc.Reset()
}

// callInput is a call's arguments as the tool_use input object: the
// parsers write compact JSON; anything but an object (a model that wrote
// no valid arguments) becomes {}.
func callInput(c toolcall.Call) json.RawMessage {
	raw := json.RawMessage(c.Arguments)
	var o map[string]json.RawMessage
	if json.Unmarshal(raw, &o) != nil || o == nil {
		return json.RawMessage("{}")
	}
	return raw
}

func (a *anthropicAnswer) event(name string, ev openai.AnthropicEvent) error {
	ev.Type = name
	return a.stream.named(name, ev)
}

// begin sends message_start once.
func (a *anthropicAnswer) begin() error {
	if a.started {
		return nil
	}
	a.started = true
	msg := openai.AnthropicMessage{ID: a.id, Type: "message", Role: "assistant", Model: a.model,
		Content: []openai.AnthropicBlock{}, Usage: openai.AnthropicUsage{InputTokens: len(a.j.ids)}}
	return a.event("message_start", openai.AnthropicEvent{Message: &msg})
}

// delta streams text into a block of typ, opening it first if another
// (or none) is open.
func (a *anthropicAnswer) delta(typ string, d openai.AnthropicDelta) error {
	if a.open != typ {
		if err := a.closeBlock(); err != nil {
			return err
		}
		empty := ""
		blk := openai.TextBlock(empty)
		if typ == "thinking" {
			blk = openai.ThinkingBlock(empty)
		}
		if err := a.startBlock(blk); err != nil {
			return err
		}
	}
	return a.event("content_block_delta", openai.AnthropicEvent{Index: &a.next, Delta: d})
}

func (a *anthropicAnswer) startBlock(b openai.AnthropicBlock) error {
	a.open = b.Type
	return a.event("content_block_start", openai.AnthropicEvent{Index: &a.next, ContentBlock: &b})
}

func (a *anthropicAnswer) closeBlock() error {
	if a.open == "" {
		return nil
	}
	a.open = ""
	i := a.next
	a.next++
	return a.event("content_block_stop", openai.AnthropicEvent{Index: &i})
}

// anthropicStop is the stop reason (and the stop sequence that ended the
// answer, if one did) of a finished generation.
func anthropicStop(finish string, o outcome, j *job) (string, *string) {
	switch {
	case finish == openai.FinishToolCalls:
		return openai.StopToolUse, nil
	case o.res.StopString != "":
		seq := o.res.StopString
		return openai.StopSequence, &seq
	case finish == engine.FinishLength && j.maxTokens < j.req.MaxTokens:
		return openai.StopContextWindow, nil // the context ran out before max_tokens
	case finish == engine.FinishLength:
		return openai.StopMaxTokens, nil
	}
	return openai.StopEndTurn, nil
}

func anthropicUsage(res engine.Result) openai.AnthropicUsage {
	return openai.AnthropicUsage{InputTokens: res.PromptTokens - res.CachedTokens, OutputTokens: res.GeneratedTokens,
		CacheReadInputTokens: res.CachedTokens}
}

// endMessages ends a stream: the open block, message_delta with the stop
// reason and usage, message_stop.
func endMessages(answers []*anthropicAnswer, finishes []string, outs []outcome) {
	a := answers[0]
	if a.begin() != nil || a.closeBlock() != nil {
		return
	}
	reason, seq := anthropicStop(finishes[0], outs[0], a.j)
	u := anthropicUsage(outs[0].res)
	if a.event("message_delta", openai.AnthropicEvent{Delta: openai.AnthropicMessageDelta{StopReason: reason, StopSequence: seq}, Usage: &u}) != nil ||
		a.event("message_stop", openai.AnthropicEvent{}) != nil {
		return
	}
	_ = a.stream.done()
}

// wholeMessage is the non-streamed answer.
func wholeMessage(answers []*anthropicAnswer, finishes []string, outs []outcome) any {
	a := answers[0]
	reason, seq := anthropicStop(finishes[0], outs[0], a.j)
	a.flushText()
	blocks := a.blocks
	if blocks == nil {
		blocks = []openai.AnthropicBlock{}
	}
	// A whitespace-only text block between thinking and tool uses says
	// nothing; Anthropic's answers do not carry one either.
	kept := blocks[:0]
	for _, b := range blocks {
		if b.Type == "text" && strings.TrimSpace(*b.Text) == "" && len(blocks) > 1 {
			continue
		}
		kept = append(kept, b)
	}
	return openai.AnthropicMessage{ID: a.id, Type: "message", Role: "assistant", Model: a.model, Content: kept,
		StopReason: &reason, StopSequence: seq, Usage: anthropicUsage(outs[0].res)}
}
