package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mlxk/mlxk/shared/engine"
	"github.com/mlxk/mlxk/shared/engine/kernels"
)

// result is one engine's figures; bench/engine/llama.mjs prints the same
// fields for llama.cpp.
type result struct {
	Engine      string  `json:"engine"`
	Model       string  `json:"model"`
	Threads     int     `json:"threads"`
	LoadS       float64 `json:"load_s"`
	TTFTms      float64 `json:"ttft32_ms"`
	TTFTWarmms  float64 `json:"ttft32_warm_ms"` // again, weights' pages already mapped
	PrefillTokS float64 `json:"prefill_tok_s"`
	DecodeTokS  float64 `json:"decode_tok_s"`  // 128 tokens after the 512-token prompt
	Decode0TokS float64 `json:"decode0_tok_s"` // 128 tokens from an empty context (llama-bench tg128)
	// Batch sequences decoding together, one token each per forward call
	// (the server's continuous batching), after a 32-token prompt each:
	// all sequences' tokens per second, and the same per CPU-second.
	Batch          int     `json:"batch,omitempty"`
	BatchTokS      float64 `json:"batch_decode_tok_s,omitempty"`
	BatchCPUTokS   float64 `json:"batch_decode_tok_cpu_s,omitempty"`
	Decode0CPUTokS float64 `json:"decode0_tok_cpu_s"` // decode0_tok_s per CPU-second
	PeakRSSMB      float64 `json:"peak_rss_mb"`
	WeightMB       float64 `json:"weight_mb"`
	KVMB           float64 `json:"kv_mb"`
	PromptTokens   int     `json:"prompt_tokens"`
	Chunk          int     `json:"chunk,omitempty"`
	GenTokens      int     `json:"gen_tokens"`
	CPUs           float64 `json:"cpu_s"` // user+system CPU time of the process
}

func runMain(args []string) error {
	engine.LimitGarbage() // as mlxk run and mlxk serve
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	dir := fs.String("dir", "", "model folder")
	threads := fs.Int("threads", 2, "compute threads")
	prompt := fs.Int("prompt", 512, "prompt tokens for the prefill figure")
	gen := fs.Int("gen", 128, "generated tokens for the decode figures")
	reps := fs.Int("reps", 2, "prefill repetitions (the best is reported)")
	chunk := fs.Int("chunk", 512, "prefill chunk: prompt tokens per forward call, as engine.Generate's PrefillChunk")
	batch := fs.Int("batch", 8, "sequences for the batched decode figure (0: skip it)")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the prefill and decode runs")
	fs.Parse(args)
	runtime.GOMAXPROCS(max(*threads, 1))

	ctx := context.Background()
	t0 := time.Now()
	m, err := engine.Native{}.Load(ctx, *dir, engine.LoadOptions{Threads: *threads})
	if err != nil {
		return err
	}
	defer m.Close()
	info := m.Info()
	res := result{Engine: "mlxk-go", Model: info.ModelType, Threads: *threads, LoadS: time.Since(t0).Seconds(),
		WeightMB: float64(info.Estimate.WeightBytes) / 1e6, PromptTokens: *prompt, GenTokens: *gen, Chunk: *chunk}
	toks := tokenIDs(*prompt, info.Vocab)

	// Time to first token: a 32-token prompt right after loading.
	t0 = time.Now()
	seq := m.NewSequence()
	logits, err := m.Forward(ctx, []engine.Step{{Seq: seq, Tokens: toks[:32]}})
	if err != nil {
		return err
	}
	_ = kernels.Argmax(logits[0])
	res.TTFTms = float64(time.Since(t0).Microseconds()) / 1e3
	// The same once more: the first run also paid for mapping the weight
	// pages into the process (the engine maps them lazily).
	t0 = time.Now()
	if logits, err = m.Forward(ctx, []engine.Step{{Seq: m.NewSequence(), Tokens: toks[:32]}}); err != nil {
		return err
	}
	_ = kernels.Argmax(logits[0])
	res.TTFTWarmms = float64(time.Since(t0).Microseconds()) / 1e3

	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	// Prefill: the best of reps runs of the whole prompt, in chunks.
	var best time.Duration
	for r := 0; r < *reps; r++ {
		seq = m.NewSequence()
		t0 = time.Now()
		for pos := 0; pos < len(toks); pos += *chunk {
			if logits, err = m.Forward(ctx, []engine.Step{{Seq: seq, Tokens: toks[pos:min(pos+*chunk, len(toks))]}}); err != nil {
				return err
			}
		}
		if d := time.Since(t0); r == 0 || d < best {
			best = d
		}
	}
	res.PrefillTokS = float64(*prompt) / best.Seconds()

	// Decode after the prompt, greedy.
	if res.DecodeTokS, err = decode(ctx, m, seq, logits[0], *gen); err != nil {
		return err
	}
	res.KVMB = float64(seq.Bytes()) / 1e6
	// Decode from an empty context.
	seq = m.NewSequence()
	if logits, err = m.Forward(ctx, []engine.Step{{Seq: seq, Tokens: toks[:1]}}); err != nil {
		return err
	}
	cpu0 := processCPU()
	if res.Decode0TokS, err = decode(ctx, m, seq, logits[0], *gen); err != nil {
		return err
	}
	res.Decode0CPUTokS = float64(*gen) / (processCPU() - cpu0).Seconds()
	res.PeakRSSMB = peakRSSMB() // one sequence's, as llama.cpp's figure
	if *batch > 0 {
		res.Batch = *batch
		if res.BatchTokS, res.BatchCPUTokS, err = decodeBatch(ctx, m, toks[:32], *batch, *gen); err != nil {
			return err
		}
	}
	res.CPUs = processCPU().Seconds()
	return json.NewEncoder(os.Stdout).Encode(res)
}

// processCPU is the user+system CPU time of the process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// decodeBatch reads the prompt into n sequences (each its own copy, in one
// forward call), then decodes gen tokens greedily with all n stepping
// together, and returns the tokens per second of all sequences, by wall
// time and by CPU time.
func decodeBatch(ctx context.Context, m engine.Model, prompt []int32, n, gen int) (wall, cpu float64, err error) {
	seqs := make([]engine.Sequence, n)
	steps := make([]engine.Step, n)
	for i := range seqs {
		seqs[i] = m.NewSequence()
		steps[i] = engine.Step{Seq: seqs[i], Tokens: prompt}
	}
	out, err := m.Forward(ctx, steps)
	if err != nil {
		return 0, 0, err
	}
	next := make([][]int32, n)
	t0, cpu0 := time.Now(), processCPU()
	for g := 0; g < gen; g++ {
		for i := range steps {
			next[i] = append(next[i][:0], kernels.Argmax(out[i]))
			steps[i] = engine.Step{Seq: seqs[i], Tokens: next[i]}
		}
		if r, ok := m.(engine.Recycler); ok {
			r.Recycle(out)
		}
		if out, err = m.Forward(ctx, steps); err != nil {
			return 0, 0, err
		}
	}
	toks := float64(n * gen)
	return toks / time.Since(t0).Seconds(), toks / (processCPU() - cpu0).Seconds(), nil
}

func decode(ctx context.Context, m engine.Model, seq engine.Sequence, logits []float32, n int) (float64, error) {
	t0 := time.Now()
	var prev [][]float32
	for i := 0; i < n; i++ {
		tok := kernels.Argmax(logits)
		if r, ok := m.(engine.Recycler); ok && prev != nil {
			r.Recycle(prev) // as engine.Generate does
		}
		out, err := m.Forward(ctx, []engine.Step{{Seq: seq, Tokens: []int32{tok}}})
		if err != nil {
			return 0, err
		}
		prev, logits = out, out[0]
	}
	return float64(n) / time.Since(t0).Seconds(), nil
}

// tokenIDs is a fixed pseudo-random prompt (the same LCG as llama.mjs).
func tokenIDs(n, vocab int) []int32 {
	out := make([]int32, n)
	x := uint32(12345)
	for i := range out {
		x = x*1664525 + 1013904223
		out[i] = int32(x>>8) % int32(vocab)
	}
	return out
}

// peakRSSMB reads the high-water mark of the resident set (VmHWM), which
// counts the mapped weight pages the process touched.
func peakRSSMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1e3
		}
	}
	return 0
}
