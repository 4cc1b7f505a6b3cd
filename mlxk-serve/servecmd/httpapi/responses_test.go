package httpapi

import (
	"strings"
	"testing"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/internal/servetest"
)

// responseStream is a Responses stream rebuilt from its events, checking
// names, sequence numbers and item order on the way.
type responseStream struct {
	types  []string
	items  []map[string]any // from output_item.done, in order
	text   map[string]string
	final  map[string]any
	errors []map[string]any
}

func collectResponse(t *testing.T, body []byte) responseStream {
	t.Helper()
	st := responseStream{text: map[string]string{}}
	for i, ev := range anthropicEvents(t, body) { // the same named-event framing
		st.types = append(st.types, ev.name)
		if ev.data["sequence_number"] != float64(i) {
			t.Fatalf("event %d (%s) has sequence_number %v", i, ev.name, ev.data["sequence_number"])
		}
		switch ev.name {
		case "response.output_text.delta", "response.reasoning_text.delta", "response.function_call_arguments.delta":
			st.text[ev.data["item_id"].(string)] += ev.data["delta"].(string)
		case "response.output_item.done":
			if int(ev.data["output_index"].(float64)) != len(st.items) {
				t.Fatalf("item %v done out of order", ev.data["output_index"])
			}
			st.items = append(st.items, ev.data["item"].(map[string]any))
		case "response.completed", "response.incomplete":
			st.final = ev.data["response"].(map[string]any)
		case "error":
			st.errors = append(st.errors, ev.data)
		}
	}
	return st
}

func responsesBody(model string, extra map[string]any) map[string]any {
	b := map[string]any{"model": model, "input": "Hi", "max_output_tokens": 50, "temperature": 0}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

// TestResponsesText: a text answer is one message item, whole and
// streamed; max_output_tokens makes the response incomplete.
func TestResponsesText(t *testing.T) {
	e := newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: "Hello world."}})
	e.addModel("org/Tiny", "llama-q4", servetest.ChatTemplate)
	for _, c := range []struct {
		max            int
		text, status   string
		incompleteWhy  any
		itemStatus     string
		outputTokensAt float64
	}{
		{50, "Hello world.", "completed", nil, "completed", 12},
		{3, "Hel", "incomplete", "max_output_tokens", "incomplete", 3},
	} {
		v := e.do("POST", "/v1/responses", responsesBody("org/Tiny", map[string]any{"max_output_tokens": c.max})).json(t)
		out := v["output"].([]any)
		if v["object"] != "response" || v["status"] != c.status || !strings.HasPrefix(v["id"].(string), "resp_") || len(out) != 1 {
			t.Fatalf("%d: %v", c.max, v)
		}
		item := out[0].(map[string]any)
		if item["type"] != "message" || item["role"] != "assistant" || item["status"] != c.itemStatus ||
			get(t, item, "content", 0, "type") != "output_text" || get(t, item, "content", 0, "text") != c.text {
			t.Errorf("%d: item %v", c.max, item)
		}
		if c.incompleteWhy != nil && get(t, v, "incomplete_details", "reason") != c.incompleteWhy {
			t.Errorf("%d: incomplete_details %v", c.max, v["incomplete_details"])
		}
		if get(t, v, "usage", "output_tokens") != c.outputTokensAt || get(t, v, "usage", "input_tokens").(float64) < 1 {
			t.Errorf("%d: usage %v", c.max, v["usage"])
		}

		st := collectResponse(t, e.do("POST", "/v1/responses", responsesBody("org/Tiny", map[string]any{"max_output_tokens": c.max, "stream": true})).body)
		want := []string{"response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"}
		if len(st.types) < 8 || strings.Join(st.types[:4], ",") != strings.Join(want, ",") || st.types[len(st.types)-1] != "response."+c.status {
			t.Fatalf("%d: events %v", c.max, st.types)
		}
		id := st.items[0]["id"].(string)
		if len(st.items) != 1 || st.text[id] != c.text || get(t, st.items[0], "content", 0, "text") != c.text ||
			st.final["status"] != c.status || get(t, st.final, "output", 0, "id") != id {
			t.Errorf("%d: stream %+v", c.max, st)
		}
	}
}

// TestResponsesItems: reasoning comes back as a reasoning item before the
// message; tool calls as function_call items; input items (instructions,
// function_call, function_call_output) reach the template as messages.
func TestResponsesItems(t *testing.T) {
	e := newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: "The user greets me.\n</think>\n\nHello, friend!", Marker: "<think>\n"}})
	e.addModel("org/Thinker", "llama-q4", servetest.ThinkTemplate)
	v := e.do("POST", "/v1/responses", responsesBody("org/Thinker", map[string]any{"max_output_tokens": 100})).json(t)
	out := v["output"].([]any)
	if len(out) != 2 || get(t, out[0], "type") != "reasoning" || get(t, out[0], "content", 0, "text") != "The user greets me.\n" ||
		get(t, out[1], "type") != "message" || get(t, out[1], "content", 0, "text") != "\n\nHello, friend!" {
		t.Errorf("reasoning: %v", out)
	}
	st := collectResponse(t, e.do("POST", "/v1/responses", responsesBody("org/Thinker", map[string]any{"max_output_tokens": 100, "stream": true})).body)
	if len(st.items) != 2 || st.text[st.items[0]["id"].(string)] != "The user greets me.\n" || st.text[st.items[1]["id"].(string)] != "\n\nHello, friend!" {
		t.Errorf("reasoning stream: %+v", st)
	}

	reply := `<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>`
	e = newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: reply}})
	e.addModel("org/Caller", "llama-q4", servetest.ToolTemplate)
	tools := []any{map[string]any{"type": "function", "name": "get_weather", "description": "Weather in a city",
		"parameters": map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}}}}
	v = e.do("POST", "/v1/responses", responsesBody("org/Caller", map[string]any{"tools": tools, "max_output_tokens": 200})).json(t)
	out = v["output"].([]any)
	if len(out) != 1 || get(t, out[0], "type") != "function_call" || get(t, out[0], "name") != "get_weather" ||
		get(t, out[0], "arguments") != `{"city":"Paris"}` || !strings.HasPrefix(get(t, out[0], "call_id").(string), "call_") || v["status"] != "completed" {
		t.Errorf("call: %v", v)
	}
	st = collectResponse(t, e.do("POST", "/v1/responses", responsesBody("org/Caller", map[string]any{"tools": tools, "max_output_tokens": 200, "stream": true})).body)
	if len(st.items) != 1 || st.items[0]["type"] != "function_call" || st.text[st.items[0]["id"].(string)] != `{"city":"Paris"}` {
		t.Errorf("call stream: %+v", st)
	}

	// The conversation so far, as input items: counted through usage (one
	// token per byte) against the text the template renders.
	turns := []any{
		map[string]any{"role": "user", "content": []any{map[string]any{"type": "input_text", "text": "Weather?"}}},
		map[string]any{"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": `{"city":"Paris"}`},
		map[string]any{"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
	}
	v = e.do("POST", "/v1/responses", responsesBody("org/Caller", map[string]any{"input": turns, "instructions": "Be brief.", "max_output_tokens": 1})).json(t)
	if got, want := get(t, v, "usage", "input_tokens"), float64(len("<|system|>Be brief.\n<|user|>Weather?\n<|assistant|>\n<|tool|>sunny\n<|assistant|>")); got != want {
		t.Errorf("input tokens %v, want %v", got, want)
	}

	for _, c := range []struct {
		body  map[string]any
		param string
	}{
		{responsesBody("org/Caller", map[string]any{"previous_response_id": "resp_1"}), "previous_response_id"},
		{responsesBody("org/Caller", map[string]any{"store": true}), "store"},
		{responsesBody("org/Caller", map[string]any{"tools": []any{map[string]any{"type": "web_search"}}}), "tools[0].type"},
		{responsesBody("org/Caller", map[string]any{"input": []any{map[string]any{"role": "user", "content": []any{map[string]any{"type": "input_image", "image_url": "x"}}}}}), "input[0].content[0].type"},
	} {
		r := e.do("POST", "/v1/responses", c.body)
		if r.status != 400 || get(t, r.json(t), "error", "param") != c.param {
			t.Errorf("%v: %d %s", c.body, r.status, r.body)
		}
	}
}
