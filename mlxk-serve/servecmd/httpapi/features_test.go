package httpapi

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/internal/servetest"
	"github.com/mlxk/mlxk/mlxk-serve/servecmd/models"
	"github.com/mlxk/mlxk/shared/tokenizer/tokentest"
)

// streamed collects a chat stream's deltas.
type streamed struct {
	content, reasoning string
	calls              []map[string]any
	finish             string
	chunks             int
}

func collectChat(t *testing.T, body []byte) streamed {
	t.Helper()
	var s streamed
	evs := events(t, body)
	if len(evs) == 0 || evs[len(evs)-1] != "[DONE]" {
		t.Fatalf("stream does not end with [DONE]: %s", body)
	}
	for _, ev := range evs[:len(evs)-1] {
		var c map[string]any
		if err := json.Unmarshal([]byte(ev), &c); err != nil {
			t.Fatalf("%v: %s", err, ev)
		}
		s.chunks++
		ch, _ := c["choices"].([]any)
		if len(ch) == 0 {
			continue
		}
		d := get(t, ch[0], "delta").(map[string]any)
		if v, ok := d["content"].(string); ok {
			s.content += v
		}
		if v, ok := d["reasoning_content"].(string); ok {
			s.reasoning += v
		}
		if calls, ok := d["tool_calls"].([]any); ok {
			for _, c := range calls {
				s.calls = append(s.calls, c.(map[string]any))
			}
		}
		if f, ok := get(t, ch[0], "finish_reason").(string); ok {
			s.finish = f
		}
	}
	return s
}

func TestReasoningContent(t *testing.T) {
	e := newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: "The user greets me.\n</think>\n\nHello, friend!", Marker: "<think>\n"}})
	e.addModel("org/Thinker", "llama-q4", servetest.ThinkTemplate)

	r := e.do("POST", "/v1/chat/completions", chatBody("org/Thinker", "Hi", map[string]any{"max_tokens": 100}))
	v := r.json(t)
	if got := get(t, v, "choices", 0, "message", "reasoning_content"); got != "The user greets me.\n" {
		t.Errorf("reasoning_content %q", got)
	}
	if got := get(t, v, "choices", 0, "message", "content"); got != "\n\nHello, friend!" {
		t.Errorf("content %q", got)
	}
	if got := get(t, v, "choices", 0, "finish_reason"); got != "stop" {
		t.Errorf("finish %v", got)
	}

	st := collectChat(t, e.do("POST", "/v1/chat/completions", chatBody("org/Thinker", "Hi", map[string]any{"max_tokens": 100, "stream": true})).body)
	if st.reasoning != "The user greets me.\n" || st.content != "\n\nHello, friend!" {
		t.Errorf("stream: reasoning %q content %q", st.reasoning, st.content)
	}
}

var weatherTool = []any{map[string]any{"type": "function", "function": map[string]any{
	"name": "get_weather", "description": "Weather in a city",
	"parameters": map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}},
}}}

func TestToolCalls(t *testing.T) {
	reply := `Let me check.<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call><tool_call>{"name": "get_weather", "arguments": {"city": "Rome"}}</tool_call>`
	e := newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: reply}})
	e.addModel("org/Caller", "llama-q4", servetest.ToolTemplate)
	e.addModel("org/Plain", "llama-q4", servetest.ChatTemplate)

	body := chatBody("org/Caller", "Weather in Paris and Rome?", map[string]any{"max_tokens": 200, "tools": weatherTool})
	v := e.do("POST", "/v1/chat/completions", body).json(t)
	if got := get(t, v, "choices", 0, "finish_reason"); got != "tool_calls" {
		t.Fatalf("finish %v: %v", got, v)
	}
	calls := get(t, v, "choices", 0, "message", "tool_calls").([]any)
	if len(calls) != 2 {
		t.Fatalf("calls %v", calls)
	}
	for i, city := range []string{"Paris", "Rome"} {
		c := calls[i].(map[string]any)
		if c["type"] != "function" || !strings.HasPrefix(c["id"].(string), "call_") {
			t.Errorf("call %d: %v", i, c)
		}
		if got := get(t, c, "function", "name"); got != "get_weather" {
			t.Errorf("name %v", got)
		}
		if got := get(t, c, "function", "arguments"); got != `{"city":"`+city+`"}` {
			t.Errorf("arguments %v", got)
		}
	}
	if got := get(t, v, "choices", 0, "message", "content"); got != "Let me check." {
		t.Errorf("content %q", got)
	}

	// Streamed: text first, each call as one delta with its index.
	body["stream"] = true
	st := collectChat(t, e.do("POST", "/v1/chat/completions", body).body)
	if st.content != "Let me check." || st.finish != "tool_calls" || len(st.calls) != 2 {
		t.Fatalf("stream: %+v", st)
	}
	for i, c := range st.calls {
		if c["index"] != float64(i) || get(t, c, "function", "name") != "get_weather" {
			t.Errorf("stream call %d: %v", i, c)
		}
	}

	// parallel_tool_calls false keeps the first call.
	delete(body, "stream")
	body["parallel_tool_calls"] = false
	v = e.do("POST", "/v1/chat/completions", body).json(t)
	if calls := get(t, v, "choices", 0, "message", "tool_calls").([]any); len(calls) != 1 {
		t.Errorf("parallel_tool_calls false: %d calls", len(calls))
	}

	// Without tools the markup is ordinary text.
	v = e.do("POST", "/v1/chat/completions", chatBody("org/Caller", "Hi", map[string]any{"max_tokens": 200})).json(t)
	if got := get(t, v, "choices", 0, "message", "content"); got != reply {
		t.Errorf("no tools: content %q", got)
	}

	// A template without tools, and a tool_choice naming no tool, are
	// refused with a typed 400.
	for _, c := range []struct {
		body  map[string]any
		param string
	}{
		{chatBody("org/Plain", "Hi", map[string]any{"tools": weatherTool}), "tools"},
		{chatBody("org/Caller", "Hi", map[string]any{"tools": weatherTool, "tool_choice": map[string]any{
			"type": "function", "function": map[string]any{"name": "nope"}}}), "tool_choice"},
	} {
		r := e.do("POST", "/v1/chat/completions", c.body)
		if r.status != 400 || get(t, r.json(t), "error", "param") != c.param {
			t.Errorf("%v: %d %s", c.body, r.status, r.body)
		}
	}
}

func TestToolResultsRoundTrip(t *testing.T) {
	e := newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: "It is sunny in Paris."}})
	e.addModel("org/Caller", "llama-q4", servetest.ToolTemplate)
	body := map[string]any{"model": "org/Caller", "max_tokens": 100, "tools": weatherTool, "messages": []any{
		map[string]any{"role": "user", "content": "Weather in Paris?"},
		map[string]any{"role": "assistant", "content": nil, "tool_calls": []any{map[string]any{"id": "call_1", "type": "function",
			"function": map[string]any{"name": "get_weather", "arguments": `{"city":"Paris"}`}}}},
		map[string]any{"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
	}}
	r := e.do("POST", "/v1/chat/completions", body)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	v := r.json(t)
	if get(t, v, "choices", 0, "message", "content") != "It is sunny in Paris." || get(t, v, "choices", 0, "finish_reason") != "stop" {
		t.Errorf("%s", r.body)
	}
}

func TestStopStrings(t *testing.T) {
	e := newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: "Hello world. Goodbye."}})
	e.addModel("org/Tiny", "llama-q4", servetest.ChatTemplate)
	for _, stream := range []bool{false, true} {
		body := chatBody("org/Tiny", "Hi", map[string]any{"max_tokens": 50, "stop": []any{"world", "never"}, "stream": stream})
		r := e.do("POST", "/v1/chat/completions", body)
		var content, finish string
		if stream {
			st := collectChat(t, r.body)
			content, finish = st.content, st.finish
		} else {
			v := r.json(t)
			content, finish = get(t, v, "choices", 0, "message", "content").(string), get(t, v, "choices", 0, "finish_reason").(string)
		}
		if content != "Hello " || finish != "stop" {
			t.Errorf("stream %v: %q %q", stream, content, finish)
		}
	}
	// Text completions stop the same way; echo puts the prompt first.
	v := e.do("POST", "/v1/completions", map[string]any{"model": "org/Tiny", "prompt": "Say:<|assistant|>", "stop": "Good",
		"echo": true, "max_tokens": 50}).json(t)
	if got := get(t, v, "choices", 0, "text"); got != "Say:<|assistant|>Hello world. " {
		t.Errorf("completion %q", got)
	}
}

func TestPrefixCacheAcrossTurns(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.addModel("org/Tiny", "llama-q4", servetest.ChatTemplate)
	first := chatBody("org/Tiny", "Tell me about the sea.", map[string]any{"max_tokens": 6})
	v := e.do("POST", "/v1/chat/completions", first).json(t)
	answer := get(t, v, "choices", 0, "message", "content").(string)
	if get(t, v, "usage", "prompt_tokens_details", "cached_tokens") != float64(0) {
		t.Errorf("first turn had cached tokens: %v", get(t, v, "usage"))
	}
	second := chatBody("org/Tiny", "", map[string]any{"max_tokens": 6})
	second["messages"] = []any{
		map[string]any{"role": "user", "content": "Tell me about the sea."},
		map[string]any{"role": "assistant", "content": answer},
		map[string]any{"role": "user", "content": "And the sky?"},
	}
	v = e.do("POST", "/v1/chat/completions", second).json(t)
	cached := get(t, v, "usage", "prompt_tokens_details", "cached_tokens").(float64)
	prompt := get(t, v, "usage", "prompt_tokens").(float64)
	// The whole first turn (its prompt and answer) is reused.
	if cached < float64(len("<|user|>Tell me about the sea.\n<|assistant|>")) || cached >= prompt {
		t.Errorf("cached %v of %v prompt tokens", cached, prompt)
	}
}

func TestMemoryLimitIs507(t *testing.T) {
	e := newEnv(t, envOptions{registry: func(c *models.Config) { c.MemoryLimit = 1000 }})
	e.addModel("org/Tiny", "llama-q4", servetest.ChatTemplate)
	r := e.do("POST", "/v1/chat/completions", chatBody("org/Tiny", "Hi", nil))
	if r.status != 507 || get(t, r.json(t), "error", "code") != "insufficient_memory" {
		t.Errorf("%d %s", r.status, r.body)
	}
}

func TestToolChoiceForcesACall(t *testing.T) {
	// The model would answer in prose; tool_choice "required" (or the
	// function by name) makes it write the call markup.
	e := newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: `{"name": "get_weather", "arguments": {"city": "Paris"}}`}})
	e.addModel("org/Caller", "llama-q4", servetest.ToolTemplate)
	for _, choice := range []any{"required", map[string]any{"type": "function", "function": map[string]any{"name": "get_weather"}}} {
		for _, stream := range []bool{false, true} {
			body := chatBody("org/Caller", "Weather?", map[string]any{"max_tokens": 200, "tools": weatherTool, "tool_choice": choice, "stream": stream})
			r := e.do("POST", "/v1/chat/completions", body)
			var calls []any
			var finish string
			if stream {
				st := collectChat(t, r.body)
				for _, c := range st.calls {
					calls = append(calls, c)
				}
				finish = st.finish
			} else {
				v := r.json(t)
				calls, _ = get(t, v, "choices", 0, "message", "tool_calls").([]any)
				finish = get(t, v, "choices", 0, "finish_reason").(string)
			}
			if len(calls) != 1 || finish != "tool_calls" {
				t.Fatalf("%v stream %v: %d calls, finish %q: %s", choice, stream, len(calls), finish, r.body)
			}
			if get(t, calls[0], "function", "name") != "get_weather" || get(t, calls[0], "function", "arguments") != `{"city":"Paris"}` {
				t.Errorf("%v: call %v", choice, calls[0])
			}
		}
	}
}

// TestSSEKeepAlive: a stream that stays silent (a slow model here; a
// queue or a long prompt in practice) gets keep-alive comments, headers
// included, before its first token, and the stream still parses and ends
// with [DONE]; none follow [DONE].
func TestSSEKeepAlive(t *testing.T) {
	e := newEnv(t, envOptions{
		backend: servetest.ScriptBackend{Reply: "ok", Step: 120 * time.Millisecond},
		server:  func(c *Config) { c.SSEKeepAlive = 30 * time.Millisecond },
	})
	e.addModel("org/Plain", "llama-q4", servetest.ChatTemplate)
	r := e.do("POST", "/v1/chat/completions", chatBody("org/Plain", "hi", map[string]any{"stream": true, "max_tokens": 3}))
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	body := string(r.body)
	first := strings.Index(body, "data: ")
	if k := strings.Index(body, ": keep-alive\n\n"); k < 0 || k > first {
		t.Fatalf("no keep-alive before the first event:\n%s", body)
	}
	if !strings.HasSuffix(body, "data: [DONE]\n\n") {
		t.Fatalf("stream does not end with [DONE]:\n%s", body)
	}
	evs := events(t, r.body)
	if evs[len(evs)-1] != "[DONE]" {
		t.Fatalf("events %v", evs)
	}
}

// TestFillInTheMiddle: a completion with a suffix goes to a model with
// fill-in-the-middle tokens in its layout (here Qwen2.5-Coder's, at ids
// 250-253 of the byte vocabulary), the answer is the middle and ends at
// the layout's padding token, streamed or not; a model without such
// tokens answers 400 on suffix.
func TestFillInTheMiddle(t *testing.T) {
	// The script model writes its reply after the last middle token (id
	// 252, byte 0xfc): the middle, <|fim_pad|> (0xfd), then more.
	e := newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: "a + b\xfd# more", Marker: "\xfc"}})
	fim := tokentest.ByteLevel(tokentest.Added{ID: 250, Content: "<|fim_prefix|>"}, tokentest.Added{ID: 251, Content: "<|fim_suffix|>"},
		tokentest.Added{ID: 252, Content: "<|fim_middle|>"}, tokentest.Added{ID: 253, Content: "<|fim_pad|>"})
	e.addModelWith("org/Coder", "llama-q4", "", fim)
	e.addModel("org/Plain", "llama-q4", "")
	const prefix, suffix = "def add(a, b):\n    return ", "\n\nprint(add(1, 2))\n"
	for _, stream := range []bool{false, true} {
		r := e.do("POST", "/v1/completions", map[string]any{"model": "org/Coder", "prompt": prefix, "suffix": suffix,
			"max_tokens": 20, "stream": stream, "stream_options": map[string]any{"include_usage": true}})
		if r.status != 200 {
			t.Fatalf("stream %v: %d %s", stream, r.status, r.body)
		}
		var text, finish string
		var usage any
		if stream {
			evs := events(t, r.body)
			for _, ev := range evs[:len(evs)-1] {
				var c map[string]any
				if err := json.Unmarshal([]byte(ev), &c); err != nil {
					t.Fatal(err)
				}
				if ch := c["choices"].([]any); len(ch) > 0 {
					text += get(t, ch[0], "text").(string)
					if f, ok := get(t, ch[0], "finish_reason").(string); ok {
						finish = f
					}
				} else {
					usage = c["usage"]
				}
			}
		} else {
			v := r.json(t)
			text, finish, usage = get(t, v, "choices", 0, "text").(string), get(t, v, "choices", 0, "finish_reason").(string), v["usage"]
		}
		if text != "a + b" || finish != "stop" {
			t.Errorf("stream %v: %q %q", stream, text, finish)
		}
		// The prompt: the three layout tokens around the parts' bytes.
		if got := get(t, usage, "prompt_tokens"); got != float64(3+len(prefix)+len(suffix)) {
			t.Errorf("stream %v: prompt_tokens %v", stream, got)
		}
	}
	r := e.do("POST", "/v1/completions", map[string]any{"model": "org/Plain", "prompt": prefix, "suffix": suffix})
	if r.status != 400 || get(t, r.json(t), "error", "param") != "suffix" || get(t, r.json(t), "error", "code") != "unsupported_value" {
		t.Errorf("model without FIM tokens: %d %s", r.status, r.body)
	}
}

// TestServeLookahead: with --lookahead a request decoding alone drafts by
// prompt lookup; its answer is the answer without (greedy, the bundled
// demo model continuing a verse its prompt quotes).
func TestServeLookahead(t *testing.T) {
	// answer returns the text and the /metrics draft counters.
	answer := func(lookahead int) (string, string) {
		e := newEnv(t, envOptions{server: func(c *Config) { c.Lookahead = lookahead }})
		src := filepath.Join("..", "..", "..", "demo", "model")
		if _, err := servetest.AddToCache(e.hub, "mlxk/demo", src); err != nil {
			t.Fatal(err)
		}
		verse := "In the beginning God created the heaven and the earth. And the earth was without form, and void."
		v := e.do("POST", "/v1/completions", map[string]any{"model": "mlxk/demo", "prompt": verse + "\n" + verse[:40],
			"temperature": 0, "max_tokens": 32}).json(t)
		var drafts []string
		for _, line := range strings.Split(string(e.do("GET", "/metrics", nil).body), "\n") {
			if strings.HasPrefix(line, "mlxk_draft_tokens") {
				drafts = append(drafts, line)
			}
		}
		return get(t, v, "choices", 0, "text").(string), strings.Join(drafts, "\n")
	}
	plain, none := answer(0)
	drafted, counts := answer(6)
	if plain == "" || drafted != plain {
		t.Errorf("with lookahead %q, without %q", drafted, plain)
	}
	// Lookahead took effect: drafts were fed and some kept (the demo
	// model quoting keeps about half).
	if none != "" || !regexp.MustCompile(`mlxk_draft_tokens_accepted_total\{model="mlxk/demo"\} [1-9]`).MatchString(counts) {
		t.Errorf("draft counters without lookahead %q, with %q", none, counts)
	}
}
