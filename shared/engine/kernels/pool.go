package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Pool runs the parallel parts of a kernel on a fixed set of goroutines.
// A decode step issues about 170 dispatches per token, each a few tens of
// microseconds of work, so the hand-off has to cost far less than that:
// idle workers spin on a generation counter for a while before parking,
// and the caller works on the job itself instead of waiting. Parts are
// taken from a shared counter, so a worker the OS has descheduled (the
// machine is shared) delays a job by at most the part it holds.
//
// A Pool runs one job at a time; Run calls from several goroutines are
// serialized. fn must not call Run on the same pool.
type Pool struct {
	workers int
	exact   bool
	k       *kernelSet

	run  sync.Mutex // one job at a time
	cur  atomic.Pointer[job]
	gen  atomic.Uint64
	stop atomic.Bool
	idle []*idler
	once sync.Once

	// scratch holds the quantized activations of the product in flight;
	// guarded by mm.
	mm      sync.Mutex
	scratch actScratch
}

// PoolOptions tune a pool.
type PoolOptions struct {
	// Workers is the number of compute goroutines, the caller included
	// (<= 0 means GOMAXPROCS).
	Workers int
	// Exact computes products with quantized weights against float32
	// activations, as the MLX reference does, instead of quantizing the
	// activations to int8 per 32 values first. Exact is 2-4x slower on
	// quantized models; the int8 path differs from it by about 0.3-0.5%
	// of the output magnitude (see docs/performance.md). Tests that
	// compare with a float reference use it. Float weights (f32, bf16,
	// f16) are always computed in float32.
	Exact bool
}

// job is one Run call: parts are claimed from next and counted down in
// pending. A job is never reused, so a worker that lags behind still only
// touches the job it saw.
type job struct {
	fn      func(part int)
	parts   int64
	next    atomic.Int64
	pending atomic.Int64
}

// idler is the parking place of one worker.
type idler struct {
	parked atomic.Bool
	wake   chan struct{}
}

// spinFor is how long an idle worker polls for the next job before it
// parks. Jobs of a decode step follow each other within microseconds;
// between tokens (sampling, streaming) the gap is well below this.
const spinFor = 200 * time.Microsecond

// NewPool starts a pool of n workers (n <= 0 means GOMAXPROCS) that
// quantizes activations for products with quantized weights (the fast
// path). A pool of one runs everything on the caller's goroutine.
func NewPool(n int) *Pool {
	return NewPoolWith(PoolOptions{Workers: n})
}

// NewPoolWith starts a pool with options.
func NewPoolWith(o PoolOptions) *Pool {
	n := o.Workers
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	p := &Pool{workers: n, exact: o.Exact, k: bestKernels()}
	for i := 0; i < n-1; i++ {
		w := &idler{wake: make(chan struct{}, 1)}
		p.idle = append(p.idle, w)
		go p.work(w)
	}
	return p
}

// Workers is the number of goroutines the pool computes with.
func (p *Pool) Workers() int {
	if p == nil {
		return 1
	}
	return p.workers
}

// Exact reports whether the pool computes quantized products against
// float32 activations (PoolOptions.Exact).
func (p *Pool) Exact() bool { return p != nil && p.exact }

func (p *Pool) work(w *idler) {
	var seen uint64
	for {
		g := p.waitNext(w, seen)
		seen = g
		if p.stop.Load() {
			return
		}
		if j := p.cur.Load(); j != nil {
			j.do()
		}
	}
}

// waitNext returns once the generation differs from seen: first by
// polling, then parked on w.wake.
func (p *Pool) waitNext(w *idler, seen uint64) uint64 {
	var deadline time.Time
	for i := 0; ; i++ {
		if g := p.gen.Load(); g != seen {
			return g
		}
		if i&255 != 255 {
			continue
		}
		now := time.Now()
		if deadline.IsZero() {
			deadline = now.Add(spinFor)
			continue
		}
		if now.Before(deadline) {
			runtime.Gosched() // let other goroutines of this P run
			continue
		}
		w.parked.Store(true)
		if g := p.gen.Load(); g != seen {
			if w.parked.CompareAndSwap(true, false) {
				return g
			}
			<-w.wake // Run saw us parked and is sending
			return p.gen.Load()
		}
		<-w.wake
		deadline = time.Time{}
		i = 0
	}
}

// yieldEvery bounds how long a goroutine computes without passing
// through the scheduler. The runtime preempts a goroutine that has run for
// 10ms by a signal, and a signal landing in AVX code is expensive here:
// the handler and the scheduler run legacy-SSE instructions with the
// upper halves of the vector registers dirty (docs/performance.md).
const yieldEvery = 4 * time.Millisecond

// do claims and runs parts until none are left, yielding to the
// scheduler between parts now and then.
func (j *job) do() {
	last := time.Now()
	for {
		i := j.next.Add(1) - 1
		if i >= j.parts {
			return
		}
		j.fn(int(i))
		j.pending.Add(-1)
		if now := time.Now(); now.Sub(last) > yieldEvery {
			runtime.Gosched()
			last = now
		}
	}
}

// Run calls fn(0..parts-1) spread over the workers and waits for all of
// them. The caller's goroutine works on the parts too.
func (p *Pool) Run(parts int, fn func(part int)) {
	if parts <= 0 {
		return
	}
	if p == nil || p.workers == 1 || parts == 1 {
		for i := 0; i < parts; i++ {
			fn(i)
		}
		return
	}
	p.run.Lock()
	defer p.run.Unlock()
	j := &job{fn: fn, parts: int64(parts)}
	j.pending.Store(int64(parts))
	p.cur.Store(j)
	p.gen.Add(1)
	for _, w := range p.idle {
		if w.parked.Load() && w.parked.CompareAndSwap(true, false) {
			w.wake <- struct{}{}
		}
	}
	j.do()
	for i := 0; j.pending.Load() != 0; i++ {
		if i&1023 == 1023 {
			runtime.Gosched()
		}
	}
	p.cur.Store(nil)
}

// Close stops the workers. A closed pool must not be used again.
func (p *Pool) Close() {
	if p == nil {
		return
	}
	p.once.Do(func() {
		p.stop.Store(true)
		p.gen.Add(1)
		for _, w := range p.idle {
			if w.parked.CompareAndSwap(true, false) {
				w.wake <- struct{}{}
			}
		}
	})
}
