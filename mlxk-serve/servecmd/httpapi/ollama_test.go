package httpapi

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/internal/servetest"
)

// ndjsonLines decodes a JSON-lines body.
func ndjsonLines(t *testing.T, body []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		out = append(out, v)
	}
	return out
}

// TestOllamaChat: /api/chat answers in ollama's shape, streamed as JSON
// lines by default (the last one done with the counters) or whole with
// stream false; thinking and tool calls (arguments as objects) in the
// message; options drive the sampler; errors are {"error": ...}.
func TestOllamaChat(t *testing.T) {
	e := newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: "Hello world."}})
	e.addModel("org/Tiny", "llama-q4", servetest.ChatTemplate)
	body := map[string]any{"model": "org/Tiny", "messages": []any{map[string]any{"role": "user", "content": "Hi"}},
		"options": map[string]any{"temperature": 0, "num_predict": 50, "num_ctx": 4096}}
	r := e.do("POST", "/api/chat", body)
	if ct := r.header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Fatalf("content type %q: %s", ct, r.body)
	}
	lines := ndjsonLines(t, r.body)
	text := ""
	for _, l := range lines[:len(lines)-1] {
		if l["done"] != false || get(t, l, "message", "role") != "assistant" {
			t.Fatalf("line %v", l)
		}
		text += get(t, l, "message", "content").(string)
	}
	last := lines[len(lines)-1]
	if text != "Hello world." || last["done"] != true || last["done_reason"] != "stop" || last["eval_count"].(float64) < 1 || last["prompt_eval_count"].(float64) < 1 {
		t.Errorf("stream %q, last %v", text, last)
	}
	body["stream"] = false
	body["options"] = map[string]any{"temperature": 0, "num_predict": 3, "stop": []any{"never"}}
	v := e.do("POST", "/api/chat", body).json(t)
	if get(t, v, "message", "content") != "Hel" || v["done"] != true || v["done_reason"] != "length" || v["model"] != "org/Tiny" {
		t.Errorf("whole %v", v)
	}

	think := newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: "Greeting.\n</think>\n\nHello!", Marker: "<think>\n"}})
	think.addModel("org/Thinker", "llama-q4", servetest.ThinkTemplate)
	v = think.do("POST", "/api/chat", map[string]any{"model": "org/Thinker", "stream": false, "think": true,
		"messages": []any{map[string]any{"role": "user", "content": "Hi"}}}).json(t)
	if get(t, v, "message", "thinking") != "Greeting.\n" || get(t, v, "message", "content") != "\n\nHello!" {
		t.Errorf("thinking %v", v)
	}

	tools := newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: `<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>`}})
	tools.addModel("org/Caller", "llama-q4", servetest.ToolTemplate)
	v = tools.do("POST", "/api/chat", map[string]any{"model": "org/Caller", "stream": false, "tools": weatherTool,
		"options": map[string]any{"num_predict": 200},
		"messages": []any{map[string]any{"role": "user", "content": "Weather?"},
			map[string]any{"role": "assistant", "content": "", "tool_calls": []any{map[string]any{"function": map[string]any{"name": "get_weather", "arguments": map[string]any{"city": "Rome"}}}}},
			map[string]any{"role": "tool", "content": "rain", "tool_name": "get_weather"}}}).json(t)
	if get(t, v, "message", "tool_calls", 0, "function", "name") != "get_weather" || get(t, v, "message", "tool_calls", 0, "function", "arguments", "city") != "Paris" {
		t.Errorf("tool call %v", v)
	}

	for _, c := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"model": "nobody/nothing", "messages": []any{map[string]any{"role": "user", "content": "Hi"}}}, "No model"},
		{map[string]any{"model": "org/Tiny"}, "messages"},
		{map[string]any{"model": "org/Tiny", "messages": []any{map[string]any{"role": "user", "content": "Hi"}}, "options": map[string]any{"mirostat": 2}}, "mirostat"},
	} {
		r := e.do("POST", "/api/chat", c.body)
		v := r.json(t)
		if r.status < 400 || !strings.Contains(v["error"].(string), c.want) || len(v) != 1 {
			t.Errorf("%v: %d %s", c.body, r.status, r.body)
		}
	}
}

// TestOllamaGenerateAndModels: /api/generate through the template (system
// and prompt) or raw, /api/embed, /api/tags, /api/show and /api/version.
func TestOllamaGenerateAndModels(t *testing.T) {
	e := newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: "Hello world."}})
	e.addModel("org/Tiny", "llama-q4", servetest.ChatTemplate)
	v := e.do("POST", "/api/generate", map[string]any{"model": "org/Tiny", "prompt": "Hi", "system": "Be brief.", "stream": false}).json(t)
	if v["response"] != "Hello world." || v["done"] != true {
		t.Errorf("generate %v", v)
	}
	// The template wrapped system and prompt: 1 + len of the rendered text.
	if got, want := v["prompt_eval_count"], float64(len("<|system|>Be brief.\n<|user|>Hi\n<|assistant|>")); got != want {
		t.Errorf("prompt tokens %v, want %v", got, want)
	}
	lines := ndjsonLines(t, e.do("POST", "/api/generate", map[string]any{"model": "org/Tiny", "prompt": "Say:<|assistant|>", "raw": true}).body)
	text := ""
	for _, l := range lines {
		text += l["response"].(string)
	}
	if text != "Hello world." || lines[len(lines)-1]["done"] != true {
		t.Errorf("raw stream %q", text)
	}
	if v := e.do("POST", "/api/generate", map[string]any{"model": "org/Tiny"}).json(t); v["done_reason"] != "load" {
		t.Errorf("empty prompt %v", v)
	}

	emb := newEnv(t, envOptions{})
	emb.addModel("org/Tiny", "llama-q4", servetest.ChatTemplate)
	v = emb.do("POST", "/api/embed", map[string]any{"model": "org/Tiny", "input": []any{"Noah", "Rain"}, "truncate": true}).json(t)
	if vs := v["embeddings"].([]any); len(vs) != 2 || len(vs[0].([]any)) < 8 || v["prompt_eval_count"] != float64(8) {
		t.Errorf("embed %v", v)
	}

	v = e.do("GET", "/api/tags", nil).json(t)
	m := get(t, v, "models", 0).(map[string]any)
	if m["name"] != "org/Tiny" || m["model"] != "org/Tiny" || get(t, m, "details", "family") != "llama" || get(t, m, "details", "quantization_level") != "4bit" {
		t.Errorf("tags %v", v)
	}
	v = e.do("POST", "/api/show", map[string]any{"model": "Tiny"}).json(t)
	if caps := v["capabilities"].([]any); len(caps) != 1 || caps[0] != "completion" || !strings.Contains(v["template"].(string), "add_generation_prompt") ||
		get(t, v, "model_info", "general.architecture") != "llama" {
		t.Errorf("show %v", v)
	}
	e.addModel("org/Caller", "llama-q4", servetest.ToolTemplate)
	e.addModel("org/Thinker", "llama-q4", servetest.ThinkTemplate)
	for name, want := range map[string]string{"org/Caller": "completion,tools", "org/Thinker": "completion,thinking"} {
		v = e.do("POST", "/api/show", map[string]any{"name": name}).json(t)
		var caps []string
		for _, c := range v["capabilities"].([]any) {
			caps = append(caps, c.(string))
		}
		if strings.Join(caps, ",") != want {
			t.Errorf("show %s: capabilities %v, want %s", name, caps, want)
		}
	}
	if r := e.do("POST", "/api/show", map[string]any{"model": "nobody/nothing"}); r.status != 404 || r.json(t)["error"] == nil {
		t.Errorf("show unknown: %d %s", r.status, r.body)
	}
	if v := e.do("GET", "/api/version", nil).json(t); v["version"] != "test" {
		t.Errorf("version %v", v)
	}
}
