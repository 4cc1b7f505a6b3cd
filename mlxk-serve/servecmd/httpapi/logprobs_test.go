package httpapi

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/internal/servetest"
)

// TestCompletionLogprobs: legacy completions logprobs, whole and streamed,
// describe the same tokens: one entry per generated token, texts that
// make up the answer at their text offsets, and top alternatives as asked.
func TestCompletionLogprobs(t *testing.T) {
	e := newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: "Hello world."}})
	e.addModel("org/Tiny", "llama-q4", servetest.ChatTemplate)
	body := map[string]any{"model": "org/Tiny", "prompt": "Say:<|assistant|>", "max_tokens": 5, "temperature": 0, "logprobs": 2}
	type logprobs struct {
		Tokens        []string             `json:"tokens"`
		TokenLogprobs []float64            `json:"token_logprobs"`
		TopLogprobs   []map[string]float64 `json:"top_logprobs"`
		TextOffset    []int                `json:"text_offset"`
	}
	var whole struct {
		Choices []struct {
			Text     string   `json:"text"`
			Logprobs logprobs `json:"logprobs"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(e.do("POST", "/v1/completions", body).body, &whole); err != nil {
		t.Fatal(err)
	}
	w := whole.Choices[0]
	text := ""
	for i, tok := range w.Logprobs.Tokens {
		if w.Logprobs.TextOffset[i] != len(text) || len(w.Logprobs.TopLogprobs[i]) != 2 || w.Logprobs.TokenLogprobs[i] > 0 {
			t.Errorf("token %d %q: offset %d (want %d), top %v, logprob %v", i, tok, w.Logprobs.TextOffset[i], len(text), w.Logprobs.TopLogprobs[i], w.Logprobs.TokenLogprobs[i])
		}
		text += tok
	}
	if len(w.Logprobs.Tokens) != 5 || text != w.Text || w.Text != "Hello" {
		t.Fatalf("whole: %d tokens making %q of %q", len(w.Logprobs.Tokens), text, w.Text)
	}

	body["stream"] = true
	var streamed logprobs
	for _, ev := range events(t, e.do("POST", "/v1/completions", body).body) {
		if ev == "[DONE]" {
			break
		}
		var c struct {
			Choices []struct {
				Logprobs *logprobs `json:"logprobs"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(ev), &c); err != nil {
			t.Fatal(err)
		}
		if len(c.Choices) == 1 && c.Choices[0].Logprobs != nil {
			lp := c.Choices[0].Logprobs
			streamed.Tokens = append(streamed.Tokens, lp.Tokens...)
			streamed.TextOffset = append(streamed.TextOffset, lp.TextOffset...)
			streamed.TokenLogprobs = append(streamed.TokenLogprobs, lp.TokenLogprobs...)
		}
	}
	if !slices.Equal(streamed.Tokens, w.Logprobs.Tokens) || !slices.Equal(streamed.TextOffset, w.Logprobs.TextOffset) ||
		!slices.Equal(streamed.TokenLogprobs, w.Logprobs.TokenLogprobs) {
		t.Errorf("streamed %+v\nwhole %+v", streamed, w.Logprobs)
	}
}
