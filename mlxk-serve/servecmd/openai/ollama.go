package openai

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// ollama's native API (/api/chat, /api/generate, /api/embed) decodes into
// the same Request (and EmbeddingRequest) as the OpenAI routes: messages
// are OpenAI-shaped already but for tool call arguments (objects there,
// JSON text here) and tool results (tool_name there); sampling settings
// come in options. Fields this server cannot honour are 400s, as on the
// other routes; ollama's loader settings (num_ctx, num_gpu, ...) change
// nothing here and are accepted.

// ollamaLoaderOptions are options that tune ollama's runner, not the
// answer: accepted and ignored.
var ollamaLoaderOptions = map[string]bool{"num_ctx": true, "num_batch": true, "num_gpu": true, "main_gpu": true,
	"low_vram": true, "f16_kv": true, "vocab_only": true, "use_mmap": true, "use_mlock": true, "num_thread": true,
	"numa": true, "num_keep": true}

// DecodeOllamaChat decodes an /api/chat body.
func DecodeOllamaChat(body []byte) (*Request, *Error) {
	r, f, e := ollamaCommon(body)
	if e != nil {
		return nil, e
	}
	raw, ok := f.take("messages")
	if !ok {
		return nil, Errorf(http.StatusBadRequest, CodeMissingField, "messages", "messages is required")
	}
	var msgs []fields
	if json.Unmarshal(raw, &msgs) != nil {
		return nil, invalid("messages", "messages must be an array of message objects")
	}
	// ollama's message fields under the OpenAI names the checks below know.
	for i, m := range msgs {
		if m == nil {
			continue // messageList refuses it
		}
		if calls, ok := m["tool_calls"]; ok {
			fixed, e := ollamaToolCalls(calls)
			if e != nil {
				return nil, e
			}
			m["tool_calls"] = fixed
		}
		if name, ok := m["tool_name"]; ok { // ollama names the tool, not the call
			delete(m, "tool_name")
			m["name"] = name
		}
		if th, ok := m["thinking"]; ok {
			delete(m, "thinking")
			m["reasoning_content"] = th
		}
		if imgs, ok := m["images"]; ok && string(imgs) != "null" && string(imgs) != "[]" {
			return nil, unsupported("messages["+strconv.Itoa(i)+"].images", "images are not supported: this server runs text models")
		}
		delete(m, "images")
	}
	if e := r.messageList(msgs); e != nil {
		return nil, e
	}
	if e := r.tools(f); e != nil {
		return nil, e
	}
	if e := f.rest(""); e != nil {
		return nil, e
	}
	return r, nil
}

// DecodeOllamaGenerate decodes an /api/generate body. As ollama does, the
// prompt goes through the chat template as the user's message after the
// system prompt (Chat, with Messages), unless raw asks for it as it is or
// a suffix asks for fill-in-the-middle (Prompt and Suffix).
func DecodeOllamaGenerate(body []byte) (*Request, *Error) {
	r, f, e := ollamaCommon(body)
	if e != nil {
		return nil, e
	}
	if r.Prompt, _, e = f.str("prompt"); e != nil {
		return nil, e
	}
	if r.Suffix, _, e = f.str("suffix"); e != nil {
		return nil, e
	}
	system, _, e := f.str("system")
	if e != nil {
		return nil, e
	}
	raw, _, e := f.boolean("raw")
	if e != nil {
		return nil, e
	}
	for _, k := range []string{"template", "context", "images"} {
		if v, ok := f.take(k); ok && string(v) != "[]" && string(v) != `""` {
			return nil, unsupported(k, "%s is not supported", k)
		}
	}
	if e := f.rest(""); e != nil {
		return nil, e
	}
	r.Chat = !raw && r.Suffix == ""
	if r.Chat {
		var msgs []map[string]string
		if system != "" {
			msgs = append(msgs, map[string]string{"role": "system", "content": system})
		}
		r.Messages, _ = json.Marshal(append(msgs, map[string]string{"role": "user", "content": r.Prompt}))
	}
	return r, nil
}

// ollamaCommon parses an /api/chat or /api/generate body and decodes what
// they share: model, stream (default true, as ollama's), format, think,
// options, keep_alive. The fields left are the route's own.
func ollamaCommon(body []byte) (*Request, fields, *Error) {
	f, e := parseObject(body)
	if e != nil {
		return nil, nil, e
	}
	r := &Request{Chat: true, N: 1, Stream: true, Format: ResponseFormat{Type: "text"}}
	if r.Model, e = f.model(); e != nil {
		return nil, nil, e
	}
	if v, ok, e := f.boolean("stream"); e != nil {
		return nil, nil, e
	} else if ok {
		r.Stream = v
	}
	if raw, ok := f.take("format"); ok {
		var s string
		switch {
		case json.Unmarshal(raw, &s) == nil && s == "json":
			r.Format.Type = "json_object"
		case json.Unmarshal(raw, &s) == nil && s == "":
		case isObject(raw):
			r.Format = ResponseFormat{Type: "json_schema", Schema: raw}
		default:
			return nil, nil, invalid("format", `format must be "json" or a JSON schema`)
		}
	}
	if raw, ok := f.take("think"); ok {
		var on bool
		var level string
		switch {
		case json.Unmarshal(raw, &on) == nil:
			r.setTemplateKwarg("enable_thinking", on)
		case json.Unmarshal(raw, &level) == nil && (level == "low" || level == "medium" || level == "high"):
			r.setTemplateKwarg("enable_thinking", true)
			r.setTemplateKwarg("reasoning_effort", level)
		default:
			return nil, nil, invalid("think", `think must be true, false, "low", "medium" or "high"`)
		}
	}
	if raw, ok := f.take("keep_alive"); ok {
		d, err := ParseKeepAlive(raw)
		if err != nil {
			return nil, nil, invalid("keep_alive", "keep_alive must be a duration or seconds: %v", err)
		}
		r.KeepAlive = &d
	}
	if lp, _, e := f.boolean("logprobs"); e != nil {
		return nil, nil, e
	} else if lp {
		return nil, nil, unsupported("logprobs", "logprobs are served on /v1/chat/completions")
	}
	f.take("top_logprobs")
	opts, ok, e := f.object("options")
	if e != nil {
		return nil, nil, e
	}
	if !ok {
		opts = fields{}
	}
	if e := r.ollamaOptions(opts); e != nil {
		return nil, nil, e
	}
	return r, f, nil
}

// ollamaOptions maps options onto the sampler (names as ollama's).
func (r *Request) ollamaOptions(o fields) *Error {
	// The OpenAI names these share, under ollama's.
	rename := map[string]string{"repeat_penalty": "repetition_penalty"}
	for from, to := range rename {
		if v, ok := o[from]; ok {
			delete(o, from)
			o[to] = v
		}
	}
	if n, ok, e := o.integer("num_predict", -2, math.MaxInt32); e != nil {
		e.Param = "options.num_predict"
		return e
	} else if ok && n > 0 {
		r.MaxTokens = int(n)
	}
	if e := r.takeStops(o, "stop", "options.stop"); e != nil {
		return e
	}
	for k := range ollamaLoaderOptions {
		o.take(k)
	}
	for _, k := range []string{"tfs_z", "typical_p", "mirostat", "mirostat_tau", "mirostat_eta", "penalize_newline", "repeat_last_n"} {
		if _, ok := o.take(k); ok {
			return unsupported("options."+k, "option %s is not supported", k)
		}
	}
	if e := r.sampling(o, maxTemperature); e != nil {
		e.Param = "options." + e.Param
		return e
	}
	return o.rest("options.")
}

// ollamaToolCalls turns ollama's tool calls (arguments as an object, no
// id) into OpenAI's (arguments as JSON text).
func ollamaToolCalls(raw json.RawMessage) (json.RawMessage, *Error) {
	var calls []struct {
		ID       string `json:"id"`
		Function struct {
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
		} `json:"function"`
	}
	if json.Unmarshal(raw, &calls) != nil {
		return nil, invalid("messages.tool_calls", "tool_calls must be an array of calls")
	}
	out := make([]ToolCall, len(calls))
	for i, c := range calls {
		args := string(c.Function.Arguments)
		var s string
		if json.Unmarshal(c.Function.Arguments, &s) == nil {
			args = s // already text
		} else if args == "" || args == "null" {
			args = "{}"
		}
		out[i] = functionCall(c.ID, c.Function.Name, args)
	}
	b, _ := json.Marshal(out)
	return b, nil
}

// DecodeOllamaEmbed decodes an /api/embed body, or the older
// /api/embeddings one (one prompt instead of input).
func DecodeOllamaEmbed(body []byte) (*EmbeddingRequest, *Error) {
	f, e := parseObject(body)
	if e != nil {
		return nil, e
	}
	if p, ok := f.take("prompt"); ok {
		if _, both := f["input"]; both {
			return nil, invalid("prompt", "give input or prompt, not both")
		}
		f["input"] = p
	}
	f.take("truncate") // inputs longer than the context are refused either way
	f.take("keep_alive")
	if o, ok, e := f.object("options"); e != nil {
		return nil, e
	} else if ok {
		for k := range ollamaLoaderOptions {
			o.take(k)
		}
		if e := o.rest("options."); e != nil {
			return nil, e
		}
	}
	return decodeEmbeddings(f)
}

// DecodeOllamaShow decodes an /api/show body: the model's name (model, or
// name as older clients send it).
func DecodeOllamaShow(body []byte) (string, *Error) {
	var req struct {
		Model, Name string
	}
	if json.Unmarshal(body, &req) != nil {
		return "", Errorf(http.StatusBadRequest, CodeInvalidJSON, "", "the request body must be a JSON object")
	}
	if req.Model == "" {
		req.Model = req.Name
	}
	if strings.TrimSpace(req.Model) == "" {
		return "", Errorf(http.StatusBadRequest, CodeMissingField, "model", "model is required")
	}
	return req.Model, nil
}
