package engine

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// ErrQueueFull reports that a Batcher already holds as many waiting
// requests as it may; servers answer 429.
var ErrQueueFull = errors.New("generation queue is full")

// ErrClosed reports a request to a closed Batcher.
var ErrClosed = errors.New("model is unloading")

// BatcherOptions bound a Batcher.
type BatcherOptions struct {
	// MaxBatch is the number of sequences decoded together (default 8).
	MaxBatch int
	// MaxQueue is the number of requests that may wait for a slot beyond
	// MaxBatch (default 64); more get ErrQueueFull.
	MaxQueue int
	// PromptCacheEntries is how many finished sequences are kept for
	// prefix reuse (default 4; negative disables the cache).
	PromptCacheEntries int
	// PromptCacheBytes caps their memory (default 1 GiB).
	PromptCacheBytes int64
}

// BatcherStats is a snapshot for metrics.
type BatcherStats struct {
	Active, Queued int
	// PromptCacheEntries and PromptCacheBytes describe the prefix cache.
	PromptCacheEntries int
	PromptCacheBytes   int64
}

// Batcher serves many generations on one Model at once with continuous
// batching: every forward pass carries the next token of every decoding
// sequence (plus a chunk of one prompt being prefilled), so the weights
// stream from memory once per step for all of them. Requests join and
// leave between steps. Finished sequences stay in a small prompt cache so
// a follow-up request that shares a prefix (the next turn of a chat)
// skips recomputing it; a request whose prompt a running one is reading
// (the n choices of one API request) waits for that prefill and copies it.
type Batcher struct {
	m     Model
	opts  BatcherOptions
	queue chan *job
	stop  chan struct{}
	done  chan struct{}

	mu     sync.Mutex
	active int
	cache  promptCache
}

// job is one request inside the Batcher.
type job struct {
	ctx     context.Context
	req     Request
	st      *stepper
	seq     Sequence
	fed     int // prompt tokens in seq
	next    int32
	started time.Time
	decode  time.Time
	// leader is a running job reading the same prompt: this one waits
	// for it to have target positions and copies them instead of
	// computing them again (n choices of one request, identical
	// concurrent requests).
	leader  *job
	target  int
	retired bool // the batcher is done with it (leaders' followers check)
	// Prompt lookup (Request.Lookahead), when the job decodes alone: look
	// drafts, draft is what the last step fed after next, base the
	// sequence's length before that step.
	look  *lookup
	draft []int32
	base  int

	mu       sync.Mutex
	events   []Token
	finished bool
	err      error
	notify   chan struct{}
	gone     atomic.Bool // the caller stopped listening
}

// NewBatcher starts the scheduling loop over m.
func NewBatcher(m Model, opts BatcherOptions) *Batcher {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 8
	}
	if opts.MaxQueue <= 0 {
		opts.MaxQueue = 64
	}
	if opts.PromptCacheEntries == 0 {
		opts.PromptCacheEntries = 4
	}
	if opts.PromptCacheBytes <= 0 {
		opts.PromptCacheBytes = 1 << 30
	}
	b := &Batcher{m: m, opts: opts, queue: make(chan *job, opts.MaxQueue), stop: make(chan struct{}), done: make(chan struct{})}
	b.cache.maxEntries, b.cache.maxBytes = max(opts.PromptCacheEntries, 0), opts.PromptCacheBytes
	go b.loop()
	return b
}

// Generate runs req like the package-level Generate, sharing decode steps
// with the other requests in flight. It fails fast with ErrQueueFull when
// MaxBatch requests are running and MaxQueue more are waiting. The
// Result's Seq is nil: the sequence stays with the Batcher's cache.
func (b *Batcher) Generate(ctx context.Context, req Request, emit func(Token) error) (Result, error) {
	if err := req.check(); err != nil {
		return Result{EOSToken: -1}, err
	}
	j := &job{ctx: ctx, req: req, notify: make(chan struct{}, 1)}
	select {
	case <-b.stop:
		return Result{EOSToken: -1}, ErrClosed
	default:
	}
	select {
	case b.queue <- j:
	default:
		return Result{EOSToken: -1}, ErrQueueFull
	}
	var emitErr error
	for {
		<-j.notify
		j.mu.Lock()
		evs, finished := j.events, j.finished
		j.events = nil
		j.mu.Unlock()
		for _, ev := range evs {
			if emitErr == nil {
				if emitErr = emit(ev); emitErr != nil {
					j.gone.Store(true)
				}
			}
		}
		if finished {
			j.mu.Lock()
			defer j.mu.Unlock()
			res := Result{EOSToken: -1}
			if j.st != nil {
				res = j.st.res
				res.Seq = nil
			}
			if emitErr != nil {
				return res, emitErr
			}
			return res, j.err
		}
	}
}

// Stats reports the current load.
func (b *Batcher) Stats() BatcherStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return BatcherStats{Active: b.active, Queued: len(b.queue),
		PromptCacheEntries: len(b.cache.entries), PromptCacheBytes: b.cache.bytes()}
}

// Close stops accepting requests, fails the waiting ones, lets the
// running ones finish, and returns when the loop has ended.
func (b *Batcher) Close() {
	select {
	case <-b.stop:
	default:
		close(b.stop)
	}
	<-b.done
}

func (j *job) push(t Token) error {
	if j.gone.Load() {
		return errGone
	}
	j.mu.Lock()
	j.events = append(j.events, t)
	j.mu.Unlock()
	select {
	case j.notify <- struct{}{}:
	default:
	}
	return nil
}

func (j *job) finish(err error) {
	j.mu.Lock()
	j.finished, j.err = true, err
	j.mu.Unlock()
	select {
	case j.notify <- struct{}{}:
	default:
	}
}

var errGone = errors.New("caller stopped reading")

// prefillBudget bounds the prompt tokens of one step, so that sequences
// that are decoding wait at most one chunk's time for their next token.
const prefillBudget = 256

func (b *Batcher) loop() {
	defer close(b.done)
	var running []*job
	for {
		// Admit waiting requests; block when there is nothing to do.
		for len(running) < b.opts.MaxBatch {
			var j *job
			if len(running) == 0 {
				select {
				case j = <-b.queue:
				case <-b.stop:
				}
			} else {
				select {
				case j = <-b.queue:
				default:
				}
			}
			if j == nil {
				break
			}
			b.admit(j, running)
			running = append(running, j)
		}
		select {
		case <-b.stop:
			if len(running) == 0 {
				for {
					select {
					case j := <-b.queue:
						j.finish(ErrClosed)
					default:
						return
					}
				}
			}
		default:
		}
		running = b.step(running)
	}
}

// minSharedPrefix is the shortest common prompt prefix a job waits for
// another running job to compute, rather than computing it alongside.
const minSharedPrefix = 16

// admit gives a new job its sequence, reusing the longest cached prefix,
// or, when a running job is reading a longer part of the same prompt, makes
// it follow that job (see follow).
func (b *Batcher) admit(j *job, running []*job) {
	b.mu.Lock()
	b.active++
	b.mu.Unlock()
	j.started = time.Now()
	seq := j.req.Seq
	if seq == nil {
		b.mu.Lock()
		seq = b.cache.take(j.req.Prompt)
		b.mu.Unlock()
		if seq == nil {
			seq = b.m.NewSequence()
		}
	}
	j.seq = seq
	j.st = newStepper(j.req, seq)
	j.fed = j.st.res.CachedTokens
	if j.req.Lookahead > 0 {
		j.look = newLookup(j.req.Prompt, j.req.Lookahead)
	}
	if j.req.Seq != nil {
		return
	}
	for _, r := range running {
		if r.leader != nil {
			continue // no chains: follow the job that computes
		}
		n := min(commonPrefix(r.req.Prompt, j.req.Prompt), len(j.req.Prompt)-1)
		if n >= minSharedPrefix && n > j.fed && n > j.target {
			j.leader, j.target = r, n
		}
	}
}

// follow reports whether a job can run: its leader's sequence holds the
// shared prefix (copied now), or the leader ended without it (the job
// then reads its prompt itself).
func (b *Batcher) follow(j *job) bool {
	l := j.leader
	if l.seq.Len() >= j.target {
		j.seq = l.seq.Clone(j.target)
		j.st = newStepper(j.req, j.seq)
		j.fed = j.st.res.CachedTokens
		j.leader = nil
		return true
	}
	if l.retired {
		j.leader = nil
		return true
	}
	return false
}

// step runs one forward pass over all running jobs and returns those that
// continue.
func (b *Batcher) step(running []*job) []*job {
	var steps []Step
	var in []*job
	budget := prefillBudget
	for _, j := range running {
		if err := j.ctx.Err(); err != nil || j.gone.Load() {
			b.retire(j, err)
			continue
		}
		if j.leader != nil && !b.follow(j) {
			in = append(in, j) // waits for its leader's prefill
			continue
		}
		if j.fed < len(j.req.Prompt) {
			if budget == 0 {
				in = append(in, j) // waits for the next step
				continue
			}
			n := min(budget, len(j.req.Prompt)-j.fed)
			budget -= n
			j.draft = nil
			steps = append(steps, Step{Seq: j.seq, Tokens: j.req.Prompt[j.fed : j.fed+n]})
		} else {
			toks := []int32{j.next}
			if j.look != nil && len(running) == 1 {
				// Alone, a sequence's step leaves the cores idle: fill them
				// with a prompt-lookup draft (see Request.Lookahead).
				toks = j.look.appendDraft(toks, j.req.MaxTokens-j.st.res.GeneratedTokens)
			}
			j.draft, j.base = toks[1:], j.seq.Len()
			steps = append(steps, Step{Seq: j.seq, Tokens: toks, AllLogits: len(toks) > 1})
		}
		in = append(in, j)
	}
	if len(steps) == 0 {
		return in
	}
	out, err := b.m.Forward(context.Background(), steps)
	if err != nil {
		for _, j := range in {
			b.retire(j, err)
		}
		return nil
	}
	// Match the logits to their jobs; prompts still being fed only move on.
	type pick struct {
		j      *job
		logits []float32
		tok    int32
		done   bool
		err    error
	}
	var keep []*job
	var picks []pick
	k := 0
	for _, j := range in {
		if k >= len(steps) || steps[k].Seq != j.seq {
			keep = append(keep, j) // was not in this pass
			continue
		}
		logits := out[k]
		k++
		if j.fed < len(j.req.Prompt) {
			j.fed += len(steps[k-1].Tokens)
			if j.fed < len(j.req.Prompt) {
				keep = append(keep, j)
				continue
			}
			j.st.res.Prefill = time.Since(j.started)
			j.decode = time.Now()
		}
		picks = append(picks, pick{j: j, logits: logits})
	}
	// Sampling is per sequence and a pass over the whole vocabulary (a few
	// milliseconds with top-p over 150k tokens): the sequences of a batch
	// sample in parallel while the compute workers are idle.
	parallelFor(len(picks), func(i int) {
		p := &picks[i]
		p.tok, p.done, p.err = p.j.sample(p.logits)
	})
	for _, p := range picks {
		j := p.j
		if p.done || p.err != nil {
			err := p.err
			if errors.Is(err, errGone) {
				err = nil
			}
			b.retire(j, err)
			continue
		}
		j.next = p.tok
		keep = append(keep, j)
	}
	recycle(b.m, out)
	return keep
}

// sample picks the job's next token from the logits of its step (see
// stepper.sampleStep).
func (j *job) sample(logits []float32) (int32, bool, error) {
	return j.st.sampleStep(logits, j.draft, j.seq, j.base, j.look, j.push)
}

// parallelFor calls fn(0..n-1) on up to GOMAXPROCS goroutines and waits.
func parallelFor(n int, fn func(i int)) {
	workers := min(n, runtime.GOMAXPROCS(0))
	if workers <= 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// retire ends a job and keeps its sequence for prefix reuse.
func (b *Batcher) retire(j *job, err error) {
	j.retired = true
	if !j.decode.IsZero() {
		j.st.res.Decode = time.Since(j.decode)
	}
	b.mu.Lock()
	b.active--
	b.mu.Unlock()
	if j.req.Seq == nil && j.seq != nil && j.seq.Len() > 0 {
		// The sequence holds the prompt and every generated token but the
		// last, which was never fed.
		toks := make([]int32, 0, j.seq.Len())
		toks = append(toks, j.req.Prompt[:min(j.fed, len(j.req.Prompt))]...)
		toks = append(toks, j.st.history[1:]...)
		if len(toks) > j.seq.Len() {
			toks = toks[:j.seq.Len()]
		}
		if len(toks) == j.seq.Len() {
			b.mu.Lock()
			b.cache.put(toks, j.seq)
			b.mu.Unlock()
		}
	}
	j.finish(err)
}

// promptCache keeps finished sequences keyed by the tokens they hold.
type promptCache struct {
	entries    []cacheEntry // least recently used first
	maxEntries int
	maxBytes   int64
}

type cacheEntry struct {
	tokens []int32
	seq    Sequence
}

func (c *promptCache) bytes() int64 {
	var n int64
	for _, e := range c.entries {
		n += e.seq.Bytes()
	}
	return n
}

// take returns a copy of the cached sequence sharing the longest prefix
// with prompt, trimmed to that prefix, or nil.
func (c *promptCache) take(prompt []int32) Sequence {
	best, bestLen := -1, 0
	for i, e := range c.entries {
		n := commonPrefix(e.tokens, prompt)
		if n > bestLen {
			best, bestLen = i, n
		}
	}
	if best < 0 {
		return nil
	}
	e := c.entries[best]
	c.entries = append(append(c.entries[:best:best], c.entries[best+1:]...), e) // most recent last
	return e.seq.Clone(bestLen)
}

// put stores a sequence; entries it extends become redundant.
func (c *promptCache) put(tokens []int32, seq Sequence) {
	if c.maxEntries == 0 {
		return
	}
	kept := c.entries[:0]
	for _, e := range c.entries {
		if commonPrefix(e.tokens, tokens) < len(e.tokens) {
			kept = append(kept, e)
		}
	}
	c.entries = append(kept, cacheEntry{tokens: tokens, seq: seq})
	for len(c.entries) > c.maxEntries || (len(c.entries) > 1 && c.bytes() > c.maxBytes) {
		c.entries = c.entries[1:]
	}
}

func commonPrefix(a, b []int32) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
