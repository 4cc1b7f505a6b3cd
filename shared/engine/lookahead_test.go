package engine_test

import (
	"context"
	"slices"
	"testing"

	"github.com/mlxk/mlxk/shared/engine"
	"github.com/mlxk/mlxk/shared/engine/sample"
	"github.com/mlxk/mlxk/shared/tokenizer"
)

// TestLookaheadKeepsTheOutput: prompt-lookup drafts change how many
// forward passes a generation takes, never what it generates: greedy and
// seeded sampling give the same tokens, finish and counts with and
// without lookahead, stop strings and limits included. A random model
// rarely repeats itself, so the demo model (trained), continuing a verse
// its prompt quotes, is where drafts are fed and kept.
func TestLookaheadKeepsTheOutput(t *testing.T) {
	m := load(t, "qwen2-q4")
	prompt := []int32{5, 6, 7, 8, 9, 5, 6, 7, 8, 9, 5, 6, 7}
	seeded := func() engine.TokenSampler {
		seed := uint64(11)
		s, err := sample.NewSampler(sample.Params{Temperature: 0.8, TopP: 0.95, RepetitionPenalty: 1.1, Seed: &seed})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, c := range []struct {
		name    string
		sampler func() engine.TokenSampler
		stop    []string
		max     int
	}{
		{"greedy", func() engine.TokenSampler { return greedy(t) }, nil, 40},
		{"seeded", seeded, nil, 40},
		{"stop string", func() engine.TokenSampler { return greedy(t) }, []string{"hij"}, 40},
		{"short", func() engine.TokenSampler { return greedy(t) }, nil, 3},
	} {
		base := engine.Request{Prompt: prompt, MaxTokens: c.max, Sampler: c.sampler(), Decoder: letters{}, Stop: c.stop}
		wantText, wantIDs, wantRes, err := run(t, m, base)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []int{1, 4, 8} {
			req := base
			req.Sampler, req.Lookahead = c.sampler(), k
			text, ids, res, err := run(t, m, req)
			if err != nil {
				t.Fatal(err)
			}
			if text != wantText || !slices.Equal(ids, wantIDs) || res.FinishReason != wantRes.FinishReason ||
				res.GeneratedTokens != wantRes.GeneratedTokens || res.StopString != wantRes.StopString {
				t.Fatalf("%s, lookahead %d: %q %v %+v\nwant %q %v %+v", c.name, k, text, ids, res, wantText, wantIDs, wantRes)
			}
			if res.AcceptedTokens > res.DraftTokens {
				t.Errorf("%s: %d of %d drafts kept", c.name, res.AcceptedTokens, res.DraftTokens)
			}
		}
	}

	// A trained model quoting: drafts are kept, the text is the same.
	demo, ids := quotingDemo(t)
	for _, c := range []struct {
		name    string
		sampler func() engine.TokenSampler
	}{{"greedy", func() engine.TokenSampler { return greedy(t) }}, {"seeded", seeded}} {
		base := engine.Request{Prompt: ids, MaxTokens: 32, Sampler: c.sampler(), Decoder: letters{}}
		_, wantIDs, _, err := run(t, demo, base)
		if err != nil {
			t.Fatal(err)
		}
		base.Sampler, base.Lookahead = c.sampler(), 6
		_, got, res, err := run(t, demo, base)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, wantIDs) {
			t.Errorf("demo %s: %v (%d of %d drafts kept)\nwant %v", c.name, got, res.AcceptedTokens, res.DraftTokens, wantIDs)
		}
		if c.name == "greedy" && res.AcceptedTokens == 0 {
			t.Errorf("demo greedy: none of %d drafts kept", res.DraftTokens)
		}
		t.Logf("demo %s: %d of %d drafts kept for %d tokens", c.name, res.AcceptedTokens, res.DraftTokens, res.GeneratedTokens)
	}
}

// TestBatcherLookahead: a request alone in the Batcher drafts by prompt
// lookup as Generate does, with the same tokens as without; requests
// together draft only while one runs alone, with the same tokens.
func TestBatcherLookahead(t *testing.T) {
	demo, ids := quotingDemo(t)
	_, want, _, err := run(t, demo, engine.Request{Prompt: ids, MaxTokens: 32, Sampler: greedy(t), Decoder: letters{}})
	if err != nil {
		t.Fatal(err)
	}
	b := engine.NewBatcher(demo, engine.BatcherOptions{PromptCacheEntries: -1})
	defer b.Close()
	gen := func(prompt []int32) ([]int32, engine.Result) {
		var got []int32
		res, err := b.Generate(context.Background(), engine.Request{Prompt: prompt, MaxTokens: 32, Sampler: greedy(t), Decoder: letters{}, Lookahead: 6},
			func(tk engine.Token) error {
				if tk.ID >= 0 {
					got = append(got, tk.ID)
				}
				return nil
			})
		if err != nil {
			t.Fatal(err)
		}
		return got, res
	}
	got, res := gen(ids)
	if !slices.Equal(got, want) || res.AcceptedTokens == 0 || res.AcceptedTokens > res.DraftTokens {
		t.Errorf("alone: %v (%d of %d drafts kept)\nwant %v", got, res.AcceptedTokens, res.DraftTokens, want)
	}
	// Two at once: no drafts, same tokens.
	done := make(chan struct{})
	var other []int32
	go func() {
		defer close(done)
		other, _ = gen(ids)
	}()
	got2, _ := gen(ids)
	<-done
	if !slices.Equal(got2, want) || !slices.Equal(other, want) {
		t.Errorf("together: %v and %v\nwant %v", got2, other, want)
	}
}

// quotingDemo loads the demo model (trained, so it repeats what it read)
// and a prompt that quotes a verse and starts it again: where prompt
// lookup finds drafts worth keeping. The model closes with the test.
func quotingDemo(t *testing.T) (engine.Model, []int32) {
	t.Helper()
	demo, err := engine.Native{}.Load(context.Background(), "../../demo/model", engine.LoadOptions{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { demo.Close() })
	tok, err := tokenizer.Load("../../demo/model")
	if err != nil {
		t.Fatal(err)
	}
	verse := "In the beginning God created the heaven and the earth. And the earth was without form, and void."
	return demo, tok.EncodeIDs(verse+"\n"+verse[:40], true)
}
