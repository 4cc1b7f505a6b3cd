package httpapi

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"testing"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/internal/servetest"
)

func vector(t *testing.T, v any) []float64 {
	t.Helper()
	switch x := v.(type) {
	case []any:
		out := make([]float64, len(x))
		for i, f := range x {
			out[i] = f.(float64)
		}
		return out
	case string:
		b, err := base64.StdEncoding.DecodeString(x)
		if err != nil || len(b)%4 != 0 {
			t.Fatalf("base64 vector %q: %v", x, err)
		}
		out := make([]float64, len(b)/4)
		for i := range out {
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])))
		}
		return out
	}
	t.Fatalf("embedding %T", v)
	return nil
}

func l2(v []float64) float64 {
	var ss float64
	for _, x := range v {
		ss += x * x
	}
	return math.Sqrt(ss)
}

// TestEmbeddings: /v1/embeddings answers OpenAI's list of unit vectors,
// as floats or base64 of the same float32s, for texts or token ids; usage
// counts the tokens; dimensions keeps the first values, renormalized; an
// embedding-only model embeds but does not chat, and /v1/models lists it
// with its capability; bad inputs are typed 400s.
func TestEmbeddings(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.addModel("org/Tiny", "llama-q4", servetest.ChatTemplate)
	e.addModel("org/Tiny-Embedding", "qwen3-q4", "")

	v := e.do("POST", "/v1/embeddings", map[string]any{"model": "org/Tiny", "input": []any{"Noah", "Rain falls"}}).json(t)
	data := v["data"].([]any)
	if v["object"] != "list" || v["model"] != "org/Tiny" || len(data) != 2 || get(t, data[1], "index") != float64(1) || get(t, data[0], "object") != "embedding" {
		t.Fatalf("answer %v", v)
	}
	first := vector(t, get(t, data[0], "embedding"))
	if math.Abs(l2(first)-1) > 1e-5 || len(first) < 8 {
		t.Errorf("not a unit vector: %d values, norm %g", len(first), l2(first))
	}
	if got := get(t, v, "usage", "prompt_tokens"); got != float64(len("Noah")+len("Rain falls")) || get(t, v, "usage", "total_tokens") != got {
		t.Errorf("usage %v", v["usage"])
	}

	// base64 carries the same float32s; token ids embed as their text does.
	b := e.do("POST", "/v1/embeddings", map[string]any{"model": "org/Tiny", "input": "Noah", "encoding_format": "base64"}).json(t)
	ids := e.do("POST", "/v1/embeddings", map[string]any{"model": "org/Tiny", "input": []any{'N', 'o', 'a', 'h'}}).json(t)
	for _, other := range []any{get(t, b, "data", 0, "embedding"), get(t, ids, "data", 0, "embedding")} {
		w := vector(t, other)
		for i := range first {
			if math.Abs(w[i]-first[i]) > 1e-6 {
				t.Fatalf("value %d: %g, want %g", i, w[i], first[i])
			}
		}
	}
	short := vector(t, get(t, e.do("POST", "/v1/embeddings", map[string]any{"model": "org/Tiny", "input": "Noah", "dimensions": 4}).json(t), "data", 0, "embedding"))
	if len(short) != 4 || math.Abs(l2(short)-1) > 1e-5 || math.Abs(short[0]-first[0]/l2(first[:4])) > 1e-5 {
		t.Errorf("dimensions 4: %v", short)
	}

	// An embedding-only model: embeds, does not chat, listed as such.
	if r := e.do("POST", "/v1/embeddings", map[string]any{"model": "org/Tiny-Embedding", "input": "Noah"}); r.status != 200 {
		t.Errorf("embedding model: %d %s", r.status, r.body)
	}
	r := e.do("POST", "/v1/chat/completions", chatBody("org/Tiny-Embedding", "Hi", nil))
	if r.status != 400 || get(t, r.json(t), "error", "code") != "model_incompatible" {
		t.Errorf("chat with an embedding model: %d %s", r.status, r.body)
	}
	found := false
	for _, m := range e.do("GET", "/v1/models", nil).json(t)["data"].([]any) {
		if get(t, m, "id") == "org/Tiny-Embedding" {
			found = true
			if caps := get(t, m, "capabilities").([]any); len(caps) != 1 || caps[0] != "embeddings" {
				t.Errorf("capabilities %v", caps)
			}
		}
	}
	if !found {
		t.Error("/v1/models does not list the embedding model")
	}

	for _, c := range []struct {
		body  map[string]any
		param string
	}{
		{map[string]any{"model": "org/Tiny", "input": []any{"a", ""}}, "input"},
		{map[string]any{"model": "org/Tiny", "input": []any{"a", []any{1}}}, "input"},
		{map[string]any{"model": "org/Tiny", "input": []any{9999}}, "input"},
		{map[string]any{"model": "org/Tiny", "input": "a", "encoding_format": "hex"}, "encoding_format"},
		{map[string]any{"model": "org/Tiny", "input": string(make([]byte, 2000))}, "input"},
		{map[string]any{"model": "org/Tiny"}, "input"},
	} {
		r := e.do("POST", "/v1/embeddings", c.body)
		if r.status != 400 || get(t, r.json(t), "error", "param") != c.param {
			t.Errorf("%v: %d %s", c.body, r.status, r.body)
		}
	}

	// A backend without hidden states says so.
	s := newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: "x"}})
	s.addModel("org/Scripted", "llama-q4", servetest.ChatTemplate)
	r = s.do("POST", "/v1/embeddings", map[string]any{"model": "org/Scripted", "input": "a"})
	if r.status != 400 || get(t, r.json(t), "error", "code") != "unsupported_value" {
		t.Errorf("script backend: %d %s", r.status, r.body)
	}
}
