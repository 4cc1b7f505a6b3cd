package openai

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// droppedMessageFields are keys clients echo back from earlier answers
// that mean nothing to a local text model: accepted and dropped. Any
// other key message does not read is a 400.
var droppedMessageFields = []string{"refusal", "annotations", "audio"}

// messages validates the conversation and normalizes it for templates.
func (r *Request) messages(f fields) *Error {
	raw, ok := f.take("messages")
	if !ok {
		return Errorf(http.StatusBadRequest, CodeMissingField, "messages", "messages is required")
	}
	var list []fields
	if err := json.Unmarshal(raw, &list); err != nil {
		return invalid("messages", "messages must be an array of message objects")
	}
	return r.messageList(list)
}

// messageList validates and normalizes decoded messages into r.Messages.
func (r *Request) messageList(list []fields) *Error {
	if len(list) == 0 {
		return invalid("messages", "messages must not be empty")
	}
	out := make([]map[string]json.RawMessage, 0, len(list))
	for i, m := range list {
		p := "messages[" + strconv.Itoa(i) + "]"
		if m == nil {
			return invalid(p, "%s must be an object", p)
		}
		msg, e := message(m, p)
		if e != nil {
			return e
		}
		out = append(out, msg)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return invalid("messages", "messages: %v", err)
	}
	r.Messages = b
	return nil
}

func message(m fields, p string) (map[string]json.RawMessage, *Error) {
	role, _, e := m.str("role")
	if e != nil {
		e.Param = joinParam(p, "role")
		return nil, e
	}
	switch role {
	case "developer":
		role = "system" // OpenAI's newer name; templates know "system"
	case "system", "user", "assistant", "tool":
	case "":
		return nil, Errorf(http.StatusBadRequest, CodeMissingField, joinParam(p, "role"), "%s needs a role", p)
	default:
		return nil, invalid(joinParam(p, "role"), `role must be "system", "developer", "user", "assistant" or "tool", got %q`, role)
	}
	out := map[string]json.RawMessage{}
	out["role"], _ = json.Marshal(role)
	content, hasContent := m.take("content")
	if hasContent {
		if e := checkContent(content, joinParam(p, "content")); e != nil {
			return nil, e
		}
		out["content"] = content
	}
	calls, hasCalls := m.take("tool_calls")
	if hasCalls {
		if role != "assistant" {
			return nil, invalid(joinParam(p, "tool_calls"), "only assistant messages carry tool_calls")
		}
		if e := checkToolCalls(calls, joinParam(p, "tool_calls")); e != nil {
			return nil, e
		}
		out["tool_calls"] = calls
	}
	if !hasContent && !(role == "assistant" && hasCalls) {
		return nil, Errorf(http.StatusBadRequest, CodeMissingField, joinParam(p, "content"), "%s needs content", p)
	}
	for _, k := range []string{"name", "tool_call_id", "reasoning_content", "reasoning"} {
		s, ok, e := m.str(k)
		if e != nil {
			e.Param = joinParam(p, k)
			return nil, e
		}
		if ok {
			out[k], _ = json.Marshal(s)
		}
	}
	for _, k := range droppedMessageFields {
		delete(m, k)
	}
	if e := m.rest(p + "."); e != nil {
		return nil, e
	}
	return out, nil
}

// checkContent accepts a string or text parts; other parts (images,
// audio, files) are refused: the server runs text models.
func checkContent(raw json.RawMessage, p string) *Error {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return nil
	}
	var parts []fields
	if err := json.Unmarshal(raw, &parts); err != nil {
		return invalid(p, "content must be a string or an array of content parts")
	}
	for j, part := range parts {
		pp := p + "[" + strconv.Itoa(j) + "]"
		if part == nil {
			return invalid(pp, "%s must be an object", pp)
		}
		typ, _, e := part.str("type")
		if e != nil {
			e.Param = joinParam(pp, "type")
			return e
		}
		if typ != "text" {
			return unsupported(joinParam(pp, "type"), "content parts of type %q are not supported: this server runs text models", typ)
		}
		if _, ok, e := part.str("text"); e != nil || !ok {
			return invalid(joinParam(pp, "text"), "a text part needs a text string")
		}
		if e := part.rest(pp + "."); e != nil {
			return e
		}
	}
	return nil
}

// checkToolCalls checks the assistant's earlier calls: templates read the
// function name and parse the arguments as JSON.
func checkToolCalls(raw json.RawMessage, p string) *Error {
	var calls []struct {
		ID       string          `json:"id"`
		Type     string          `json:"type"`
		Function json.RawMessage `json:"function"`
	}
	if err := json.Unmarshal(raw, &calls); err != nil {
		return invalid(p, "tool_calls must be an array of tool call objects")
	}
	for j, c := range calls {
		pp := p + "[" + strconv.Itoa(j) + "]"
		var fn struct {
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
		}
		if json.Unmarshal(c.Function, &fn) != nil || fn.Name == "" {
			return invalid(joinParam(pp, "function"), "a tool call needs a function with a name")
		}
		var args string
		if json.Unmarshal(fn.Arguments, &args) == nil && args != "" && !json.Valid([]byte(args)) {
			return invalid(joinParam(pp, "function", "arguments"), "tool call arguments must be a JSON string")
		}
	}
	return nil
}
