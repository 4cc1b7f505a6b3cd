package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/openai"
	"github.com/mlxk/mlxk/mlxk-serve/servecmd/toolcall"
	"github.com/mlxk/mlxk/shared/engine"
)

// responses answers POST /v1/responses, OpenAI's Responses API without
// stored state: the chat pipeline, answered as output items (reasoning,
// message, function_call) and the Responses stream events.
func (s *Server) responses(w http.ResponseWriter, r *http.Request) {
	j, release, ok := s.beginSingleChat(w, r, openai.DecodeResponses)
	if !ok {
		return
	}
	defer release()
	a := &responseAnswer{choiceBase: choiceBase{id: newID("resp_"), created: s.cfg.Now().Unix(), model: j.m.ID, j: j}}
	respond(s, w, r, "responses", []*responseAnswer{a}, endResponse, wholeResponse)
}

// responseAnswer assembles a Responses answer: output items in order,
// whole or as stream events. Whole answers and streams build the same
// items; a stream also announces each as it opens and grows.
type responseAnswer struct {
	choiceBase

	output []any // finished items
	// The item being written (a reasoning or message item), "" when none.
	open   string
	openID string
	text   strings.Builder // its text so far
	seq    int             // the next event's sequence_number
	begun  bool            // response.created went out
}

func (a *responseAnswer) base() *choiceBase { return &a.choiceBase }

func (a *responseAnswer) framing() framing { return framingNamed }

func (a *responseAnswer) errorEvent(e *openai.Error) []byte {
	ev := openai.ResponseErrorEvent{Type: "error", Code: e.Code, Message: e.Message, SequenceNumber: a.seq}
	if e.Param != "" {
		ev.Param = &e.Param
	}
	b, _ := openai.Marshal(ev)
	return b
}

// event sends a stream event with its type and sequence number.
func (a *responseAnswer) event(typ string, fields map[string]any) error {
	if a.stream == nil {
		return nil
	}
	fields["type"], fields["sequence_number"] = typ, a.seq
	a.seq++
	return a.stream.named(typ, fields)
}

// snapshot is the response as it stands.
func (a *responseAnswer) snapshot(status string, o *outcome, finish string) openai.Response {
	req := a.j.req
	resp := openai.Response{ID: a.id, Object: openai.ObjectResponse, CreatedAt: a.created, Status: status,
		Model: a.model, Output: a.output, ParallelToolCalls: req.ParallelToolCalls, Temperature: req.Params.Temperature,
		TopP: req.Params.TopP, Truncation: "disabled", Metadata: map[string]string{}, Tools: []any{},
		Text: openai.ResponseText{Format: openai.ResponseTextFormat{Type: req.Format.Type, Name: req.Format.Name, Schema: req.Format.Schema}}}
	if resp.Output == nil {
		resp.Output = []any{}
	}
	if req.MaxTokens > 0 {
		n := req.MaxTokens
		resp.MaxOutputTokens = &n
	}
	if raw, ok := req.TemplateKwargs["reasoning_effort"]; ok {
		var effort string
		if json.Unmarshal(raw, &effort) == nil {
			resp.Reasoning.Effort = &effort
		}
	}
	for _, t := range req.Tools {
		resp.Tools = append(resp.Tools, map[string]any{"type": "function", "name": t.Name, "description": t.Description,
			"parameters": t.Parameters, "strict": false})
	}
	resp.ToolChoice = req.ToolChoice.Mode
	if req.ToolChoice.Mode == "function" {
		resp.ToolChoice = map[string]any{"type": "function", "name": req.ToolChoice.Function}
	}
	if o != nil {
		done := time.Now().Unix()
		resp.CompletedAt = &done
		res := o.res
		u := &openai.ResponseUsage{InputTokens: res.PromptTokens, OutputTokens: res.GeneratedTokens,
			TotalTokens: res.PromptTokens + res.GeneratedTokens}
		u.InputTokensDetails.CachedTokens = res.CachedTokens
		resp.Usage = u
		if finish == engine.FinishLength {
			resp.IncompleteDetails = &openai.IncompleteDetails{Reason: "max_output_tokens"}
		}
	}
	return resp
}

// begin sends response.created and response.in_progress once.
func (a *responseAnswer) begin() error {
	if a.begun || a.stream == nil {
		return nil
	}
	a.begun = true
	snap := a.snapshot("in_progress", nil, "")
	if err := a.event("response.created", map[string]any{"response": snap}); err != nil {
		return err
	}
	return a.event("response.in_progress", map[string]any{"response": snap})
}

func (a *responseAnswer) piece(p piece) error {
	if err := a.begin(); err != nil {
		return err
	}
	if p.reasoning != "" {
		if err := a.write("reasoning", p.reasoning); err != nil {
			return err
		}
	}
	if p.content != "" {
		if err := a.write("message", p.content); err != nil {
			return err
		}
	}
	for _, c := range p.calls {
		if err := a.closeItem("completed"); err != nil {
			return err
		}
		if err := a.call(c); err != nil {
			return err
		}
	}
	return nil
}

// write adds text to an item of kind, opening it first when another (or
// none) is open.
func (a *responseAnswer) write(kind, s string) error {
	if a.open != kind {
		if err := a.closeItem("completed"); err != nil {
			return err
		}
		if err := a.openItem(kind); err != nil {
			return err
		}
	}
	a.text.WriteString(s)
	idx := len(a.output)
	if kind == "reasoning" {
		return a.event("response.reasoning_text.delta", map[string]any{"item_id": a.openID, "output_index": idx,
			"content_index": 0, "delta": s})
	}
	return a.event("response.output_text.delta", map[string]any{"item_id": a.openID, "output_index": idx,
		"content_index": 0, "delta": s, "logprobs": []any{}})
}

func (a *responseAnswer) openItem(kind string) error {
	a.open = kind
	a.text.Reset()
	idx := len(a.output)
	if kind == "reasoning" {
		a.openID = newID("rs_")
		item := openai.ResponseReasoningItem{Type: "reasoning", ID: a.openID, Summary: []any{}, Content: []openai.ResponseReasoningText{}, Status: "in_progress"}
		return a.event("response.output_item.added", map[string]any{"output_index": idx, "item": item})
	}
	a.openID = newID("msg_")
	item := openai.ResponseMessage{Type: "message", ID: a.openID, Status: "in_progress", Role: "assistant", Content: []openai.ResponseOutputText{}}
	if err := a.event("response.output_item.added", map[string]any{"output_index": idx, "item": item}); err != nil {
		return err
	}
	return a.event("response.content_part.added", map[string]any{"item_id": a.openID, "output_index": idx,
		"content_index": 0, "part": openai.NewOutputText("")})
}

// closeItem finishes the open item with status and adds it to the output.
func (a *responseAnswer) closeItem(status string) error {
	if a.open == "" {
		return nil
	}
	kind, id, text, idx := a.open, a.openID, a.text.String(), len(a.output)
	a.open, a.openID = "", ""
	a.text.Reset()
	var item any
	if kind == "reasoning" {
		item = openai.ResponseReasoningItem{Type: "reasoning", ID: id, Summary: []any{},
			Content: []openai.ResponseReasoningText{{Type: "reasoning_text", Text: text}}, Status: status}
		if err := a.event("response.reasoning_text.done", map[string]any{"item_id": id, "output_index": idx,
			"content_index": 0, "text": text}); err != nil {
			return err
		}
	} else {
		part := openai.NewOutputText(text)
		item = openai.ResponseMessage{Type: "message", ID: id, Status: status, Role: "assistant", Content: []openai.ResponseOutputText{part}}
		if err := a.event("response.output_text.done", map[string]any{"item_id": id, "output_index": idx,
			"content_index": 0, "text": text, "logprobs": []any{}}); err != nil {
			return err
		}
		if err := a.event("response.content_part.done", map[string]any{"item_id": id, "output_index": idx,
			"content_index": 0, "part": part}); err != nil {
			return err
		}
	}
	a.output = append(a.output, item)
	return a.event("response.output_item.done", map[string]any{"output_index": idx, "item": item})
}

// call adds a function call item (its arguments arrive whole).
func (a *responseAnswer) call(c toolcall.Call) error {
	idx := len(a.output)
	item := openai.ResponseFunctionCall{Type: "function_call", ID: newID("fc_"), CallID: newID("call_"), Name: c.Name, Status: "in_progress"}
	if err := a.event("response.output_item.added", map[string]any{"output_index": idx, "item": item}); err != nil {
		return err
	}
	if err := a.event("response.function_call_arguments.delta", map[string]any{"item_id": item.ID, "output_index": idx,
		"delta": c.Arguments}); err != nil {
		return err
	}
	if err := a.event("response.function_call_arguments.done", map[string]any{"item_id": item.ID, "output_index": idx,
		"name": c.Name, "arguments": c.Arguments}); err != nil {
		return err
	}
	item.Arguments, item.Status = c.Arguments, "completed"
	a.output = append(a.output, item)
	return a.event("response.output_item.done", map[string]any{"output_index": idx, "item": item})
}

// finish closes the open item and returns the final response.
func (a *responseAnswer) finish(finish string, o outcome) openai.Response {
	status, itemStatus := "completed", "completed"
	if finish == engine.FinishLength {
		status, itemStatus = "incomplete", "incomplete"
	}
	_ = a.closeItem(itemStatus) // stream write errors end the stream below
	return a.snapshot(status, &o, finish)
}

// endResponse ends a stream with response.completed or
// response.incomplete.
func endResponse(answers []*responseAnswer, finishes []string, outs []outcome) {
	a := answers[0]
	if a.begin() != nil {
		return
	}
	resp := a.finish(finishes[0], outs[0])
	if a.event("response."+resp.Status, map[string]any{"response": resp}) != nil {
		return
	}
	_ = a.stream.done()
}

// wholeResponse is the non-streamed answer.
func wholeResponse(answers []*responseAnswer, finishes []string, outs []outcome) any {
	return answers[0].finish(finishes[0], outs[0])
}
