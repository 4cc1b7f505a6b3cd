package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mlxk/mlxk/shared/engine"
	"github.com/mlxk/mlxk/shared/engine/sample"
	"github.com/mlxk/mlxk/shared/engine/testmodel"
)

// letters decodes token id i as the letter 'a'+i%26, so generated text is
// easy to search for stop strings.
type letters struct{}

func (letters) Add(id int) string { return string(rune('a' + id%26)) }
func (letters) Flush() string     { return "" }

func load(t *testing.T, name string) engine.Model {
	t.Helper()
	spec, ok := testmodel.Lookup(name)
	if !ok {
		t.Fatalf("no test model %s", name)
	}
	dir := t.TempDir()
	if err := testmodel.Write(dir, spec); err != nil {
		t.Fatal(err)
	}
	m, err := engine.Native{}.Load(context.Background(), dir, engine.LoadOptions{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func greedy(t *testing.T) engine.TokenSampler {
	s, err := sample.NewSampler(sample.Params{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func run(t *testing.T, m engine.Model, req engine.Request) (string, []int32, engine.Result, error) {
	var text strings.Builder
	var ids []int32
	res, err := engine.Generate(context.Background(), m, req, func(tok engine.Token) error {
		text.WriteString(tok.Text)
		if tok.ID >= 0 {
			ids = append(ids, tok.ID)
		}
		return nil
	})
	return text.String(), ids, res, err
}

func TestGenerateLimitsAndEOS(t *testing.T) {
	m := load(t, "qwen2-q4")
	prompt := []int32{1, 17, 42, 99, 3, 200, 7}
	text, ids, res, err := run(t, m, engine.Request{Prompt: prompt, MaxTokens: 12, Sampler: greedy(t), Decoder: letters{}})
	if err != nil {
		t.Fatal(err)
	}
	if res.FinishReason != engine.FinishLength || res.GeneratedTokens != 12 || len(ids) != 12 || len([]rune(text)) != 12 {
		t.Fatalf("finish %q, %d tokens, %d ids, text %q", res.FinishReason, res.GeneratedTokens, len(ids), text)
	}
	// The model's own greedy continuation, checked against the torch
	// reference in model/golden_test.go, starts 0, 132, 28.
	if ids[0] != 0 || ids[1] != 132 || ids[2] != 28 {
		t.Fatalf("greedy ids %v", ids[:3])
	}
	// The third token as EOS: generation stops before it and its text is not emitted.
	text2, ids2, res2, err := run(t, m, engine.Request{Prompt: prompt, MaxTokens: 12, Sampler: greedy(t), Decoder: letters{}, EOS: []int32{28}})
	if err != nil {
		t.Fatal(err)
	}
	if res2.FinishReason != engine.FinishStop || res2.EOSToken != 28 || len(ids2) != 2 || text2 != text[:2] {
		t.Fatalf("EOS: finish %q eos %d ids %v text %q", res2.FinishReason, res2.EOSToken, ids2, text2)
	}
	if res.Seq.Len() != len(prompt)+11 {
		t.Fatalf("sequence holds %d tokens, want prompt + all but the last generated", res.Seq.Len())
	}
}

func TestGenerateStopStrings(t *testing.T) {
	m := load(t, "qwen2-q4")
	prompt := []int32{1, 17, 42, 99, 3, 200, 7}
	full, _, _, err := run(t, m, engine.Request{Prompt: prompt, MaxTokens: 12, Sampler: greedy(t), Decoder: letters{}})
	if err != nil {
		t.Fatal(err)
	}
	// Stop at a two-letter string from the middle, with a decoy that
	// starts earlier but never completes.
	stop := full[5:7]
	text, _, res, err := run(t, m, engine.Request{Prompt: prompt, MaxTokens: 12, Sampler: greedy(t), Decoder: letters{},
		Stop: []string{full[4:5] + "#", stop}})
	if err != nil {
		t.Fatal(err)
	}
	want := full[:strings.Index(full, stop)]
	if text != want || res.FinishReason != engine.FinishStop || res.StopString != stop {
		t.Fatalf("text %q finish %q stop %q; want %q at %q", text, res.FinishReason, res.StopString, want, stop)
	}
}

func TestGenerateReusesSequence(t *testing.T) {
	m := load(t, "llama-q8")
	prompt := []int32{5, 6, 7, 8, 9, 10}
	_, want, _, err := run(t, m, engine.Request{Prompt: prompt, MaxTokens: 6, Sampler: greedy(t), Decoder: letters{}})
	if err != nil {
		t.Fatal(err)
	}
	// A sequence that already holds the first four prompt tokens plus two
	// stale ones: Generate reuses four, recomputes the rest, same output.
	seq := m.NewSequence()
	if _, err := m.Forward(context.Background(), []engine.Step{{Seq: seq, Tokens: []int32{5, 6, 7, 8, 99, 98}}}); err != nil {
		t.Fatal(err)
	}
	seq.Truncate(4)
	_, got, res, err := run(t, m, engine.Request{Prompt: prompt, Seq: seq, MaxTokens: 6, Sampler: greedy(t), Decoder: letters{}})
	if err != nil {
		t.Fatal(err)
	}
	if res.CachedTokens != 4 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("cached %d, ids %v, want %v", res.CachedTokens, got, want)
	}
}

func TestGenerateCancel(t *testing.T) {
	m := load(t, "qwen3-q4")
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	res, err := engine.Generate(ctx, m, engine.Request{Prompt: []int32{1, 2, 3}, MaxTokens: 1000, Sampler: greedy(t), Decoder: letters{}},
		func(engine.Token) error {
			if n++; n == 3 {
				cancel()
			}
			return nil
		})
	if !errors.Is(err, context.Canceled) || res.GeneratedTokens != 3 {
		t.Fatalf("err %v after %d tokens", err, res.GeneratedTokens)
	}
	if _, err := engine.Generate(context.Background(), m, engine.Request{Sampler: greedy(t), Decoder: letters{}}, nil); !errors.Is(err, engine.ErrEmptyPrompt) {
		t.Fatalf("empty prompt: %v", err)
	}
}

func TestLoadRefusesOverBudget(t *testing.T) {
	spec, _ := testmodel.Lookup("qwen2-f32")
	dir := t.TempDir()
	if err := testmodel.Write(dir, spec); err != nil {
		t.Fatal(err)
	}
	est, err := engine.Native{}.Estimate(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = engine.Native{}.Load(context.Background(), dir, engine.LoadOptions{MemoryLimit: est.Total(100) - 1, ContextTokens: 100})
	if !errors.Is(err, engine.ErrTooLarge) {
		t.Fatalf("over budget: %v", err)
	}
	m, err := engine.Native{}.Load(context.Background(), dir, engine.LoadOptions{MemoryLimit: est.Total(100), ContextTokens: 100})
	if err != nil {
		t.Fatal(err)
	}
	if info := m.Info(); info.Vocab != 256 || info.ModelType != "qwen2" || info.Estimate.WeightBytes <= 0 {
		t.Fatalf("info %+v", info)
	}
	m.Close()
}
