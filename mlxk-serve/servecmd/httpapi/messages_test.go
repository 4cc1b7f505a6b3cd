package httpapi

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/internal/servetest"
)

// anthropicEvent is one event of an Anthropic stream: its event name and
// decoded data.
type anthropicEvent struct {
	name string
	data map[string]any
}

// anthropicEvents splits an Anthropic SSE body; every event must carry a
// name equal to its data's type, and no [DONE] may follow.
func anthropicEvents(t *testing.T, body []byte) []anthropicEvent {
	t.Helper()
	var out []anthropicEvent
	for _, chunk := range strings.Split(strings.TrimSpace(string(body)), "\n\n") {
		if strings.HasPrefix(chunk, ":") {
			continue // keep-alive comment
		}
		name, data, ok := strings.Cut(chunk, "\n")
		name, okN := strings.CutPrefix(name, "event: ")
		data, okD := strings.CutPrefix(data, "data: ")
		if !ok || !okN || !okD {
			t.Fatalf("malformed event %q in %s", chunk, body)
		}
		var d map[string]any
		if err := json.Unmarshal([]byte(data), &d); err != nil {
			t.Fatalf("%v: %s", err, data)
		}
		if d["type"] != name {
			t.Fatalf("event %q carries type %v", name, d["type"])
		}
		out = append(out, anthropicEvent{name, d})
	}
	return out
}

// streamedMessage rebuilds the blocks of a stream the way Anthropic's SDK
// does, checking the event order on the way.
type streamedMessage struct {
	blocks     []map[string]any
	stopReason string
	stopSeq    any
	usage      map[string]any
}

func collectMessage(t *testing.T, body []byte) streamedMessage {
	t.Helper()
	evs := anthropicEvents(t, body)
	if len(evs) < 3 || evs[0].name != "message_start" || evs[len(evs)-1].name != "message_stop" || evs[len(evs)-2].name != "message_delta" {
		t.Fatalf("event order: %s", body)
	}
	var m streamedMessage
	open := -1
	for _, ev := range evs[1 : len(evs)-2] {
		idx := int(ev.data["index"].(float64))
		switch ev.name {
		case "content_block_start":
			if open != -1 || idx != len(m.blocks) {
				t.Fatalf("block %d starts while %d is open: %s", idx, open, body)
			}
			open = idx
			m.blocks = append(m.blocks, ev.data["content_block"].(map[string]any))
		case "content_block_delta":
			if idx != open {
				t.Fatalf("delta for block %d while %d is open", idx, open)
			}
			b, d := m.blocks[idx], ev.data["delta"].(map[string]any)
			switch d["type"] {
			case "text_delta":
				b["text"] = b["text"].(string) + d["text"].(string)
			case "thinking_delta":
				b["thinking"] = b["thinking"].(string) + d["thinking"].(string)
			case "input_json_delta":
				b["partial_json"] = d["partial_json"]
			default:
				t.Fatalf("delta %v", d)
			}
		case "content_block_stop":
			if idx != open {
				t.Fatalf("stop for block %d while %d is open", idx, open)
			}
			open = -1
		default:
			t.Fatalf("unexpected event %q", ev.name)
		}
	}
	if open != -1 {
		t.Fatalf("block %d never stopped", open)
	}
	d := evs[len(evs)-2].data
	m.stopReason = get(t, d, "delta", "stop_reason").(string)
	m.stopSeq = get(t, d, "delta", "stop_sequence")
	m.usage = d["usage"].(map[string]any)
	return m
}

func messagesBody(model string, extra map[string]any) map[string]any {
	b := map[string]any{"model": model, "max_tokens": 50, "temperature": 0,
		"messages": []any{map[string]any{"role": "user", "content": "Hi"}}}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

// TestMessagesText: a text answer, whole and streamed, with Anthropic's
// stop reasons for the end token, a stop sequence and max_tokens.
func TestMessagesText(t *testing.T) {
	e := newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: "Hello world."}})
	e.addModel("org/Tiny", "llama-q4", servetest.ChatTemplate)
	for _, c := range []struct {
		extra        map[string]any
		text, reason string
		seq          any
	}{
		{nil, "Hello world.", "end_turn", nil},
		{map[string]any{"stop_sequences": []any{"world"}}, "Hello ", "stop_sequence", "world"},
		{map[string]any{"max_tokens": 3}, "Hel", "max_tokens", nil},
	} {
		r := e.do("POST", "/v1/messages", messagesBody("org/Tiny", c.extra), "anthropic-version", "2023-06-01")
		v := r.json(t)
		if r.status != 200 || v["type"] != "message" || v["role"] != "assistant" || v["model"] != "org/Tiny" ||
			!strings.HasPrefix(v["id"].(string), "msg_") {
			t.Fatalf("%v: %d %s", c.extra, r.status, r.body)
		}
		blocks := v["content"].([]any)
		if len(blocks) != 1 || get(t, blocks[0], "type") != "text" || get(t, blocks[0], "text") != c.text {
			t.Errorf("%v: content %v", c.extra, blocks)
		}
		if v["stop_reason"] != c.reason || v["stop_sequence"] != c.seq {
			t.Errorf("%v: stop %v %v", c.extra, v["stop_reason"], v["stop_sequence"])
		}
		if get(t, v, "usage", "input_tokens").(float64) < 1 || get(t, v, "usage", "output_tokens").(float64) < 1 {
			t.Errorf("usage %v", v["usage"])
		}

		body := messagesBody("org/Tiny", c.extra)
		body["stream"] = true
		r = e.do("POST", "/v1/messages", body)
		if ct := r.header.Get("Content-Type"); ct != "text/event-stream" {
			t.Fatalf("stream content type %q", ct)
		}
		m := collectMessage(t, r.body)
		if len(m.blocks) != 1 || m.blocks[0]["type"] != "text" || m.blocks[0]["text"] != c.text ||
			m.stopReason != c.reason || m.stopSeq != c.seq || m.usage["output_tokens"].(float64) < 1 {
			t.Errorf("%v: stream %+v", c.extra, m)
		}
	}
}

// TestMessagesPrompt: the system prompt, content blocks, tool uses and
// tool results reach the template as system, user, assistant and tool
// messages; count_tokens counts that prompt (one token per byte here).
func TestMessagesPrompt(t *testing.T) {
	e := newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: "ok"}})
	e.addModel("org/Caller", "llama-q4", servetest.ToolTemplate)
	count := func(body map[string]any) int {
		t.Helper()
		r := e.do("POST", "/v1/messages/count_tokens", body)
		if r.status != 200 {
			t.Fatalf("count_tokens: %d %s", r.status, r.body)
		}
		return int(get(t, r.json(t), "input_tokens").(float64))
	}
	plain := map[string]any{"model": "org/Caller", "system": []any{map[string]any{"type": "text", "text": "Be brief."}},
		"messages": []any{map[string]any{"role": "user", "content": []any{
			map[string]any{"type": "text", "text": "Hi "}, map[string]any{"type": "text", "text": "there", "cache_control": map[string]any{"type": "ephemeral"}}}}}}
	if got, want := count(plain), len("<|system|>Be brief.\n<|user|>Hi there\n<|assistant|>"); got != want {
		t.Errorf("system and text blocks: %d tokens, want %d", got, want)
	}
	turns := map[string]any{"model": "org/Caller", "messages": []any{
		map[string]any{"role": "user", "content": "Weather?"},
		map[string]any{"role": "assistant", "content": []any{
			map[string]any{"type": "text", "text": "Checking."},
			map[string]any{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": map[string]any{"city": "Paris"}}}},
		map[string]any{"role": "user", "content": []any{
			map[string]any{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}}},
	}}
	if got, want := count(turns), len("<|user|>Weather?\n<|assistant|>Checking.\n<|tool|>sunny\n<|assistant|>"); got != want {
		t.Errorf("tool turns: %d tokens, want %d", got, want)
	}
	// The same conversation answers; its prompt tokens are the count.
	turns["max_tokens"] = 10
	v := e.do("POST", "/v1/messages", turns).json(t)
	if in := get(t, v, "usage", "input_tokens").(float64) + get(t, v, "usage", "cache_read_input_tokens").(float64); int(in) != count(map[string]any{"model": "org/Caller", "messages": turns["messages"]}) {
		t.Errorf("usage %v", v)
	}
}

// TestMessagesThinking: reasoning comes back as a thinking block before
// the text, whole and streamed.
func TestMessagesThinking(t *testing.T) {
	e := newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: "The user greets me.\n</think>\n\nHello, friend!", Marker: "<think>\n"}})
	e.addModel("org/Thinker", "llama-q4", servetest.ThinkTemplate)
	body := messagesBody("org/Thinker", map[string]any{"max_tokens": 100, "thinking": map[string]any{"type": "enabled", "budget_tokens": 1024}})
	v := e.do("POST", "/v1/messages", body).json(t)
	blocks := get(t, v, "content").([]any)
	if len(blocks) != 2 || get(t, blocks[0], "type") != "thinking" || get(t, blocks[0], "thinking") != "The user greets me.\n" ||
		get(t, blocks[0], "signature") != "" || get(t, blocks[1], "type") != "text" || get(t, blocks[1], "text") != "\n\nHello, friend!" {
		t.Errorf("blocks %v", blocks)
	}
	body["stream"] = true
	m := collectMessage(t, e.do("POST", "/v1/messages", body).body)
	if len(m.blocks) != 2 || m.blocks[0]["thinking"] != "The user greets me.\n" || m.blocks[1]["text"] != "\n\nHello, friend!" || m.stopReason != "end_turn" {
		t.Errorf("stream %+v", m)
	}
}

var anthropicWeather = []any{map[string]any{"name": "get_weather", "description": "Weather in a city",
	"input_schema": map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}}}}

// TestMessagesToolUse: calls come back as tool_use blocks with their input
// objects and stop reason tool_use, whole and streamed (input_json_delta);
// disable_parallel_tool_use keeps the first; a model without tools, server
// tools and unknown tool_choice names are typed 400s.
func TestMessagesToolUse(t *testing.T) {
	reply := `Let me check.<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call><tool_call>{"name": "get_weather", "arguments": {"city": "Rome"}}</tool_call>`
	e := newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: reply}})
	e.addModel("org/Caller", "llama-q4", servetest.ToolTemplate)
	e.addModel("org/Plain", "llama-q4", servetest.ChatTemplate)

	body := messagesBody("org/Caller", map[string]any{"max_tokens": 200, "tools": anthropicWeather})
	v := e.do("POST", "/v1/messages", body).json(t)
	blocks := get(t, v, "content").([]any)
	if get(t, v, "stop_reason") != "tool_use" || len(blocks) != 3 || get(t, blocks[0], "text") != "Let me check." {
		t.Fatalf("answer %v", v)
	}
	for i, city := range []string{"Paris", "Rome"} {
		b := blocks[i+1]
		if get(t, b, "type") != "tool_use" || get(t, b, "name") != "get_weather" || get(t, b, "input", "city") != city ||
			!strings.HasPrefix(get(t, b, "id").(string), "toolu_") {
			t.Errorf("tool_use %d: %v", i, b)
		}
	}

	body["stream"] = true
	m := collectMessage(t, e.do("POST", "/v1/messages", body).body)
	if m.stopReason != "tool_use" || len(m.blocks) != 3 || m.blocks[0]["text"] != "Let me check." {
		t.Fatalf("stream %+v", m)
	}
	for i, city := range []string{"Paris", "Rome"} {
		b := m.blocks[i+1]
		if b["type"] != "tool_use" || b["name"] != "get_weather" || b["partial_json"] != `{"city":"`+city+`"}` {
			t.Errorf("stream tool_use %d: %v", i, b)
		}
	}

	delete(body, "stream")
	body["tool_choice"] = map[string]any{"type": "auto", "disable_parallel_tool_use": true}
	if blocks := get(t, e.do("POST", "/v1/messages", body).json(t), "content").([]any); len(blocks) != 2 {
		t.Errorf("disable_parallel_tool_use: %v", blocks)
	}

	for _, c := range []struct {
		body  map[string]any
		param string
	}{
		{messagesBody("org/Plain", map[string]any{"tools": anthropicWeather}), "tools"},
		{messagesBody("org/Caller", map[string]any{"tools": []any{map[string]any{"type": "web_search_20250305", "name": "web_search"}}}), "tools[0].type"},
		{messagesBody("org/Caller", map[string]any{"tools": anthropicWeather, "tool_choice": map[string]any{"type": "tool", "name": "nope"}}), "tool_choice.name"},
	} {
		r := e.do("POST", "/v1/messages", c.body)
		if r.status != 400 || get(t, r.json(t), "error", "param") != c.param {
			t.Errorf("%v: %d %s", c.body, r.status, r.body)
		}
	}
}

// TestMessagesErrors: errors on /v1/messages take Anthropic's shape
// ({"type":"error","error":{"type":...}}) with the request id, for bad
// requests, unknown models and a missing API key (x-api-key works as a
// key); the OpenAI routes keep OpenAI's shape.
func TestMessagesErrors(t *testing.T) {
	e := newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: "Hello."},
		server: func(c *Config) { c.APIKeys = []string{"sekret"} }})
	e.addModel("org/Tiny", "llama-q4", servetest.ChatTemplate)
	key := []string{"x-api-key", "sekret"}
	for _, c := range []struct {
		body       any
		status     int
		typ, param string
	}{
		{map[string]any{"model": "org/Tiny", "messages": []any{map[string]any{"role": "user", "content": "Hi"}}}, 400, "invalid_request_error", "max_tokens"},
		{messagesBody("nobody/nothing", nil), 404, "not_found_error", ""},
		{messagesBody("org/Tiny", map[string]any{"messages": []any{map[string]any{"role": "user", "content": []any{
			map[string]any{"type": "image", "source": map[string]any{"type": "base64", "media_type": "image/png", "data": "AAAA"}}}}}}),
			400, "invalid_request_error", "messages[0].content[0].type"},
		{messagesBody("org/Tiny", map[string]any{"temperature": 1.5}), 400, "invalid_request_error", "temperature"},
		{messagesBody("org/Tiny", map[string]any{"mcp_servers": []any{}}), 400, "invalid_request_error", "mcp_servers"},
		{`{"model":`, 400, "invalid_request_error", ""},
	} {
		r := e.do("POST", "/v1/messages", c.body, key...)
		v := r.json(t)
		if r.status != c.status || get(t, v, "type") != "error" || get(t, v, "error", "type") != c.typ ||
			!strings.HasPrefix(get(t, v, "request_id").(string), "req_") {
			t.Errorf("%v: %d %s", c.body, r.status, r.body)
		}
		if c.param != "" && get(t, v, "error", "param") != c.param {
			t.Errorf("%v: param %v", c.body, get(t, v, "error", "param"))
		}
	}
	r := e.do("POST", "/v1/messages", messagesBody("org/Tiny", nil))
	if r.status != 401 || get(t, r.json(t), "error", "type") != "authentication_error" {
		t.Errorf("no key: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/v1/messages", messagesBody("org/Tiny", nil), key...); r.status != 200 {
		t.Errorf("x-api-key: %d %s", r.status, r.body)
	}
	r = e.do("POST", "/v1/chat/completions", chatBody("org/Tiny", "Hi", nil), "x-api-key", "wrong")
	if r.status != 401 || get(t, r.json(t), "error", "code") != "invalid_api_key" {
		t.Errorf("OpenAI route: %d %s", r.status, r.body)
	}
}

// TestAnthropicModels: with an anthropic-version header (which Anthropic's
// clients send) /v1/models answers in Anthropic's shape, and its errors
// too; without it, OpenAI's.
func TestAnthropicModels(t *testing.T) {
	e := newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: "x"}})
	e.addModel("org/Tiny", "llama-q4", servetest.ChatTemplate)
	v := e.do("GET", "/v1/models", nil, "anthropic-version", "2023-06-01").json(t)
	data := v["data"].([]any)
	if len(data) != 1 || get(t, data[0], "type") != "model" || get(t, data[0], "id") != "org/Tiny" ||
		get(t, data[0], "display_name") != "org/Tiny" || v["has_more"] != false || v["first_id"] != "org/Tiny" || v["last_id"] != "org/Tiny" {
		t.Errorf("list %v", v)
	}
	if _, err := time.Parse(time.RFC3339, get(t, data[0], "created_at").(string)); err != nil {
		t.Errorf("created_at: %v", err)
	}
	v = e.do("GET", "/v1/models/org/Tiny", nil, "anthropic-version", "2023-06-01").json(t)
	if v["type"] != "model" || v["id"] != "org/Tiny" {
		t.Errorf("get %v", v)
	}
	r := e.do("GET", "/v1/models/org/None", nil, "anthropic-version", "2023-06-01")
	if r.status != 404 || get(t, r.json(t), "error", "type") != "not_found_error" {
		t.Errorf("missing: %d %s", r.status, r.body)
	}
	if v := e.do("GET", "/v1/models", nil).json(t); v["object"] != "list" || get(t, v, "data", 0, "object") != "model" {
		t.Errorf("OpenAI list %v", v)
	}
}
