package httpapi

import (
	"strings"
	"testing"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/internal/servetest"
)

// TestStreamErrorAfterStart: a generation that fails after its stream
// started ends the stream with an error in each API's own form: OpenAI's
// error data event then [DONE], Anthropic's and the Responses API's named
// "error" events, ollama's {"error"} line; the text before it went out.
func TestStreamErrorAfterStart(t *testing.T) {
	e := newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: "Hello world, a long answer.", FailAfter: 4}})
	e.addModel("org/Tiny", "llama-q4", servetest.ChatTemplate)
	msgs := []any{map[string]any{"role": "user", "content": "Hi"}}
	for _, c := range []struct {
		path string
		body map[string]any
		want []string // in order
	}{
		{"/v1/chat/completions", map[string]any{"model": "org/Tiny", "messages": msgs, "stream": true},
			[]string{`"content":"H"`, `data: {"error":{"message":"generation failed: scripted failure"`, "data: [DONE]"}},
		{"/v1/messages", map[string]any{"model": "org/Tiny", "messages": msgs, "stream": true, "max_tokens": 50},
			[]string{`"text":"H"`, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\""}},
		{"/v1/responses", map[string]any{"model": "org/Tiny", "input": "Hi", "stream": true},
			[]string{`"delta":"H"`, "event: error\ndata: {\"type\":\"error\",\"code\":\"internal_error\""}},
		{"/api/chat", map[string]any{"model": "org/Tiny", "messages": msgs},
			[]string{`"content":"H"`, `{"error":"generation failed: scripted failure"}`}},
	} {
		body := string(e.do("POST", c.path, c.body).body)
		at := 0
		for _, w := range c.want {
			i := strings.Index(body[at:], w)
			if i < 0 {
				t.Errorf("%s: no %q after byte %d in\n%s", c.path, w, at, body)
				break
			}
			at += i + len(w)
		}
		if strings.Contains(body, "[DONE]") != (c.path == "/v1/chat/completions") {
			t.Errorf("%s: [DONE] where it does not belong:\n%s", c.path, body)
		}
	}
}
