package openai

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestDecodeMessages: Anthropic requests become the chat Request the
// pipeline runs: system first, tool results as tool messages ahead of the
// user's text, the assistant's text, tool uses (arguments as compact JSON
// text) and thinking in one message, redacted thinking dropped; tools,
// tool_choice, thinking and output_config mapped; server defaults for
// absent sampling fields.
func TestDecodeMessages(t *testing.T) {
	body := `{"model":"m","max_tokens":64,"system":"Be brief.","stop_sequences":["END",""],
	  "messages":[
	    {"role":"user","content":"Weather?"},
	    {"role":"assistant","content":[
	      {"type":"thinking","thinking":"Use the tool.","signature":"abc"},
	      {"type":"redacted_thinking","data":"xyz"},
	      {"type":"text","text":"Checking."},
	      {"type":"tool_use","id":"toolu_1","name":"get_weather","input":{ "city" : "Paris" }}]},
	    {"role":"user","content":[
	      {"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"sunny"}],"is_error":false},
	      {"type":"text","text":"Thanks."}]}],
	  "tools":[{"name":"get_weather","description":"d","input_schema":{"type":"object"},"cache_control":{"type":"ephemeral"}}],
	  "tool_choice":{"type":"any","disable_parallel_tool_use":true},
	  "thinking":{"type":"enabled","budget_tokens":2048},
	  "output_config":{"effort":"low"},
	  "metadata":{"user_id":"u"}}`
	r, e := DecodeMessages([]byte(body))
	if e != nil {
		t.Fatal(e)
	}
	var msgs []map[string]any
	if err := json.Unmarshal(r.Messages, &msgs); err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		{"role": "system", "content": "Be brief."},
		{"role": "user", "content": "Weather?"},
		{"role": "assistant", "content": "Checking.", "reasoning_content": "Use the tool.",
			"tool_calls": []any{map[string]any{"id": "toolu_1", "type": "function", "function": map[string]any{"name": "get_weather", "arguments": `{"city":"Paris"}`}}}},
		{"role": "tool", "tool_call_id": "toolu_1", "content": "sunny"},
		{"role": "user", "content": "Thanks."},
	}
	if got, _ := json.Marshal(msgs); string(got) != mustJSON(t, want) {
		t.Errorf("messages\n got %s\nwant %s", got, mustJSON(t, want))
	}
	if r.MaxTokens != 64 || len(r.Stop) != 1 || r.Stop[0] != "END" || r.N != 1 || !r.Chat {
		t.Errorf("limits %+v", r)
	}
	if len(r.Tools) != 1 || r.Tools[0].Name != "get_weather" || r.ToolChoice.Mode != "required" || r.ParallelToolCalls {
		t.Errorf("tools %+v %+v %v", r.Tools, r.ToolChoice, r.ParallelToolCalls)
	}
	if !strings.Contains(string(r.ToolsJSON), `"type":"function"`) || !strings.Contains(string(r.ToolsJSON), `"parameters":{"type":"object"}`) {
		t.Errorf("tools for the template: %s", r.ToolsJSON)
	}
	if string(r.TemplateKwargs["enable_thinking"]) != "true" || string(r.TemplateKwargs["reasoning_effort"]) != `"low"` {
		t.Errorf("kwargs %s", r.TemplateKwargs)
	}
	if r.Params.Temperature != DefaultTemperature || r.Params.TopP != DefaultTopP || r.Format.Type != "text" {
		t.Errorf("defaults %+v %+v", r.Params, r.Format)
	}

	r, e = DecodeMessages([]byte(`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],
	  "temperature":0,"top_k":5,"tool_choice":{"type":"none"},"thinking":{"type":"disabled"},
	  "output_config":{"format":{"type":"json_schema","schema":{"type":"object"}}}}`))
	if e != nil {
		t.Fatal(e)
	}
	if r.Params.Temperature != 0 || r.Params.TopK != 5 || r.ToolChoice.Mode != "none" || string(r.TemplateKwargs["enable_thinking"]) != "false" ||
		r.Format.Type != "json_schema" || string(r.Format.Schema) != `{"type":"object"}` {
		t.Errorf("second request %+v", r)
	}

	// count_tokens takes no max_tokens (and no sampling fields).
	if _, e := DecodeCountTokens([]byte(`{"model":"m","messages":[{"role":"user","content":"x"}]}`)); e != nil {
		t.Errorf("count_tokens: %v", e)
	}
	if _, e := DecodeCountTokens([]byte(`{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":5}`)); e == nil || e.Param != "max_tokens" {
		t.Errorf("count_tokens with max_tokens: %v", e)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDecodeMessagesErrors: what the server cannot honour is a typed 400
// naming the field.
func TestDecodeMessagesErrors(t *testing.T) {
	user := `"messages":[{"role":"user","content":"x"}]`
	for body, param := range map[string]string{
		`{"model":"m",` + user + `}`:                                                                                           "max_tokens",
		`{"max_tokens":1,` + user + `}`:                                                                                        "model",
		`{"model":"m","max_tokens":1}`:                                                                                         "messages",
		`{"model":"m","max_tokens":1,"messages":[]}`:                                                                           "messages",
		`{"model":"m","max_tokens":1,"messages":[{"role":"system","content":"x"}]}`:                                            "messages[0].role",
		`{"model":"m","max_tokens":1,"messages":[{"role":"user"}]}`:                                                            "messages[0].content",
		`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image"}]}]}`:                               "messages[0].content[0].type",
		`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_use"}]}]}`:                            "messages[0].content[0].type",
		`{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"tool_result"}]}]}`:                    "messages[0].content[0].type",
		`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result"}]}]}`:                         "messages[0].content[0].tool_use_id",
		`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"text","text":"x","citations":[{}]}]}]}`:    "messages[0].content[0].citations",
		`{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"tool_use","name":"f","input":[]}]}]}`: "messages[0].content[0].input",
		`{"model":"m","max_tokens":1,"system":[{"type":"image"}],` + user + `}`:                                                "system[0].type",
		`{"model":"m","max_tokens":1,"temperature":2,` + user + `}`:                                                            "temperature",
		`{"model":"m","max_tokens":1,"tools":[{"name":"f"}],` + user + `}`:                                                     "tools[0].input_schema",
		`{"model":"m","max_tokens":1,"tools":[{"type":"bash_20250124","name":"bash"}],` + user + `}`:                           "tools[0].type",
		`{"model":"m","max_tokens":1,"tool_choice":{"type":"any"},` + user + `}`:                                               "tool_choice",
		`{"model":"m","max_tokens":1,"thinking":{"type":"enabled"},` + user + `}`:                                              "thinking.budget_tokens",
		`{"model":"m","max_tokens":1,"output_config":{"format":{"type":"text"}},` + user + `}`:                                 "output_config.format.type",
		`{"model":"m","max_tokens":1,"container":"c",` + user + `}`:                                                            "container",
		`{"model":"m","max_tokens":1,"service_tier":"priority",` + user + `}`:                                                  "service_tier",
	} {
		if _, e := DecodeMessages([]byte(body)); e == nil || e.Param != param || e.Status != 400 {
			t.Errorf("%s: %+v, want param %s", body, e, param)
		}
	}
}

// TestAnthropicErrorBody: Anthropic's error shape, with the type its
// clients branch on for each status.
func TestAnthropicErrorBody(t *testing.T) {
	e := Errorf(429, CodeQueueFull, "", "busy")
	if got := string(e.AnthropicBody("req_1")); got != `{"type":"error","error":{"type":"rate_limit_error","message":"busy","code":"queue_full"},"request_id":"req_1"}` {
		t.Errorf("body %s", got)
	}
	for status, typ := range map[int]string{400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
		413: "request_too_large", 500: "api_error", 503: "overloaded_error", 507: "api_error"} {
		if got := (&Error{Status: status}).AnthropicType(); got != typ {
			t.Errorf("%d: %s, want %s", status, got, typ)
		}
	}
}

// FuzzDecodeMessages: any body gives a request or a typed 400, never a
// panic; accepted requests satisfy the pipeline's invariants.
func FuzzDecodeMessages(f *testing.F) {
	f.Add([]byte(`{"model":"m","max_tokens":5,"system":"s","messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"r"}]}]}`))
	f.Add([]byte(`{"model":"m","max_tokens":5,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{}}]}],"tools":[{"name":"f","input_schema":{"type":"object"}}],"tool_choice":{"type":"tool","name":"f"}}`))
	f.Add([]byte(`{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"thinking":{"type":"adaptive"},"output_config":{"format":{"type":"json_schema","schema":{}}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, e := DecodeMessages(body)
		if e != nil {
			if r != nil || e.Status != 400 || e.Code == "" || e.Message == "" {
				t.Fatalf("bad error %+v", e)
			}
			return
		}
		if r.Model == "" || r.MaxTokens < 1 || r.N != 1 || r.Params.Validate() != nil || len(r.Stop) > MaxStops || !json.Valid(r.Messages) {
			t.Fatalf("accepted bad request %+v", r)
		}
		if r.ToolChoice.Mode != "none" && len(r.Tools) == 0 {
			t.Fatalf("tool_choice %q without tools", r.ToolChoice.Mode)
		}
	})
}
