package kernels

import (
	"slices"
	"sync"
	"sync/atomic"
)

// MatMul computes out[i] = W · x[i] for n activation vectors: x is
// [n, Cols] and out is [n, Rows], both row-major. With n == 1 it is the
// matrix-vector product of a decode step; with n > 1 each block of weight
// rows is read once and reused for all n vectors (prefill, batched
// decode).
//
// On a pool that is not Exact, 4- and 8-bit affine weights are multiplied
// with activations quantized to int8 per 32 values (see PoolOptions).
func MatMul(p *Pool, m *Matrix, out, x []float32, n int) {
	MatMulFused(p, []*Matrix{m}, [][]float32{out}, x, n)
}

// MatMulFused computes outs[j][i] = ms[j] · x[i] for matrices that read
// the same input (q/k/v projections, gate/up): the input is quantized
// once and all rows of all matrices are spread over the workers in one
// dispatch. Every matrix must have the same number of columns.
func MatMulFused(p *Pool, ms []*Matrix, outs [][]float32, x []float32, n int) {
	if len(ms) == 0 || n <= 0 {
		return
	}
	cols := ms[0].Cols
	if len(outs) != len(ms) {
		panic("kernels.MatMulFused: one output per matrix")
	}
	for j, m := range ms {
		if m.Cols != cols {
			panic("kernels.MatMulFused: matrices differ in columns")
		}
		if len(outs[j]) < n*m.Rows {
			panic("kernels.MatMulFused: output buffer too small")
		}
	}
	if len(x) < n*cols {
		panic("kernels.MatMulFused: activation buffer too small")
	}
	k := kernelsFor(p)
	exact := p.Exact()
	panels := !exact && k.panel4 != nil

	// Quantize the activations once if any matrix takes the int8 path,
	// with the panel kernel's copy if any matrix takes that one.
	var a *actQ
	int8, panel := false, false
	for _, m := range ms {
		int8 = int8 || (!exact && m.int8Path())
		if panels && m.canPack() {
			panel = true
			m.ensurePacked(nil) // once; loaders pack ahead (Pool.Pack)
		}
	}
	var sc *actScratch
	if p != nil {
		p.mm.Lock()
		defer p.mm.Unlock()
		sc = &p.scratch
	} else {
		sc = new(actScratch) // no pool, no scratch to reuse
	}
	if int8 {
		a = &sc.a
		a.reset(n, cols, panel)
		quantizeActs(p, k, a, x)
	}

	tasks := planTasks(sc.tasks[:0], ms, n, p.Workers())
	sc.tasks = tasks
	p.Run(len(tasks), func(i int) {
		t := tasks[i]
		m, out := ms[t.mat], outs[t.mat]
		switch {
		case panels && m.canPack():
			f := k.panel4
			if m.Bits == 8 {
				f = k.panel8
			}
			f(m, m.packed(), a, out, n, t.lo, t.hi)
		case !exact && m.int8Path():
			f := k.affine8
			if m.Bits == 4 {
				f = k.affine4
			}
			for tok := 0; tok < n; tok++ {
				f(m, a, tok, out[tok*m.Rows:(tok+1)*m.Rows], t.lo, t.hi)
			}
		case m.Format == Affine:
			k.affineExact(m, out, x, n, t.lo, t.hi)
		default:
			k.dense(m, out, x, n, t.lo, t.hi)
		}
	})
}

// PacksWeights reports whether products on p read 4-bit weights in the
// panel layout (see panel.go): SIMD kernels, not Exact.
func (p *Pool) PacksWeights() bool {
	return !p.Exact() && kernelsFor(p).panel4 != nil
}

// Pack repacks the 4-bit matrices among ms into the panel layout now,
// spread over the workers, rather than at each one's first product. If
// release is not nil it is handed the original bytes (packed values,
// scales, biases) as they stop being needed, from several goroutines at
// once: a loader that mapped the weights from a file can drop those pages,
// so the model does not stay in memory twice (nothing reads them again
// unless a portable or Exact pool is used on the same matrices).
func (p *Pool) Pack(ms []*Matrix, release func([]byte)) {
	if !p.PacksWeights() {
		return
	}
	// Parts of at most ~4 MB of weights, so a large matrix (an embedding)
	// spreads over the workers too; the part that finishes a matrix
	// releases the rest of its original (edge pages, scales, biases).
	type packing struct {
		m    *Matrix
		pn   *panels
		left atomic.Int64 // parts not done
	}
	type part struct {
		pk     *packing
		p0, p1 int
	}
	var parts []part
	var todo []*packing
	for _, m := range ms {
		if m == nil || !m.canPack() || m.packed() != nil || slices.ContainsFunc(todo, func(pk *packing) bool { return pk.m == m }) {
			continue
		}
		pk := &packing{m: m, pn: m.newPanels()}
		todo = append(todo, pk)
		np := pk.pn.panels(m)
		step := max(1, (4<<20)/max(1, panelRows*m.rowBytes()))
		for p0 := 0; p0 < np; p0 += step {
			parts = append(parts, part{pk, p0, min(p0+step, np)})
			pk.left.Add(1)
		}
	}
	p.Run(len(parts), func(i int) {
		pk := parts[i].pk
		pk.m.packRange(pk.pn, parts[i].p0, parts[i].p1, release)
		if pk.left.Add(-1) == 0 {
			pk.m.releaseRest(release)
		}
	})
	for _, pk := range todo {
		pk.m.pack.once.Do(func() { pk.m.pack.p.Store(pk.pn) })
	}
}

// int8Path reports whether the matrix has an int8-activation kernel.
func (m *Matrix) int8Path() bool {
	return m.Format == Affine && (m.Bits == 4 || m.Bits == 8)
}

// maxTaskMACs is the work of a prefill part: about a millisecond.
const maxTaskMACs = 32 << 20

// task is a range of rows of one matrix.
type task struct {
	mat, lo, hi int
}

// planTasks cuts the rows of all matrices into about four ranges per
// worker (ranges are claimed dynamically, so a descheduled worker costs
// little), each at least 64 rows and aligned to 8; with many vectors
// (prefill) ranges are cut smaller, to about maxTaskMACs of work, so a
// part stays short (see yieldEvery).
func planTasks(tasks []task, ms []*Matrix, n, workers int) []task {
	total := 0
	for _, m := range ms {
		total += m.Rows
	}
	per := 4
	if workers == 1 {
		per = 1
	}
	chunk := max(64, roundUp((total+workers*per-1)/(workers*per), 8))
	if macs := n * ms[0].Cols; chunk*macs > maxTaskMACs {
		chunk = max(8, maxTaskMACs/macs/8*8)
	}
	for j, m := range ms {
		for lo := 0; lo < m.Rows; lo += chunk {
			tasks = append(tasks, task{mat: j, lo: lo, hi: min(lo+chunk, m.Rows)})
		}
	}
	return tasks
}

// quantizeActs fills a.q and a.d from x, spread over the pool when there
// are many vectors (prefill).
func quantizeActs(p *Pool, k *kernelSet, a *actQ, x []float32) {
	parts := 1
	if a.n >= 16 {
		parts = p.Workers()
	}
	p.Run(parts, func(i int) {
		t0, t1 := i*a.n/parts, (i+1)*a.n/parts
		for t := t0; t < t1; t++ {
			a.quantizeInto(k, t, x[t*a.cols:(t+1)*a.cols])
		}
	})
}

// kernelSet holds the implementation of each kernel: SIMD where the CPU
// and the build allow, the portable Go otherwise.
type kernelSet struct {
	affine4, affine8 func(m *Matrix, a *actQ, t int, out []float32, lo, hi int)
	// panel4 multiplies a 4-bit matrix in panel layout with all vectors
	// of a at once, rows [lo,hi) with lo a multiple of 8 (nil: no panel
	// kernel, 4-bit matrices are read in MLX layout by affine4).
	panel4      func(m *Matrix, pn *panels, a *actQ, out []float32, n, lo, hi int)
	panel8      func(m *Matrix, pn *panels, a *actQ, out []float32, n, lo, hi int) // the same for 8-bit; set with panel4
	affineExact func(m *Matrix, out, x []float32, n, lo, hi int)
	dense       func(m *Matrix, out, x []float32, n, lo, hi int)
	// quantize fills q, d, s from x, and the panel copy when pq is not
	// nil (see actQ).
	quantize func(q []int8, d, s []float32, x []float32, pq []int8, pd, ps []float32)
	sum      func(x []float32) float32
}

// genericKernels returns the portable kernel set.
func genericKernels() *kernelSet {
	return &kernelSet{
		affine4:     affineInt8RowsGeneric,
		affine8:     affineInt8RowsGeneric,
		affineExact: affineExactRowsGeneric,
		dense:       denseRowsGeneric,
		quantize:    quantizeVecGeneric,
		sum:         sumGeneric,
	}
}

func kernelsFor(p *Pool) *kernelSet {
	if p != nil && p.k != nil {
		return p.k
	}
	return bestKernels()
}

// bestKernels returns the SIMD kernels when available, else the generic
// ones: chosen once, shared by every pool (a kernel set is never changed).
var bestKernels = sync.OnceValue(func() *kernelSet {
	if k := simdKernels(); k != nil {
		return k
	}
	return genericKernels()
})
