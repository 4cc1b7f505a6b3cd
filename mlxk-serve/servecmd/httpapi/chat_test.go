package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/internal/servetest"
)

func TestChatWholeAndStreamAgree(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.addModel("mlx-community/Tiny-4bit", "llama-q4", servetest.ChatTemplate)

	whole := e.do("POST", "/v1/chat/completions", chatBody("Tiny-4bit", "Hello there", nil))
	if whole.status != 200 {
		t.Fatalf("status %d: %s", whole.status, whole.body)
	}
	if whole.header.Get("X-Request-ID") == "" {
		t.Error("no X-Request-ID")
	}
	v := whole.json(t)
	if get(t, v, "object") != "chat.completion" || get(t, v, "model") != "mlx-community/Tiny-4bit" {
		t.Errorf("object/model: %s", whole.body)
	}
	if !strings.HasPrefix(get(t, v, "id").(string), "chatcmpl-") {
		t.Errorf("id %v", get(t, v, "id"))
	}
	content := get(t, v, "choices", 0, "message", "content").(string)
	if get(t, v, "choices", 0, "message", "role") != "assistant" {
		t.Errorf("role: %s", whole.body)
	}
	usage := get(t, v, "usage").(map[string]any)
	if usage["completion_tokens"].(float64) < 1 || usage["total_tokens"].(float64) != usage["prompt_tokens"].(float64)+usage["completion_tokens"].(float64) {
		t.Errorf("usage %v", usage)
	}
	finish := get(t, v, "choices", 0, "finish_reason").(string)

	// The same request streamed gives the same text (greedy decoding).
	st := e.do("POST", "/v1/chat/completions", chatBody("Tiny-4bit", "Hello there",
		map[string]any{"stream": true, "stream_options": map[string]any{"include_usage": true}}))
	if st.status != 200 || !strings.HasPrefix(st.header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream status %d %s: %s", st.status, st.header.Get("Content-Type"), st.body)
	}
	evs := events(t, st.body)
	if evs[len(evs)-1] != "[DONE]" {
		t.Fatalf("stream does not end with [DONE]: %q", evs[len(evs)-1])
	}
	var text strings.Builder
	var gotFinish string
	var streamUsage map[string]any
	for i, ev := range evs[:len(evs)-1] {
		var c map[string]any
		if err := json.Unmarshal([]byte(ev), &c); err != nil {
			t.Fatalf("event %d: %v: %s", i, err, ev)
		}
		if c["object"] != "chat.completion.chunk" {
			t.Errorf("event %d object %v", i, c["object"])
		}
		choices := c["choices"].([]any)
		if len(choices) == 0 {
			streamUsage = c["usage"].(map[string]any)
			continue
		}
		delta := get(t, choices[0], "delta").(map[string]any)
		if i == 0 && delta["role"] != "assistant" {
			t.Errorf("first chunk has no role: %s", ev)
		}
		if s, ok := delta["content"].(string); ok {
			text.WriteString(s)
		}
		if f, ok := get(t, choices[0], "finish_reason").(string); ok {
			gotFinish = f
		}
	}
	if text.String() != content {
		t.Errorf("streamed %q, whole %q", text.String(), content)
	}
	if gotFinish != finish {
		t.Errorf("finish: streamed %q, whole %q", gotFinish, finish)
	}
	if streamUsage == nil || streamUsage["completion_tokens"] != usage["completion_tokens"] {
		t.Errorf("stream usage %v, whole %v", streamUsage, usage)
	}
}

func TestErrors(t *testing.T) {
	e := newEnv(t, envOptions{server: func(c *Config) { c.MaxBody = 4096 }})
	e.addModel("mlx-community/Tiny-4bit", "llama-q4", servetest.ChatTemplate)
	cases := []struct {
		name   string
		body   any
		status int
		code   string
		param  string
	}{
		{"malformed", `{"model": "Tiny-4bit", "messages": [`, 400, "invalid_json", ""},
		{"not an object", `[1,2]`, 400, "invalid_json", ""},
		{"no model", map[string]any{"messages": []any{}}, 400, "missing_field", "model"},
		{"unknown model", chatBody("nobody/nothing", "hi", nil), 404, "model_not_found", "model"},
		{"unsupported field", chatBody("Tiny-4bit", "hi", map[string]any{"frobnicate": 1}), 400, "unsupported_field", "frobnicate"},
		{"n too large", chatBody("Tiny-4bit", "hi", map[string]any{"n": 17}), 400, "invalid_value", "n"},
		{"logit_bias outside the vocabulary", chatBody("Tiny-4bit", "hi", map[string]any{"logit_bias": map[string]any{"2000000000": 1}}), 400, "invalid_value", "logit_bias"},
		{"bad temperature", chatBody("Tiny-4bit", "hi", map[string]any{"temperature": -1}), 400, "invalid_value", "temperature"},
		{"image part", map[string]any{"model": "Tiny-4bit", "messages": []any{map[string]any{"role": "user",
			"content": []any{map[string]any{"type": "image_url", "image_url": map[string]any{"url": "data:,"}}}}}},
			400, "unsupported_value", "messages[0].content[0].type"},
		{"json_schema", chatBody("Tiny-4bit", "hi", map[string]any{"response_format": map[string]any{"type": "json_schema",
			"json_schema": map[string]any{"name": "d", "schema": map[string]any{"type": "string", "format": "date"}}}}),
			400, "unsupported_value", "response_format.json_schema.schema"},
		{"tools without template support", chatBody("Tiny-4bit", "hi", map[string]any{"tools": []any{map[string]any{
			"type": "function", "function": map[string]any{"name": "f"}}}}), 400, "unsupported_value", "tools"},
		{"too large", chatBody("Tiny-4bit", strings.Repeat("x", 5000), nil), 413, "request_too_large", ""},
		{"context exceeded", chatBody("Tiny-4bit", strings.Repeat("x", 3000), nil), 400, "context_length_exceeded", "messages"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/v1/chat/completions", c.body)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
			}
			v := r.json(t)
			if got := get(t, v, "error", "code"); got != c.code {
				t.Errorf("code %v, want %s: %s", got, c.code, r.body)
			}
			param, _ := get(t, v, "error", "param").(string)
			if param != c.param {
				t.Errorf("param %q, want %q", param, c.param)
			}
			if get(t, v, "error", "request_id") != r.header.Get("X-Request-ID") {
				t.Errorf("request_id %v, header %q", get(t, v, "error", "request_id"), r.header.Get("X-Request-ID"))
			}
			if get(t, v, "error", "message") == "" {
				t.Error("empty message")
			}
		})
	}
	if r := e.do("GET", "/v1/nothing", nil); r.status != http.StatusNotFound {
		t.Errorf("unknown route: %d", r.status)
	}
	if r := e.do("PUT", "/v1/chat/completions", "{}"); r.status != http.StatusMethodNotAllowed {
		t.Errorf("wrong method: %d %s", r.status, r.body)
	}
}
