package openai

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// OpenAI's Responses API (POST /v1/responses), stateless: the whole
// conversation comes in input, as it does for chat completions, and
// decodes into the same Request. instructions become a system message,
// function_call items the assistant's tool_calls, function_call_output
// items tool messages, reasoning items the next assistant message's
// reasoning_content. Nothing is stored, so store, previous_response_id
// and conversation are refused rather than ignored.

// DecodeResponses decodes a /v1/responses body.
func DecodeResponses(body []byte) (*Request, *Error) {
	f, e := parseObject(body)
	if e != nil {
		return nil, e
	}
	r := &Request{Chat: true, N: 1, ParallelToolCalls: true}
	if r.Model, e = f.model(); e != nil {
		return nil, e
	}
	if r.Stream, _, e = f.boolean("stream"); e != nil {
		return nil, e
	}
	if o, ok, e := f.object("stream_options"); e != nil {
		return nil, e
	} else if ok {
		if _, _, e := o.boolean("include_obfuscation"); e != nil { // no obfuscation padding is sent either way
			e.Param = "stream_options.include_obfuscation"
			return nil, e
		}
		if e := o.rest("stream_options."); e != nil {
			return nil, e
		}
	}
	if n, ok, e := f.integer("max_output_tokens", 1, math.MaxInt32); e != nil {
		return nil, e
	} else if ok {
		r.MaxTokens = int(n)
	}
	if e := r.sampling(f, maxTemperature); e != nil {
		return nil, e
	}
	var msgs []map[string]json.RawMessage
	if s, ok, e := f.str("instructions"); e != nil {
		return nil, e
	} else if ok && s != "" {
		msgs = append(msgs, map[string]json.RawMessage{"role": jsonString("system"), "content": jsonString(s)})
	}
	raw, ok := f.take("input")
	if !ok {
		return nil, Errorf(http.StatusBadRequest, CodeMissingField, "input", "input is required")
	}
	conv, e := responseInput(raw)
	if e != nil {
		return nil, e
	}
	if r.Messages, _ = json.Marshal(append(msgs, conv...)); r.Messages == nil {
		return nil, invalid("input", "input cannot be encoded")
	}
	if e := r.responseTools(f); e != nil {
		return nil, e
	}
	if e := r.responseText(f); e != nil {
		return nil, e
	}
	if o, ok, e := f.object("reasoning"); e != nil {
		return nil, e
	} else if ok {
		if effort, ok, e := o.str("effort"); e != nil {
			e.Param = "reasoning.effort"
			return nil, e
		} else if ok {
			r.setTemplateKwarg("reasoning_effort", effort)
		}
		// The summary setting: the server returns the reasoning text itself.
		if _, _, e := o.str("summary"); e != nil {
			e.Param = "reasoning.summary"
			return nil, e
		}
		o.take("generate_summary")
		if e := o.rest("reasoning."); e != nil {
			return nil, e
		}
	}
	if store, _, e := f.boolean("store"); e != nil {
		return nil, e
	} else if store {
		return nil, unsupported("store", "this server keeps no responses: send store false (or leave it out) and the whole conversation in input")
	}
	for _, k := range []string{"previous_response_id", "conversation"} {
		if _, ok := f.take(k); ok {
			return nil, unsupported(k, "%s needs stored responses, which this server does not keep: send the whole conversation in input", k)
		}
	}
	if bg, _, e := f.boolean("background"); e != nil {
		return nil, e
	} else if bg {
		return nil, unsupported("background", "background responses are not supported")
	}
	if t, ok, e := f.str("truncation"); e != nil {
		return nil, e
	} else if ok && t != "disabled" {
		return nil, unsupported("truncation", `truncation must be "disabled": a prompt longer than the context is an error`)
	}
	if raw, ok := f.take("include"); ok && string(raw) != "[]" {
		return nil, unsupported("include", "include is not supported")
	}
	// Informational fields: they change nothing about the answer.
	f.take("metadata")
	for _, k := range []string{"user", "safety_identifier", "prompt_cache_key", "service_tier"} {
		if _, _, e := f.str(k); e != nil {
			return nil, e
		}
	}
	if e := f.rest(""); e != nil {
		return nil, e
	}
	return r, nil
}

// responseInput converts input (a string or items) for chat templates.
func responseInput(raw json.RawMessage) ([]map[string]json.RawMessage, *Error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return nil, invalid("input", "input is empty")
		}
		return []map[string]json.RawMessage{{"role": jsonString("user"), "content": jsonString(s)}}, nil
	}
	var items []fields
	if json.Unmarshal(raw, &items) != nil {
		return nil, invalid("input", "input must be a string or an array of input items")
	}
	if len(items) == 0 {
		return nil, invalid("input", "input is empty")
	}
	var out []map[string]json.RawMessage
	calls := map[int][]ToolCall{} // by message: function_call items in order
	var reasoningText strings.Builder
	// assistant returns the assistant message that function calls join:
	// the last message when it is the assistant's, else a new one.
	assistant := func() map[string]json.RawMessage {
		if n := len(out); n > 0 && string(out[n-1]["role"]) == `"assistant"` {
			return out[n-1]
		}
		m := map[string]json.RawMessage{"role": jsonString("assistant"), "content": jsonString("")}
		out = append(out, m)
		return m
	}
	takeReasoning := func(m map[string]json.RawMessage) {
		if reasoningText.Len() > 0 {
			m["reasoning_content"] = jsonString(reasoningText.String())
			reasoningText.Reset()
		}
	}
	for i, it := range items {
		p := "input[" + strconv.Itoa(i) + "]"
		if it == nil {
			return nil, invalid(p, "%s must be an object", p)
		}
		typ, _, e := it.str("type")
		if e != nil {
			e.Param = joinParam(p, "type")
			return nil, e
		}
		it.take("id")
		it.take("status")
		switch typ {
		case "", "message":
			role, _, e := it.str("role")
			if e != nil {
				e.Param = joinParam(p, "role")
				return nil, e
			}
			switch role {
			case "developer":
				role = "system"
			case "system", "user", "assistant":
			default:
				return nil, invalid(joinParam(p, "role"), `role must be "user", "assistant", "system" or "developer"`)
			}
			c, ok := it.take("content")
			if !ok {
				return nil, Errorf(http.StatusBadRequest, CodeMissingField, joinParam(p, "content"), "%s needs content", p)
			}
			text, e := responseContent(c, joinParam(p, "content"))
			if e != nil {
				return nil, e
			}
			it.take("phase")
			if e := it.rest(p + "."); e != nil {
				return nil, e
			}
			m := map[string]json.RawMessage{"role": jsonString(role), "content": jsonString(text)}
			if role == "assistant" {
				takeReasoning(m)
			}
			out = append(out, m)
		case "function_call":
			callID, ok, e := it.str("call_id")
			if e != nil || !ok || callID == "" {
				return nil, invalid(joinParam(p, "call_id"), "a function_call item needs its call_id")
			}
			name, ok, e := it.str("name")
			if e != nil || !ok || name == "" {
				return nil, invalid(joinParam(p, "name"), "a function_call item needs a name")
			}
			args, _, e := it.str("arguments")
			if e != nil || (args != "" && !json.Valid([]byte(args))) {
				return nil, invalid(joinParam(p, "arguments"), "function_call arguments must be a JSON string")
			}
			it.take("namespace")
			if e := it.rest(p + "."); e != nil {
				return nil, e
			}
			takeReasoning(assistant())
			calls[len(out)-1] = append(calls[len(out)-1], functionCall(callID, name, args))
		case "function_call_output":
			callID, ok, e := it.str("call_id")
			if e != nil || !ok || callID == "" {
				return nil, invalid(joinParam(p, "call_id"), "a function_call_output item needs its call_id")
			}
			c, ok := it.take("output")
			if !ok {
				return nil, Errorf(http.StatusBadRequest, CodeMissingField, joinParam(p, "output"), "%s needs output", p)
			}
			text, e := responseContent(c, joinParam(p, "output"))
			if e != nil {
				return nil, e
			}
			if e := it.rest(p + "."); e != nil {
				return nil, e
			}
			out = append(out, map[string]json.RawMessage{"role": jsonString("tool"), "tool_call_id": jsonString(callID), "content": jsonString(text)})
		case "reasoning":
			// The reasoning text (this server's, or a summary) goes with the
			// assistant turn that follows; encrypted content means nothing
			// to a local template.
			var parts []struct {
				Text string `json:"text"`
			}
			for _, k := range []string{"content", "summary"} {
				if c, ok := it.take(k); ok && reasoningText.Len() == 0 {
					if json.Unmarshal(c, &parts) != nil {
						return nil, invalid(joinParam(p, k), "reasoning %s must be an array of text parts", k)
					}
					for _, part := range parts {
						reasoningText.WriteString(part.Text)
					}
				}
			}
			it.take("encrypted_content")
			if e := it.rest(p + "."); e != nil {
				return nil, e
			}
		default:
			return nil, unsupported(joinParam(p, "type"), "input items of type %q are not supported", typ)
		}
	}
	for i, c := range calls {
		out[i]["tool_calls"], _ = json.Marshal(c)
	}
	return out, nil
}

// responseContent reads a string or text parts (input_text, output_text)
// as one string; other parts (images, files, audio) are refused.
func responseContent(raw json.RawMessage, p string) (string, *Error) {
	return joinedText(raw, p, "content parts", func(part fields, pp string) (string, *Error) {
		typ, _, e := part.str("type")
		if e != nil {
			e.Param = joinParam(pp, "type")
			return "", e
		}
		if typ != "input_text" && typ != "output_text" {
			return "", unsupported(joinParam(pp, "type"), "content parts of type %q are not supported: this server runs text models", typ)
		}
		t, ok, e := part.str("text")
		if e != nil || !ok {
			return "", invalid(joinParam(pp, "text"), "a text part needs a text string")
		}
		if typ == "output_text" {
			part.take("annotations")
			part.take("logprobs")
		}
		return t, part.rest(pp + ".")
	})
}

// responseTools decodes function tools, tool_choice and
// parallel_tool_calls.
func (r *Request) responseTools(f fields) *Error {
	if _, e := r.readTools(f, func(t fields, p string) (Tool, *Error) {
		if typ, _, e := t.str("type"); e != nil || typ != "function" {
			return Tool{}, unsupported(joinParam(p, "type"), `only tools of type "function" are supported`)
		}
		tool, e := functionTool(t, p, "parameters")
		if e != nil {
			return tool, e
		}
		return tool, t.rest(p + ".")
	}); e != nil {
		return e
	}
	r.ToolsJSON = functionToolsJSON(r.Tools)
	if raw, ok := f.take("tool_choice"); ok {
		if e := r.openAIToolChoice(raw, true); e != nil {
			return e
		}
	}
	if v, ok, e := f.boolean("parallel_tool_calls"); e != nil {
		return e
	} else if ok {
		r.ParallelToolCalls = v
	}
	return nil
}

// responseText decodes text.format into the response format constrained
// decoding holds.
func (r *Request) responseText(f fields) *Error {
	r.Format.Type = "text"
	o, ok, e := f.object("text")
	if e != nil || !ok {
		return e
	}
	if v, ok, e := o.str("verbosity"); e != nil {
		e.Param = "text.verbosity"
		return e
	} else if ok && v != "medium" {
		return unsupported("text.verbosity", `verbosity must be "medium": a local model's answers have no verbosity control`)
	}
	fm, ok, e := o.object("format")
	if e != nil {
		e.Param = "text.format"
		return e
	}
	if ok {
		typ, _, e := fm.str("type")
		if e != nil {
			e.Param = "text.format.type"
			return e
		}
		switch typ {
		case "text", "json_object":
			r.Format.Type = typ
		case "json_schema":
			r.Format.Type = typ
			if r.Format.Name, _, e = fm.str("name"); e != nil {
				e.Param = "text.format.name"
				return e
			}
			if r.Format.Schema, ok = fm.take("schema"); !ok || !isObject(r.Format.Schema) {
				return invalid("text.format.schema", "text.format json_schema needs a schema object")
			}
			fm.take("description")
			if _, _, e := fm.boolean("strict"); e != nil {
				e.Param = "text.format.strict"
				return e
			}
		default:
			return invalid("text.format.type", `text.format type must be "text", "json_object" or "json_schema"`)
		}
		if e := fm.rest("text.format."); e != nil {
			return e
		}
	}
	return o.rest("text.")
}
