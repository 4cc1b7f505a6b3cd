package openai

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// Anthropic's Messages API (POST /v1/messages) decodes into the same
// Request as a chat completion, so both run through one pipeline: the
// system prompt becomes a system message, tool_result blocks become tool
// messages, tool_use blocks the assistant's tool_calls and thinking
// blocks its reasoning_content, in the shape chat templates read.
// Strictness is the same as for the OpenAI API: a field or block type the
// server cannot honour is a 400 naming it.

// DecodeMessages decodes a /v1/messages body.
func DecodeMessages(body []byte) (*Request, *Error) {
	return decodeAnthropic(body, true)
}

// DecodeCountTokens decodes a /v1/messages/count_tokens body: a messages
// request without max_tokens or stream.
func DecodeCountTokens(body []byte) (*Request, *Error) {
	return decodeAnthropic(body, false)
}

func decodeAnthropic(body []byte, generate bool) (*Request, *Error) {
	f, e := parseObject(body)
	if e != nil {
		return nil, e
	}
	r := &Request{Chat: true, N: 1, Format: ResponseFormat{Type: "text"}}
	if r.Model, e = f.model(); e != nil {
		return nil, e
	}
	if generate {
		n, ok, e := f.integer("max_tokens", 1, math.MaxInt32)
		if e != nil {
			return nil, e
		} else if !ok {
			return nil, Errorf(http.StatusBadRequest, CodeMissingField, "max_tokens", "max_tokens is required")
		}
		r.MaxTokens = int(n)
		if r.Stream, _, e = f.boolean("stream"); e != nil {
			return nil, e
		}
		if e := r.sampling(f, 1); e != nil { // Anthropic's temperature is 0-1

			return nil, e
		}
		if e := r.takeStops(f, "stop_sequences", "stop_sequences"); e != nil {
			return nil, e
		}
		// Informational: they change nothing about the answer.
		f.take("metadata")
		if tier, ok, e := f.str("service_tier"); e != nil {
			return nil, e
		} else if ok && tier != "auto" && tier != "standard_only" {
			return nil, invalid("service_tier", `service_tier must be "auto" or "standard_only"`)
		}
	}
	// A prompt-caching hint: the server caches prompt prefixes anyway.
	f.take("cache_control")
	var msgs []map[string]json.RawMessage
	if raw, ok := f.take("system"); ok {
		text, e := anthropicText(raw, "system")
		if e != nil {
			return nil, e
		}
		msgs = append(msgs, map[string]json.RawMessage{"role": jsonString("system"), "content": jsonString(text)})
	}
	conv, e := anthropicMessages(f)
	if e != nil {
		return nil, e
	}
	if r.Messages, _ = json.Marshal(append(msgs, conv...)); r.Messages == nil {
		return nil, invalid("messages", "messages cannot be encoded")
	}
	if e := r.anthropicTools(f); e != nil {
		return nil, e
	}
	if e := r.anthropicThinking(f); e != nil {
		return nil, e
	}
	if e := r.outputConfig(f); e != nil {
		return nil, e
	}
	if e := f.rest(""); e != nil {
		return nil, e
	}
	return r, nil
}

// anthropicText reads a string or an array of text blocks as one string.
func anthropicText(raw json.RawMessage, p string) (string, *Error) {
	return joinedText(raw, p, "text blocks", func(blk fields, bp string) (string, *Error) {
		typ, e := blockType(blk, bp)
		if e != nil {
			return "", e
		}
		if typ != "text" {
			return "", unsupported(joinParam(bp, "type"), "%s may hold text blocks only, got %q", p, typ)
		}
		return textBlock(blk, bp)
	})
}

func blockType(blk fields, p string) (string, *Error) {
	if blk == nil {
		return "", invalid(p, "%s must be an object", p)
	}
	typ, ok, e := blk.str("type")
	if e != nil || !ok {
		return "", invalid(joinParam(p, "type"), "%s needs a type", p)
	}
	return typ, nil
}

// textBlock reads the rest of a text block.
func textBlock(blk fields, p string) (string, *Error) {
	t, ok, e := blk.str("text")
	if e != nil || !ok {
		return "", invalid(joinParam(p, "text"), "a text block needs a text string")
	}
	blk.take("cache_control")
	if raw, ok := blk.take("citations"); ok && string(raw) != "[]" {
		return "", unsupported(joinParam(p, "citations"), "citations are not supported")
	}
	return t, blk.rest(p + ".")
}

// anthropicMessages converts the conversation for chat templates.
func anthropicMessages(f fields) ([]map[string]json.RawMessage, *Error) {
	raw, ok := f.take("messages")
	if !ok {
		return nil, Errorf(http.StatusBadRequest, CodeMissingField, "messages", "messages is required")
	}
	var list []fields
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, invalid("messages", "messages must be an array of message objects")
	}
	if len(list) == 0 {
		return nil, invalid("messages", "messages must not be empty")
	}
	var out []map[string]json.RawMessage
	for i, m := range list {
		p := "messages[" + strconv.Itoa(i) + "]"
		if m == nil {
			return nil, invalid(p, "%s must be an object", p)
		}
		role, _, e := m.str("role")
		if e != nil || (role != "user" && role != "assistant") {
			return nil, invalid(joinParam(p, "role"), `role must be "user" or "assistant"`)
		}
		content, ok := m.take("content")
		if !ok {
			return nil, Errorf(http.StatusBadRequest, CodeMissingField, joinParam(p, "content"), "%s needs content", p)
		}
		if e := m.rest(p + "."); e != nil {
			return nil, e
		}
		msgs, e := anthropicContent(role, content, joinParam(p, "content"))
		if e != nil {
			return nil, e
		}
		out = append(out, msgs...)
	}
	return out, nil
}

// anthropicContent converts one message's content: tool results become
// tool messages ahead of the user's text; the assistant's text, tool uses
// and thinking become one assistant message.
func anthropicContent(role string, raw json.RawMessage, p string) ([]map[string]json.RawMessage, *Error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []map[string]json.RawMessage{{"role": jsonString(role), "content": jsonString(s)}}, nil
	}
	var blocks []fields
	if json.Unmarshal(raw, &blocks) != nil {
		return nil, invalid(p, "content must be a string or an array of content blocks")
	}
	var out []map[string]json.RawMessage
	var text, thinking strings.Builder
	var calls []ToolCall
	hasText := false
	for i, blk := range blocks {
		bp := p + "[" + strconv.Itoa(i) + "]"
		typ, e := blockType(blk, bp)
		if e != nil {
			return nil, e
		}
		switch {
		case typ == "text":
			t, e := textBlock(blk, bp)
			if e != nil {
				return nil, e
			}
			text.WriteString(t)
			hasText = true
		case typ == "tool_result" && role == "user":
			msg, e := toolResult(blk, bp)
			if e != nil {
				return nil, e
			}
			out = append(out, msg)
		case typ == "tool_use" && role == "assistant":
			call, e := toolUse(blk, bp)
			if e != nil {
				return nil, e
			}
			calls = append(calls, call)
		case typ == "thinking" && role == "assistant":
			t, ok, e := blk.str("thinking")
			if e != nil || !ok {
				return nil, invalid(joinParam(bp, "thinking"), "a thinking block needs a thinking string")
			}
			blk.take("signature") // an Anthropic model's; means nothing here
			if e := blk.rest(bp + "."); e != nil {
				return nil, e
			}
			thinking.WriteString(t)
		case typ == "redacted_thinking" && role == "assistant":
			// Encrypted reasoning of an Anthropic model: nothing a local
			// template can read.
		default:
			return nil, unsupported(joinParam(bp, "type"), "content blocks of type %q are not supported in %s messages: this server runs text models", typ, role)
		}
	}
	if role == "user" {
		if hasText || len(out) == 0 {
			out = append(out, map[string]json.RawMessage{"role": jsonString("user"), "content": jsonString(text.String())})
		}
		return out, nil
	}
	msg := map[string]json.RawMessage{"role": jsonString("assistant"), "content": jsonString(text.String())}
	if len(calls) > 0 {
		msg["tool_calls"], _ = json.Marshal(calls)
	}
	if thinking.Len() > 0 {
		msg["reasoning_content"] = jsonString(thinking.String())
	}
	return []map[string]json.RawMessage{msg}, nil
}

// toolResult is a tool_result block as a tool message.
func toolResult(blk fields, p string) (map[string]json.RawMessage, *Error) {
	id, ok, e := blk.str("tool_use_id")
	if e != nil || !ok || id == "" {
		return nil, invalid(joinParam(p, "tool_use_id"), "a tool_result block needs its tool_use_id")
	}
	var content string
	if raw, ok := blk.take("content"); ok {
		if content, e = anthropicText(raw, joinParam(p, "content")); e != nil {
			return nil, e
		}
	}
	if _, _, e := blk.boolean("is_error"); e != nil {
		e.Param = joinParam(p, "is_error")
		return nil, e
	}
	blk.take("cache_control")
	if e := blk.rest(p + "."); e != nil {
		return nil, e
	}
	return map[string]json.RawMessage{"role": jsonString("tool"), "tool_call_id": jsonString(id), "content": jsonString(content)}, nil
}

// toolUse is a tool_use block as an OpenAI-style tool call.
func toolUse(blk fields, p string) (ToolCall, *Error) {
	id, _, e := blk.str("id")
	if e != nil {
		e.Param = joinParam(p, "id")
		return ToolCall{}, e
	}
	name, ok, e := blk.str("name")
	if e != nil || !ok || name == "" {
		return ToolCall{}, invalid(joinParam(p, "name"), "a tool_use block needs a name")
	}
	input, ok := blk.take("input")
	if !ok || !isObject(input) {
		return ToolCall{}, invalid(joinParam(p, "input"), "a tool_use block's input must be an object")
	}
	blk.take("cache_control")
	if e := blk.rest(p + "."); e != nil {
		return ToolCall{}, e
	}
	args, _ := Marshal(input) // compact, as the tool-call parser writes it
	return functionCall(id, name, string(args)), nil
}

// anthropicTools decodes tools and tool_choice into the chat request's
// form (and the OpenAI-shaped tools array templates take).
func (r *Request) anthropicTools(f fields) *Error {
	if _, e := r.readTools(f, func(t fields, p string) (Tool, *Error) {
		if typ, _, e := t.str("type"); e != nil || (typ != "" && typ != "custom") {
			return Tool{}, unsupported(joinParam(p, "type"), "only custom tools (name, description, input_schema) are supported: server tools run on Anthropic's side")
		}
		tool, e := functionTool(t, p, "input_schema")
		if e != nil {
			return tool, e
		}
		if tool.Parameters == nil {
			return tool, invalid(joinParam(p, "input_schema"), "a tool needs an input_schema object")
		}
		t.take("cache_control")
		return tool, t.rest(p + ".")
	}); e != nil {
		return e
	}
	r.ToolsJSON = functionToolsJSON(r.Tools)
	r.ParallelToolCalls = true
	o, ok, e := f.object("tool_choice")
	if e != nil || !ok {
		return e
	}
	typ, _, e := o.str("type")
	if e != nil {
		e.Param = "tool_choice.type"
		return e
	}
	switch typ {
	case "auto", "none":
		r.ToolChoice.Mode = typ
	case "any":
		r.ToolChoice.Mode = "required"
	case "tool":
		name, _, e := o.str("name")
		if e != nil {
			e.Param = "tool_choice.name"
			return e
		}
		r.ToolChoice = ToolChoice{Mode: "function", Function: name}
	default:
		return invalid("tool_choice.type", `tool_choice type must be "auto", "any", "tool" or "none"`)
	}
	if e := r.checkToolChoice("tool_choice.name"); e != nil {
		return e
	}
	if v, _, e := o.boolean("disable_parallel_tool_use"); e != nil {
		e.Param = "tool_choice.disable_parallel_tool_use"
		return e
	} else if v {
		r.ParallelToolCalls = false
	}
	return o.rest("tool_choice.")
}

// anthropicThinking maps thinking onto the chat templates' switch for
// reasoning models (enable_thinking). The budget is accepted but not a
// hard stop: the model ends its thinking itself (docs/serve.md).
func (r *Request) anthropicThinking(f fields) *Error {
	o, ok, e := f.object("thinking")
	if e != nil || !ok {
		return e
	}
	typ, _, e := o.str("type")
	if e != nil {
		e.Param = "thinking.type"
		return e
	}
	on := false
	switch typ {
	case "enabled":
		if _, ok, e := o.integer("budget_tokens", 1, math.MaxInt32); e != nil || !ok {
			return invalid("thinking.budget_tokens", "thinking enabled needs budget_tokens, a positive integer")
		}
		on = true
	case "adaptive":
		if d, _, e := o.str("display"); e != nil || (d != "" && d != "summarized" && d != "omitted") {
			return invalid("thinking.display", `thinking display must be "summarized" or "omitted"`)
		}
		on = true
	case "disabled":
	default:
		return invalid("thinking.type", `thinking type must be "enabled", "adaptive" or "disabled"`)
	}
	if e := o.rest("thinking."); e != nil {
		return e
	}
	r.setTemplateKwarg("enable_thinking", on)
	return nil
}

// outputConfig decodes output_config: format (a JSON schema the answer
// must follow, by constrained decoding) and effort (passed to templates
// as reasoning_effort, as on the OpenAI endpoint).
func (r *Request) outputConfig(f fields) *Error {
	o, ok, e := f.object("output_config")
	if e != nil || !ok {
		return e
	}
	if effort, ok, e := o.str("effort"); e != nil {
		e.Param = "output_config.effort"
		return e
	} else if ok {
		switch effort {
		case "low", "medium", "high", "xhigh", "max":
			r.setTemplateKwarg("reasoning_effort", effort)
		default:
			return invalid("output_config.effort", `effort must be "low", "medium", "high", "xhigh" or "max"`)
		}
	}
	if fm, ok, e := o.object("format"); e != nil {
		e.Param = "output_config.format"
		return e
	} else if ok {
		if typ, _, e := fm.str("type"); e != nil || typ != "json_schema" {
			return invalid("output_config.format.type", `output_config format type must be "json_schema"`)
		}
		schema, ok := fm.take("schema")
		if !ok || !isObject(schema) {
			return invalid("output_config.format.schema", "output_config format needs a schema object")
		}
		if e := fm.rest("output_config.format."); e != nil {
			return e
		}
		r.Format = ResponseFormat{Type: "json_schema", Schema: schema}
	}
	return o.rest("output_config.")
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}
