package engine_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mlxk/mlxk/shared/engine"
)

// TestBatcherMatchesSequential: requests served together produce exactly
// the tokens each produces alone (greedy), with prompts of different
// lengths joining while others decode.
func TestBatcherMatchesSequential(t *testing.T) {
	m := load(t, "qwen3-q4")
	prompts := [][]int32{{1, 2, 3}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 11, 12}, {200}, {42, 42, 42, 42}, {7, 100, 3}}
	want := make([][]int32, len(prompts))
	for i, p := range prompts {
		_, ids, _, err := run(t, m, engine.Request{Prompt: p, MaxTokens: 10 + i, Sampler: greedy(t), Decoder: letters{}})
		if err != nil {
			t.Fatal(err)
		}
		want[i] = ids
	}
	b := engine.NewBatcher(m, engine.BatcherOptions{MaxBatch: 3, PromptCacheEntries: -1})
	defer b.Close()
	got := make([][]int32, len(prompts))
	errs := make([]error, len(prompts))
	var wg sync.WaitGroup
	for i, p := range prompts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = b.Generate(context.Background(), engine.Request{Prompt: p, MaxTokens: 10 + i, Sampler: greedy(t), Decoder: letters{}},
				func(tok engine.Token) error {
					if tok.ID >= 0 {
						got[i] = append(got[i], tok.ID)
					}
					return nil
				})
		}()
	}
	wg.Wait()
	for i := range prompts {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		if fmt.Sprint(got[i]) != fmt.Sprint(want[i]) {
			t.Errorf("request %d: batched %v, alone %v", i, got[i], want[i])
		}
	}
}

// TestBatcherPromptCache: a second request that extends the first one's
// conversation reuses its positions and still gives the right tokens.
func TestBatcherPromptCache(t *testing.T) {
	m := load(t, "llama-q4")
	b := engine.NewBatcher(m, engine.BatcherOptions{})
	defer b.Close()
	first := []int32{5, 6, 7, 8, 9}
	var gen []int32
	res, err := b.Generate(context.Background(), engine.Request{Prompt: first, MaxTokens: 4, Sampler: greedy(t), Decoder: letters{}},
		func(tok engine.Token) error { gen = append(gen, tok.ID); return nil })
	if err != nil || res.CachedTokens != 0 {
		t.Fatalf("first: %v, cached %d", err, res.CachedTokens)
	}
	second := append(append(append([]int32{}, first...), gen...), 3, 4)
	_, want, _, err := run(t, m, engine.Request{Prompt: second, MaxTokens: 5, Sampler: greedy(t), Decoder: letters{}})
	if err != nil {
		t.Fatal(err)
	}
	var got []int32
	res, err = b.Generate(context.Background(), engine.Request{Prompt: second, MaxTokens: 5, Sampler: greedy(t), Decoder: letters{}},
		func(tok engine.Token) error { got = append(got, tok.ID); return nil })
	if err != nil {
		t.Fatal(err)
	}
	// The first sequence holds its prompt and 3 of its 4 tokens.
	if res.CachedTokens != len(first)+3 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("cached %d, got %v, want %v", res.CachedTokens, got, want)
	}
	if s := b.Stats(); s.PromptCacheEntries != 1 || s.PromptCacheBytes <= 0 || s.Active != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// TestBatcherQueueAndCancel: a full queue fails fast; a cancelled or
// abandoned request ends without stopping the others; Close fails new work.
func TestBatcherQueueAndCancel(t *testing.T) {
	m := load(t, "qwen2-q4")
	b := engine.NewBatcher(m, engine.BatcherOptions{MaxBatch: 1, MaxQueue: 1})
	started := make(chan struct{})
	release := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // occupies the only slot until released
		defer wg.Done()
		n := 0
		b.Generate(context.Background(), engine.Request{Prompt: []int32{1}, MaxTokens: 1000, Sampler: greedy(t), Decoder: letters{}},
			func(engine.Token) error {
				if n++; n == 1 {
					close(started)
					<-release
					return errors.New("client went away")
				}
				return nil
			})
	}()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	queued := make(chan error, 1)
	go func() {
		_, err := b.Generate(ctx, engine.Request{Prompt: []int32{2}, MaxTokens: 5, Sampler: greedy(t), Decoder: letters{}}, func(engine.Token) error { return nil })
		queued <- err
	}()
	for b.Stats().Queued != 1 {
	}
	if _, err := b.Generate(context.Background(), engine.Request{Prompt: []int32{3}, MaxTokens: 5, Sampler: greedy(t), Decoder: letters{}}, nil); !errors.Is(err, engine.ErrQueueFull) {
		t.Fatalf("third request: %v, want ErrQueueFull", err)
	}
	cancel()
	close(release)
	if err := <-queued; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled request: %v", err)
	}
	wg.Wait()
	b.Close()
	if _, err := b.Generate(context.Background(), engine.Request{Prompt: []int32{3}, MaxTokens: 5, Sampler: greedy(t), Decoder: letters{}}, nil); !errors.Is(err, engine.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

// countingModel counts the prompt tokens computed in chunks of more than
// one token; its first forward pass waits for gate to close.
type countingModel struct {
	engine.Model
	gate   chan struct{}
	once   sync.Once
	mu     sync.Mutex
	chunks int
}

func (c *countingModel) Forward(ctx context.Context, steps []engine.Step) ([][]float32, error) {
	c.once.Do(func() { <-c.gate })
	c.mu.Lock()
	for _, s := range steps {
		if len(s.Tokens) > 1 {
			c.chunks += len(s.Tokens)
		}
	}
	c.mu.Unlock()
	return c.Model.Forward(ctx, steps)
}

// TestBatcherSharesPrefill: concurrent requests with the same prompt (the
// n choices of one API request) compute it once; the others copy it and
// still produce exactly the tokens they produce alone.
func TestBatcherSharesPrefill(t *testing.T) {
	m := load(t, "llama-q4")
	prompt := make([]int32, 40)
	for i := range prompt {
		prompt[i] = int32(3 + i*7%50)
	}
	_, want, _, err := run(t, m, engine.Request{Prompt: prompt, MaxTokens: 12, Sampler: greedy(t), Decoder: letters{}})
	if err != nil {
		t.Fatal(err)
	}
	cm := &countingModel{Model: m, gate: make(chan struct{})}
	b := engine.NewBatcher(cm, engine.BatcherOptions{MaxBatch: 4, PromptCacheEntries: -1})
	defer b.Close()
	const n = 3
	got := make([][]int32, n)
	res := make([]engine.Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i], errs[i] = b.Generate(context.Background(), engine.Request{Prompt: prompt, MaxTokens: 12, Sampler: greedy(t), Decoder: letters{}},
				func(tok engine.Token) error {
					if tok.ID >= 0 {
						got[i] = append(got[i], tok.ID)
					}
					return nil
				})
		}()
	}
	// The first request's prefill waits until the others are queued, so
	// they join while it runs (otherwise it could finish before they come).
	for b.Stats().Active+b.Stats().Queued < n {
		time.Sleep(time.Millisecond)
	}
	close(cm.gate)
	wg.Wait()
	shared := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		if fmt.Sprint(got[i]) != fmt.Sprint(want) {
			t.Errorf("request %d: %v, alone %v", i, got[i], want)
		}
		if res[i].CachedTokens == len(prompt)-1 {
			shared++
		}
	}
	if shared != n-1 || cm.chunks > len(prompt) {
		t.Fatalf("%d of %d requests copied the prompt; %d prompt tokens computed in chunks, want at most %d", shared, n-1, cm.chunks, len(prompt))
	}
}
