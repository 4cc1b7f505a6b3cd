package openai

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestDecodeChat(t *testing.T) {
	body := `{"model":"m","messages":[{"role":"developer","content":"Be brief."},
		{"role":"user","content":[{"type":"text","text":"Hi "},{"type":"text","text":"there"}]},
		{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}],"refusal":null},
		{"role":"tool","tool_call_id":"c1","content":"ok"}],
		"stream":true,"stream_options":{"include_usage":true},"max_tokens":10,"max_completion_tokens":20,
		"temperature":0,"top_p":0.5,"top_k":40,"min_p":0.1,"repetition_penalty":1,"presence_penalty":0.5,
		"frequency_penalty":-0.5,"seed":-1,"logit_bias":{"5":-100},"stop":["END",""],"logprobs":true,"top_logprobs":3,
		"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"tool_choice":"auto",
		"parallel_tool_calls":false,"user":"u1","n":1,"keep_alive":"10m","chat_template_kwargs":{"enable_thinking":false},
		"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"},"strict":true}}}`
	r, e := DecodeChat([]byte(body))
	if e != nil {
		t.Fatal(e)
	}
	if r.Model != "m" || !r.Stream || !r.IncludeUsage || r.MaxTokens != 20 || r.Params.Temperature != 0 ||
		r.Params.TopP != 0.5 || r.Params.TopK != 40 || r.Params.RepetitionPenalty != 1 || *r.Params.Seed != ^uint64(0) ||
		r.Params.LogitBias[5] != -100 || len(r.Stop) != 1 || !r.Logprobs || r.TopLogprobs != 3 || len(r.Tools) != 1 ||
		r.ToolChoice.Mode != "auto" || r.ParallelToolCalls || *r.KeepAlive != 10*time.Minute ||
		string(r.TemplateKwargs["enable_thinking"]) != "false" || r.Format.Type != "json_schema" || r.Format.Name != "x" {
		t.Errorf("decoded %+v", r)
	}
	var msgs []map[string]any
	if err := json.Unmarshal(r.Messages, &msgs); err != nil {
		t.Fatal(err)
	}
	if msgs[0]["role"] != "system" || len(msgs) != 4 || msgs[2]["refusal"] != nil {
		t.Errorf("messages %v", msgs)
	}

	// Defaults are mlx-knife's.
	r, e = DecodeChat([]byte(`{"model":"m","messages":[{"role":"user","content":"x"}]}`))
	if e != nil {
		t.Fatal(e)
	}
	if r.Params.Temperature != DefaultTemperature || r.Params.TopP != DefaultTopP || r.Params.RepetitionPenalty != DefaultRepetitionPenalty ||
		r.MaxTokens != 0 || r.ToolChoice.Mode != "none" || r.Format.Type != "text" || r.KeepAlive != nil {
		t.Errorf("defaults %+v", r)
	}
}

func TestDecodeErrors(t *testing.T) {
	msg := `"messages":[{"role":"user","content":"x"}]`
	cases := []struct{ body, code, param string }{
		{``, CodeInvalidJSON, ""},
		{`{"model":"m",` + msg, CodeInvalidJSON, ""},
		{`{"model":"m",` + msg + `} {}`, CodeInvalidJSON, ""},
		{`{` + msg + `}`, CodeMissingField, "model"},
		{`{"model":"m"}`, CodeMissingField, "messages"},
		{`{"model":"m","messages":[]}`, CodeInvalidValue, "messages"},
		{`{"model":"m","messages":[{"role":"wizard","content":"x"}]}`, CodeInvalidValue, "messages[0].role"},
		{`{"model":"m","messages":[{"role":"user"}]}`, CodeMissingField, "messages[0].content"},
		{`{"model":"m","messages":[{"role":"user","content":"x","mood":"happy"}]}`, CodeUnsupportedField, "messages[0].mood"},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio"}]}]}`, CodeUnsupportedValue, "messages[0].content[0].type"},
		{`{"model":"m","messages":[{"role":"user","tool_calls":[]}]}`, CodeInvalidValue, "messages[0].tool_calls"},
		{`{"model":"m",` + msg + `,"temperature":"hot"}`, CodeInvalidValue, "temperature"},
		{`{"model":"m",` + msg + `,"top_p":1.5}`, CodeInvalidValue, "top_p"},
		{`{"model":"m",` + msg + `,"max_tokens":0}`, CodeInvalidValue, "max_tokens"},
		{`{"model":"m",` + msg + `,"max_tokens":2.5}`, CodeInvalidValue, "max_tokens"},
		{`{"model":"m",` + msg + `,"top_logprobs":2}`, CodeInvalidValue, "top_logprobs"},
		{`{"model":"m",` + msg + `,"logit_bias":{"x":1}}`, CodeInvalidValue, "logit_bias"},
		{`{"model":"m",` + msg + `,"stop":[1]}`, CodeInvalidValue, "stop"},
		{`{"model":"m",` + msg + `,"stream_options":{"include_obfuscation":true}}`, CodeUnsupportedField, "stream_options.include_obfuscation"},
		{`{"model":"m",` + msg + `,"response_format":{"type":"yaml"}}`, CodeInvalidValue, "response_format.type"},
		{`{"model":"m",` + msg + `,"tools":[{"type":"retrieval"}]}`, CodeUnsupportedValue, "tools[0].type"},
		{`{"model":"m",` + msg + `,"tools":[{"type":"function","function":{"name":"bad name"}}]}`, CodeInvalidValue, "tools[0].function.name"},
		{`{"model":"m",` + msg + `,"tool_choice":"required"}`, CodeInvalidValue, "tool_choice"},
		{`{"model":"m",` + msg + `,"keep_alive":"soon"}`, CodeInvalidValue, "keep_alive"},
		{`{"model":"m",` + msg + `,"store":true}`, CodeUnsupportedValue, "store"},
		{`{"model":"m",` + msg + `,"functions":[]}`, CodeUnsupportedField, "functions"},
		{`{"model":"m",` + msg + `,"modalities":["audio"]}`, CodeUnsupportedValue, "modalities"},
	}
	for _, c := range cases {
		_, e := DecodeChat([]byte(c.body))
		if e == nil || e.Code != c.code || e.Param != c.param || e.Status != 400 {
			t.Errorf("%s: got %+v, want %s %q", c.body, e, c.code, c.param)
		}
	}
}

func TestDecodeCompletion(t *testing.T) {
	for body, check := range map[string]func(*Request) bool{
		`{"model":"m","prompt":"abc"}`:               func(r *Request) bool { return r.Prompt == "abc" && !r.Logprobs },
		`{"model":"m","prompt":["abc"],"echo":true}`: func(r *Request) bool { return r.Prompt == "abc" && r.Echo },
		`{"model":"m","prompt":[1,2,3]}`:             func(r *Request) bool { return len(r.PromptIDs) == 3 },
		`{"model":"m","prompt":[[4,5]],"logprobs":2}`: func(r *Request) bool {
			return len(r.PromptIDs) == 2 && r.Logprobs && r.TopLogprobs == 2
		},
		`{"model":"m","prompt":"x","suffix":"","best_of":1}`: func(r *Request) bool { return r.Prompt == "x" },
		`{"model":"m","prompt":"x","suffix":"y"}`:            func(r *Request) bool { return r.Prompt == "x" && r.Suffix == "y" },
	} {
		r, e := DecodeCompletion([]byte(body))
		if e != nil || !check(r) {
			t.Errorf("%s: %+v %v", body, r, e)
		}
	}
	for body, param := range map[string]string{
		`{"model":"m"}`:                            "prompt",
		`{"model":"m","prompt":""}`:                "prompt",
		`{"model":"m","prompt":["a","b"]}`:         "prompt",
		`{"model":"m","prompt":[-1]}`:              "prompt",
		`{"model":"m","prompt":[1],"suffix":"y"}`:  "suffix",
		`{"model":"m","prompt":"x","suffix":7}`:    "suffix",
		`{"model":"m","prompt":"x","best_of":2}`:   "best_of",
		`{"model":"m","prompt":"x","logprobs":9}`:  "logprobs",
		`{"model":"m","prompt":"x","messages":[]}`: "messages",
	} {
		if _, e := DecodeCompletion([]byte(body)); e == nil || e.Param != param {
			t.Errorf("%s: %+v, want param %s", body, e, param)
		}
	}
}

func TestKeepAlive(t *testing.T) {
	for in, want := range map[string]time.Duration{`"5m"`: 5 * time.Minute, `300`: 5 * time.Minute, `"0"`: 0, `0`: 0,
		`-1`: -1, `"-5m"`: -1, `"1.5"`: 1500 * time.Millisecond, `1e300`: -1} {
		got, err := ParseKeepAlive(json.RawMessage(in))
		if err != nil || got != want {
			t.Errorf("%s: %v %v, want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{`"soon"`, `true`, `{}`} {
		if _, err := ParseKeepAlive(json.RawMessage(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestErrorBody(t *testing.T) {
	e := Errorf(429, CodeQueueFull, "", "busy")
	if got := string(e.Body("req_1")); got != `{"error":{"message":"busy","type":"rate_limit_error","param":null,"code":"queue_full","request_id":"req_1"}}` {
		t.Errorf("body %s", got)
	}
	e = Errorf(400, CodeInvalidValue, "temperature", "<bad> & hot")
	if got := string(e.Body("")); !strings.Contains(got, `"message":"<bad> & hot"`) || !strings.Contains(got, `"param":"temperature"`) {
		t.Errorf("body %s", got)
	}
}

// FuzzDecode: any body gives a request or a typed 400, never a panic;
// accepted requests satisfy the invariants the server relies on.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"model":"m","messages":[{"role":"user","content":"x"}],"stop":"a","tools":[{"type":"function","function":{"name":"f"}}]}`), true)
	f.Add([]byte(`{"model":"m","prompt":[[1,2]],"logprobs":3,"echo":true}`), false)
	f.Add([]byte(`{"model":"m","prompt":"x","keep_alive":-1,"logit_bias":{"1":5}}`), false)
	f.Fuzz(func(t *testing.T, body []byte, chat bool) {
		var r *Request
		var e *Error
		if chat {
			r, e = DecodeChat(body)
		} else {
			r, e = DecodeCompletion(body)
		}
		if e != nil {
			if r != nil || e.Status != 400 || e.Code == "" || e.Message == "" {
				t.Fatalf("bad error %+v", e)
			}
			return
		}
		if r.Model == "" || r.Params.Validate() != nil || len(r.Stop) > MaxStops || r.MaxTokens < 0 {
			t.Fatalf("accepted bad request %+v", r)
		}
		if chat && !json.Valid(r.Messages) {
			t.Fatalf("messages not JSON: %s", r.Messages)
		}
		if !chat && r.Prompt == "" && len(r.PromptIDs) == 0 {
			t.Fatal("empty prompt accepted")
		}
	})
}
