package openai

import (
	"encoding/json"
	"testing"
)

// TestDecodeResponses: Responses requests become the chat Request:
// instructions first, reasoning joining the next assistant turn, function
// calls joining the assistant message before them, outputs as tool
// messages; tools, tool_choice, text.format and reasoning mapped.
func TestDecodeResponses(t *testing.T) {
	body := `{"model":"m","instructions":"Be brief.","max_output_tokens":64,"store":false,
	  "input":[
	    {"role":"developer","content":"Use tools."},
	    {"type":"message","role":"user","content":[{"type":"input_text","text":"Weather "},{"type":"input_text","text":"in Paris?"}]},
	    {"type":"reasoning","id":"rs_1","summary":[],"content":[{"type":"reasoning_text","text":"Call it."}]},
	    {"type":"message","role":"assistant","id":"msg_1","status":"completed","content":[{"type":"output_text","text":"Checking.","annotations":[]}]},
	    {"type":"function_call","id":"fc_1","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}","status":"completed"},
	    {"type":"function_call","call_id":"call_2","name":"get_weather","arguments":"{\"city\":\"Rome\"}"},
	    {"type":"function_call_output","call_id":"call_1","output":"sunny"},
	    {"type":"function_call_output","call_id":"call_2","output":[{"type":"input_text","text":"rain"}]}],
	  "tools":[{"type":"function","name":"get_weather","parameters":{"type":"object"},"strict":true}],
	  "tool_choice":{"type":"function","name":"get_weather"},"parallel_tool_calls":false,
	  "text":{"format":{"type":"json_schema","name":"w","schema":{"type":"object"},"strict":true}},
	  "reasoning":{"effort":"high","summary":"auto"},"metadata":{"k":"v"},"user":"u"}`
	r, e := DecodeResponses([]byte(body))
	if e != nil {
		t.Fatal(e)
	}
	want := []map[string]any{
		{"role": "system", "content": "Be brief."},
		{"role": "system", "content": "Use tools."},
		{"role": "user", "content": "Weather in Paris?"},
		{"role": "assistant", "content": "Checking.", "reasoning_content": "Call it.", "tool_calls": []any{
			map[string]any{"id": "call_1", "type": "function", "function": map[string]any{"name": "get_weather", "arguments": `{"city":"Paris"}`}},
			map[string]any{"id": "call_2", "type": "function", "function": map[string]any{"name": "get_weather", "arguments": `{"city":"Rome"}`}}}},
		{"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
		{"role": "tool", "tool_call_id": "call_2", "content": "rain"},
	}
	var got []map[string]any
	if err := json.Unmarshal(r.Messages, &got); err != nil {
		t.Fatal(err)
	}
	if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
		t.Errorf("messages\n got %s\nwant %s", g, w)
	}
	if r.MaxTokens != 64 || r.ToolChoice.Mode != "function" || r.ToolChoice.Function != "get_weather" || r.ParallelToolCalls ||
		r.Format.Type != "json_schema" || r.Format.Name != "w" || string(r.TemplateKwargs["reasoning_effort"]) != `"high"` {
		t.Errorf("request %+v", r)
	}

	r, e = DecodeResponses([]byte(`{"model":"m","input":"Hello"}`))
	if e != nil || mustJSON(t, json.RawMessage(r.Messages)) != `[{"content":"Hello","role":"user"}]` || r.ToolChoice.Mode != "none" || r.Format.Type != "text" {
		t.Errorf("string input: %+v %v", r, e)
	}
}

// TestDecodeResponsesErrors: stored state, hosted tools, non-text content
// and other things the server cannot honour are typed 400s naming them.
func TestDecodeResponsesErrors(t *testing.T) {
	for body, param := range map[string]string{
		`{"input":"x"}`:                          "model",
		`{"model":"m"}`:                          "input",
		`{"model":"m","input":""}`:               "input",
		`{"model":"m","input":[]}`:               "input",
		`{"model":"m","input":"x","store":true}`: "store",
		`{"model":"m","input":"x","previous_response_id":"resp_1"}`:                                  "previous_response_id",
		`{"model":"m","input":"x","conversation":"conv_1"}`:                                          "conversation",
		`{"model":"m","input":"x","background":true}`:                                                "background",
		`{"model":"m","input":"x","truncation":"auto"}`:                                              "truncation",
		`{"model":"m","input":"x","include":["reasoning.encrypted_content"]}`:                        "include",
		`{"model":"m","input":"x","tools":[{"type":"web_search"}]}`:                                  "tools[0].type",
		`{"model":"m","input":"x","tool_choice":"required"}`:                                         "tool_choice",
		`{"model":"m","input":"x","text":{"verbosity":"low"}}`:                                       "text.verbosity",
		`{"model":"m","input":"x","text":{"format":{"type":"json_schema"}}}`:                         "text.format.schema",
		`{"model":"m","input":[{"role":"user","content":[{"type":"input_image","image_url":"u"}]}]}`: "input[0].content[0].type",
		`{"model":"m","input":[{"role":"tool","content":"x"}]}`:                                      "input[0].role",
		`{"model":"m","input":[{"type":"function_call","name":"f"}]}`:                                "input[0].call_id",
		`{"model":"m","input":[{"type":"function_call","call_id":"c","name":"f","arguments":"{"}]}`:  "input[0].arguments",
		`{"model":"m","input":[{"type":"item_reference","id":"x"}]}`:                                 "input[0].type",
		`{"model":"m","input":"x","frobnicate":1}`:                                                   "frobnicate",
	} {
		if _, e := DecodeResponses([]byte(body)); e == nil || e.Param != param || e.Status != 400 {
			t.Errorf("%s: %+v, want param %s", body, e, param)
		}
	}
}

// FuzzDecodeResponses: any body gives a request or a typed 400, never a
// panic; accepted requests satisfy the pipeline's invariants.
func FuzzDecodeResponses(f *testing.F) {
	f.Add([]byte(`{"model":"m","input":[{"type":"function_call","call_id":"c","name":"f","arguments":"{}"},{"type":"function_call_output","call_id":"c","output":"o"}]}`))
	f.Add([]byte(`{"model":"m","instructions":"i","input":"x","tools":[{"type":"function","name":"f"}],"tool_choice":"required","text":{"format":{"type":"json_object"}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, e := DecodeResponses(body)
		if e != nil {
			if r != nil || e.Status != 400 || e.Code == "" || e.Message == "" {
				t.Fatalf("bad error %+v", e)
			}
			return
		}
		if r.Model == "" || r.MaxTokens < 0 || r.N != 1 || r.Params.Validate() != nil || !json.Valid(r.Messages) {
			t.Fatalf("accepted bad request %+v", r)
		}
		if r.ToolChoice.Mode != "none" && len(r.Tools) == 0 {
			t.Fatalf("tool_choice %q without tools", r.ToolChoice.Mode)
		}
	})
}
