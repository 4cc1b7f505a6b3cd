package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/internal/servetest"
	"github.com/mlxk/mlxk/shared/engine"
)

func TestConcurrentRequestsMatchSingle(t *testing.T) {
	// Greedy answers do not depend on what else is in the batch.
	e := newEnv(t, envOptions{batch: engine.BatcherOptions{MaxBatch: 4, MaxQueue: 8}})
	e.addModel("org/Tiny", "qwen2-q4", servetest.ChatTemplate)
	prompts := []string{"Hello", "Tell me a story", "What is two plus two?", "Bye", "Once upon a time", "Why?"}
	single := make([]string, len(prompts))
	for i, p := range prompts {
		v := e.do("POST", "/v1/chat/completions", chatBody("org/Tiny", p, map[string]any{"max_tokens": 12})).json(t)
		single[i] = get(t, v, "choices", 0, "message", "content").(string)
	}
	var wg sync.WaitGroup
	got := make([]string, len(prompts))
	for i, p := range prompts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := chatBody("org/Tiny", p, map[string]any{"max_tokens": 12, "stream": i%2 == 0})
			r := e.do("POST", "/v1/chat/completions", body)
			if i%2 == 0 {
				got[i] = collectChat(t, r.body).content
			} else {
				got[i] = get(t, r.json(t), "choices", 0, "message", "content").(string)
			}
		}()
	}
	wg.Wait()
	for i := range prompts {
		if got[i] != single[i] {
			t.Errorf("%q: concurrent %q, alone %q", prompts[i], got[i], single[i])
		}
	}
}

func TestRequestsShareDecodeSteps(t *testing.T) {
	// Four requests of 30 tokens at once take about 30 forward passes,
	// not 120: the Batcher decodes them together.
	var forwards atomic.Int64
	e := newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: "z", Repeat: true, Step: 2 * time.Millisecond, Forwards: &forwards},
		batch: engine.BatcherOptions{MaxBatch: 4, MaxQueue: 4}})
	e.addModel("org/Tiny", "llama-q4", servetest.ChatTemplate)
	e.do("POST", "/v1/chat/completions", chatBody("org/Tiny", "warm up", map[string]any{"max_tokens": 1}))
	forwards.Store(0)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.do("POST", "/v1/chat/completions", chatBody("org/Tiny", fmt.Sprintf("request %d", i), map[string]any{"max_tokens": 30}))
			if get(t, r.json(t), "usage", "completion_tokens") != float64(30) {
				t.Errorf("request %d: %s", i, r.body)
			}
		}()
	}
	wg.Wait()
	if n := forwards.Load(); n > 60 {
		t.Errorf("%d forward passes for 4×30 tokens: not batched", n)
	}
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (e *env) ps() map[string]any {
	v := e.do("GET", "/api/ps", nil).json(e.t)
	models := v["models"].([]any)
	if len(models) == 0 {
		return map[string]any{}
	}
	return models[0].(map[string]any)
}

// startStream opens a streamed request and reads its first event.
func (e *env) startStream(ctx context.Context, body map[string]any) (*http.Response, *bufio.Reader) {
	e.t.Helper()
	body["stream"] = true
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, "POST", e.ts.URL+"/v1/chat/completions", bytes.NewReader(b))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		e.t.Fatalf("stream status %d", resp.StatusCode)
	}
	rd := bufio.NewReader(resp.Body)
	if _, err := rd.ReadString('\n'); err != nil {
		e.t.Fatal(err)
	}
	return resp, rd
}

func TestQueueFullIs429(t *testing.T) {
	e := newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: "z", Repeat: true, Step: 5 * time.Millisecond},
		batch: engine.BatcherOptions{MaxBatch: 1, MaxQueue: 1}})
	e.addModel("org/Tiny", "llama-q4", servetest.ChatTemplate)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// One request runs, one waits in the queue.
	running, _ := e.startStream(ctx, chatBody("org/Tiny", "first", map[string]any{"max_tokens": 100000}))
	defer running.Body.Close()
	queued := make(chan response, 1)
	go func() {
		queued <- e.do("POST", "/v1/chat/completions", chatBody("org/Tiny", "second", map[string]any{"max_tokens": 3}))
	}()
	waitFor(t, "a queued request", func() bool { return e.ps()["queued"] == float64(1) })
	r := e.do("POST", "/v1/chat/completions", chatBody("org/Tiny", "third", nil))
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "1" {
		t.Fatalf("status %d Retry-After %q: %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	if get(t, r.json(t), "error", "code") != "queue_full" || get(t, r.json(t), "error", "type") != "rate_limit_error" {
		t.Errorf("%s", r.body)
	}
	// Ending the running request lets the queued one through.
	cancel()
	if q := <-queued; q.status != 200 {
		t.Errorf("queued request: %d %s", q.status, q.body)
	}
	if m := e.do("GET", "/metrics", nil); !strings.Contains(string(m.body), `mlxk_queue_rejections_total{model="org/Tiny"} 1`) {
		t.Errorf("metrics lack the rejection:\n%s", m.body)
	}
}

func TestDisconnectCancelsGeneration(t *testing.T) {
	var forwards atomic.Int64
	e := newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: "z", Repeat: true, Step: 2 * time.Millisecond, Forwards: &forwards}})
	e.addModel("org/Tiny", "llama-q4", servetest.ChatTemplate)
	ctx, cancel := context.WithCancel(context.Background())
	resp, rd := e.startStream(ctx, chatBody("org/Tiny", "go on forever", map[string]any{"max_tokens": 100000}))
	for range 3 {
		if _, err := rd.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	resp.Body.Close()
	waitFor(t, "the generation to stop", func() bool { return e.ps()["requests"] == float64(0) })
	n := forwards.Load()
	time.Sleep(50 * time.Millisecond)
	if more := forwards.Load() - n; more > 1 {
		t.Errorf("%d forward passes after the client left", more)
	}
	m := string(e.do("GET", "/metrics", nil).body)
	if !strings.Contains(m, `mlxk_generations_total{model="org/Tiny",endpoint="chat",outcome="cancelled"} 1`) {
		t.Errorf("metrics lack the cancellation:\n%s", m)
	}
}
