package openai

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestDecodeOllama: ollama's bodies map onto the shared Request: options
// onto the sampler and limits, streams by default, format and think, tool
// calls with object arguments; what cannot be honoured is a 400 naming
// the field.
func TestDecodeOllama(t *testing.T) {
	r, e := DecodeOllamaChat([]byte(`{"model":"m","messages":[{"role":"user","content":"Hi"},
		{"role":"assistant","content":"","thinking":"hm","tool_calls":[{"function":{"name":"f","arguments":{"a":1}}}]},
		{"role":"tool","content":"ok","tool_name":"f"}],
		"format":"json","think":"high","keep_alive":"10m",
		"options":{"temperature":0.5,"top_k":7,"repeat_penalty":1.2,"num_predict":9,"stop":["x",""],"num_ctx":4096,"seed":3}}`))
	if e != nil {
		t.Fatal(e)
	}
	if !r.Stream || !r.Chat || r.MaxTokens != 9 || r.Params.Temperature != 0.5 || r.Params.TopK != 7 || r.Params.RepetitionPenalty != 1.2 ||
		strings.Join(r.Stop, ",") != "x" || r.Format.Type != "json_object" || r.KeepAlive == nil || r.KeepAlive.Minutes() != 10 ||
		string(r.TemplateKwargs["reasoning_effort"]) != `"high"` || string(r.TemplateKwargs["enable_thinking"]) != "true" {
		t.Errorf("chat %+v", r)
	}
	var msgs []map[string]any
	if err := json.Unmarshal(r.Messages, &msgs); err != nil {
		t.Fatal(err)
	}
	call := msgs[1]["tool_calls"].([]any)[0].(map[string]any)["function"].(map[string]any)
	if call["arguments"] != `{"a":1}` || msgs[2]["name"] != "f" || msgs[1]["reasoning_content"] != "hm" {
		t.Errorf("messages %s", r.Messages)
	}

	g, e := DecodeOllamaGenerate([]byte(`{"model":"m","prompt":"p","system":"s","raw":true,"stream":false,"format":{"type":"object"}}`))
	if e != nil || g.Chat || g.Messages != nil || g.Prompt != "p" || g.Stream || g.Format.Type != "json_schema" {
		t.Errorf("generate raw %+v %v", g, e)
	}
	g, e = DecodeOllamaGenerate([]byte(`{"model":"m","prompt":"p","system":"s"}`))
	if e != nil || !g.Chat || string(g.Messages) != `[{"content":"s","role":"system"},{"content":"p","role":"user"}]` {
		t.Errorf("generate %+v %v", g, e)
	}
	if g, e = DecodeOllamaGenerate([]byte(`{"model":"m","prompt":"p","suffix":"s"}`)); e != nil || g.Chat || g.Suffix != "s" {
		t.Errorf("generate fim %+v %v", g, e)
	}
	emb, e := DecodeOllamaEmbed([]byte(`{"model":"m","prompt":"one","keep_alive":0,"options":{"num_thread":2}}`))
	if e != nil || len(emb.Texts) != 1 || emb.Texts[0] != "one" {
		t.Errorf("embeddings %+v %v", emb, e)
	}
	if name, e := DecodeOllamaShow([]byte(`{"name":"old"}`)); e != nil || name != "old" {
		t.Errorf("show %q %v", name, e)
	}

	for _, c := range []struct{ body, param string }{
		{`{"messages":[{"role":"user","content":"Hi"}]}`, "model"},
		{`{"model":"m"}`, "messages"},
		{`{"model":"m","messages":[{"role":"user","content":"Hi","images":["aGk="]}]}`, "messages[0].images"},
		{`{"model":"m","messages":[{"role":"user","content":"Hi"}],"options":{"mirostat":2}}`, "options.mirostat"},
		{`{"model":"m","messages":[{"role":"user","content":"Hi"}],"options":{"temperature":-1}}`, "options.temperature"},
		{`{"model":"m","messages":[{"role":"user","content":"Hi"}],"options":{"frobnicate":1}}`, "options.frobnicate"},
		{`{"model":"m","messages":[{"role":"user","content":"Hi"}],"think":"max"}`, "think"},
		{`{"model":"m","messages":[{"role":"user","content":"Hi"}],"format":"xml"}`, "format"},
	} {
		if _, e := DecodeOllamaChat([]byte(c.body)); e == nil || e.Status != 400 || e.Param != c.param {
			t.Errorf("%s: %+v, want a 400 on %s", c.body, e, c.param)
		}
	}
	if _, e := DecodeOllamaGenerate([]byte(`{"model":"m","prompt":"p","context":[1,2]}`)); e == nil || e.Param != "context" {
		t.Errorf("context: %+v", e)
	}
}

// FuzzDecodeOllama: any body gives each ollama decoder's request or a
// typed 400, never a panic or a request without a model.
func FuzzDecodeOllama(f *testing.F) {
	f.Add([]byte(`{"model":"m","messages":[{"role":"user","content":"Hi"}],"options":{"num_predict":3,"stop":"x"}}`))
	f.Add([]byte(`{"model":"m","prompt":"p","suffix":"s","system":"y","raw":false,"think":true}`))
	f.Add([]byte(`{"model":"m","input":["a"],"options":{"num_ctx":8}}`))
	f.Add([]byte(`{"model":"m","messages":[{"role":"assistant","tool_calls":[{"function":{"name":"f","arguments":"{}"}}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		check := func(what string, model string, e *Error) {
			if e != nil {
				if e.Status != 400 || e.Code == "" {
					t.Fatalf("%s: bad error %+v", what, e)
				}
				return
			}
			if strings.TrimSpace(model) == "" {
				t.Fatalf("%s: accepted without a model", what)
			}
		}
		if r, e := DecodeOllamaChat(body); e == nil {
			check("chat", r.Model, nil)
		} else {
			check("chat", "", e)
		}
		if r, e := DecodeOllamaGenerate(body); e == nil {
			check("generate", r.Model, nil)
		} else {
			check("generate", "", e)
		}
		if r, e := DecodeOllamaEmbed(body); e == nil {
			check("embed", r.Model, nil)
		} else {
			check("embed", "", e)
		}
		name, e := DecodeOllamaShow(body)
		check("show", name, e)
	})
}
