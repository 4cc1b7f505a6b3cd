package httpapi

import (
	"encoding/json"
	"testing"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/internal/servetest"
)

// TestChoicesSeeded: with n > 1 and a seed, choice i is exactly the
// answer of a single request seeded seed+i (so the choices differ and
// each can be reproduced alone); usage counts the prompt once and every
// choice's tokens.
func TestChoicesSeeded(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.addModel("mlx-community/Tiny-4bit", "llama-q4", servetest.ChatTemplate)
	params := map[string]any{"n": 3, "seed": 7, "temperature": 1.5, "top_p": 1, "max_tokens": 12}
	v := e.do("POST", "/v1/chat/completions", chatBody("Tiny-4bit", "Hello there", params)).json(t)
	choices := get(t, v, "choices").([]any)
	if len(choices) != 3 {
		t.Fatalf("%d choices: %v", len(choices), v)
	}
	completion := 0.0
	for i, c := range choices {
		if idx := get(t, c, "index"); idx != float64(i) {
			t.Fatalf("choice %d has index %v", i, idx)
		}
		one := map[string]any{"seed": 7 + i, "temperature": 1.5, "top_p": 1, "max_tokens": 12}
		w := e.do("POST", "/v1/chat/completions", chatBody("Tiny-4bit", "Hello there", one)).json(t)
		got, want := get(t, c, "message", "content"), get(t, w, "choices", 0, "message", "content")
		if got != want {
			t.Errorf("choice %d: %q, alone with seed %d: %q", i, got, 7+i, want)
		}
		completion += get(t, w, "usage", "completion_tokens").(float64)
	}
	if get(t, choices[0], "message", "content") == get(t, choices[1], "message", "content") &&
		get(t, choices[1], "message", "content") == get(t, choices[2], "message", "content") {
		t.Error("three seeded choices are identical")
	}
	u := get(t, v, "usage").(map[string]any)
	if u["completion_tokens"] != completion || u["total_tokens"] != u["prompt_tokens"].(float64)+completion {
		t.Errorf("usage %v, want completion_tokens %v", u, completion)
	}
}

// TestChoicesStreamed: streamed choices carry their index, each opens
// with the role and ends with its own finish chunk, and the usage chunk
// sums them; the text completions endpoint does the same.
func TestChoicesStreamed(t *testing.T) {
	e := newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: "hello"}})
	e.addModel("org/Plain", "llama-q4", servetest.ChatTemplate)
	body := chatBody("org/Plain", "hi", map[string]any{"n": 2, "stream": true, "stream_options": map[string]any{"include_usage": true}})
	evs := events(t, e.do("POST", "/v1/chat/completions", body).body)
	content := map[float64]string{}
	roles, finishes := map[float64]int{}, map[float64]string{}
	var usage map[string]any
	for _, ev := range evs[:len(evs)-1] {
		var c map[string]any
		if err := json.Unmarshal([]byte(ev), &c); err != nil {
			t.Fatal(err)
		}
		ch := c["choices"].([]any)
		if len(ch) == 0 {
			usage = c["usage"].(map[string]any)
			continue
		}
		idx := get(t, ch[0], "index").(float64)
		d := get(t, ch[0], "delta").(map[string]any)
		if d["role"] == "assistant" {
			roles[idx]++
		}
		if s, ok := d["content"].(string); ok {
			content[idx] += s
		}
		if f, ok := ch[0].(map[string]any)["finish_reason"].(string); ok {
			finishes[idx] = f
		}
	}
	for _, i := range []float64{0, 1} {
		if content[i] != "hello" || roles[i] != 1 || finishes[i] != "stop" {
			t.Errorf("choice %v: content %q, %d role chunks, finish %q", i, content[i], roles[i], finishes[i])
		}
	}
	if usage == nil || usage["completion_tokens"] != float64(10) {
		t.Errorf("usage %v, want 10 completion tokens (5 per choice)", usage)
	}
	if evs[len(evs)-1] != "[DONE]" {
		t.Fatal("no [DONE]")
	}

	v := e.do("POST", "/v1/completions", map[string]any{"model": "org/Plain", "prompt": "x<|assistant|>", "n": 2, "max_tokens": 10}).json(t)
	cs := get(t, v, "choices").([]any)
	if len(cs) != 2 || get(t, cs[0], "text") != "hello" || get(t, cs[1], "text") != "hello" || get(t, cs[1], "index") != float64(1) {
		t.Errorf("completions with n=2: %v", v)
	}
}
