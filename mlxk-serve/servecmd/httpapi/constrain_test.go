package httpapi

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/constrain"
	"github.com/mlxk/mlxk/mlxk-serve/servecmd/internal/servetest"
)

func TestResponseFormatSchemaIsEnforced(t *testing.T) {
	// The scripted model wants to write {"a": 1}; the schema only allows
	// the key "b", so constrained decoding turns the key into "b".
	e := newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: `{"a": 1}`}})
	e.addModel("org/Tiny", "llama-q4", servetest.ChatTemplate)
	free := e.do("POST", "/v1/chat/completions", chatBody("org/Tiny", "JSON please", map[string]any{"max_tokens": 50})).json(t)
	if got := get(t, free, "choices", 0, "message", "content"); got != `{"a": 1}` {
		t.Fatalf("unconstrained: %q", got)
	}
	schema := map[string]any{"type": "object", "properties": map[string]any{"b": map[string]any{"type": "integer"}},
		"required": []any{"b"}, "additionalProperties": false}
	body := chatBody("org/Tiny", "JSON please", map[string]any{"max_tokens": 50,
		"response_format": map[string]any{"type": "json_schema", "json_schema": map[string]any{"name": "b", "schema": schema, "strict": true}}})
	v := e.do("POST", "/v1/chat/completions", body).json(t)
	if got := get(t, v, "choices", 0, "message", "content"); got != `{"b": 1}` || get(t, v, "choices", 0, "finish_reason") != "stop" {
		t.Errorf("constrained: %q %v", got, get(t, v, "choices", 0, "finish_reason"))
	}
	// Streamed the same way.
	body["stream"] = true
	if st := collectChat(t, e.do("POST", "/v1/chat/completions", body).body); st.content != `{"b": 1}` {
		t.Errorf("constrained stream: %q", st.content)
	}
	// A schema the server cannot enforce is refused, naming the keyword.
	schema["properties"] = map[string]any{"b": map[string]any{"type": "string", "pattern": "^x"}}
	delete(body, "stream")
	r := e.do("POST", "/v1/chat/completions", body)
	if r.status != 400 || get(t, r.json(t), "error", "param") != "response_format.json_schema.schema" {
		t.Errorf("unsupported schema: %d %s", r.status, r.body)
	}
}

func TestJSONObjectOnRandomModel(t *testing.T) {
	// A random model writes whatever the mask leaves it: the text is
	// always a valid JSON prefix, and valid JSON when it stopped.
	e := newEnv(t, envOptions{})
	e.addModel("org/Tiny", "qwen2-q4", servetest.ChatTemplate)
	for seed := range 4 {
		body := chatBody("org/Tiny", "Give me JSON", map[string]any{"max_tokens": 120, "temperature": 1, "seed": seed,
			"response_format": map[string]any{"type": "json_object"}})
		v := e.do("POST", "/v1/chat/completions", body).json(t)
		text := get(t, v, "choices", 0, "message", "content").(string)
		finish := get(t, v, "choices", 0, "finish_reason")
		s := constrain.JSONObject().Start()
		for i := 0; i < len(text); i++ {
			if !s.Advance(text[i]) {
				t.Fatalf("seed %d: not a JSON prefix at byte %d: %q", seed, i, text)
			}
		}
		if finish == "stop" {
			// json.Valid, not Unmarshal: a number like 9405e545 is valid
			// JSON that a float64 cannot hold.
			if trimmed := strings.TrimSpace(text); !json.Valid([]byte(text)) || !strings.HasPrefix(trimmed, "{") {
				t.Errorf("seed %d: stopped with something that is not a JSON object: %q", seed, text)
			}
		}
	}
}

func TestResponseFormatAfterReasoning(t *testing.T) {
	// The thinking is free text; the answer after </think> is JSON.
	e := newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: "Let me think.</think>\n{\"ok\": true}", Marker: "<think>\n"}})
	e.addModel("org/Thinker", "llama-q4", servetest.ThinkTemplate)
	body := chatBody("org/Thinker", "JSON", map[string]any{"max_tokens": 80, "response_format": map[string]any{"type": "json_object"}})
	v := e.do("POST", "/v1/chat/completions", body).json(t)
	if get(t, v, "choices", 0, "message", "reasoning_content") != "Let me think." || get(t, v, "choices", 0, "message", "content") != "\n{\"ok\": true}" {
		t.Errorf("%v", v)
	}
}

func TestResponseFormatHarmony(t *testing.T) {
	// gpt-oss: the analysis channel is free text, the final channel's
	// message is the JSON; the model's stray text after it is cut off by
	// the grammar, which then allows only the end.
	e := newEnv(t, envOptions{backend: servetest.ScriptBackend{Marker: "<|start|>assistant",
		Reply: `<|channel|>analysis<|message|>Think {not JSON}.<|end|><|channel|>final<|message|>{"ok": true} and more`}})
	e.addModel("org/gpt-oss-tiny", "llama-q4", servetest.HarmonyTemplate)
	body := chatBody("org/gpt-oss-tiny", "JSON", map[string]any{"max_tokens": 120, "response_format": map[string]any{"type": "json_schema",
		"json_schema": map[string]any{"name": "r", "schema": map[string]any{"type": "object", "properties": map[string]any{"ok": map[string]any{"type": "boolean"}}, "required": []string{"ok"}}}}})
	v := e.do("POST", "/v1/chat/completions", body).json(t)
	if get(t, v, "choices", 0, "message", "reasoning_content") != "Think {not JSON}." || get(t, v, "choices", 0, "message", "content") != `{"ok": true}` ||
		get(t, v, "choices", 0, "finish_reason") != "stop" {
		t.Errorf("%v", v)
	}
}
