package kernels

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/mlxk/mlxk/shared/floatx"
)

// Benchmarks over the linear layers of Qwen2.5-0.5B (hidden 896,
// intermediate 4864, 24 layers, 14/2 heads of 64, vocabulary 151936, tied)
// in MLX 4-bit group 64 with bf16 scales. Every layer has its own
// matrices, so weights stream from memory as in a real decode step.
//
//	GOEXPERIMENT=simd go test ./shared/engine/kernels -run '^$' -bench Qwen

type benchLayer struct{ q, k, v, o, gate, up, down *Matrix }

func randomQuantMatrix(rng *rand.Rand, rows, cols, bits, group int) *Matrix {
	packed := make([]byte, rows*cols*bits/8)
	for i := 0; i+8 <= len(packed); i += 8 {
		binary.LittleEndian.PutUint64(packed[i:], rng.Uint64())
	}
	ng := rows * cols / group
	scales, biases := make([]byte, 2*ng), make([]byte, 2*ng)
	for i := 0; i < ng; i++ {
		binary.LittleEndian.PutUint16(scales[2*i:], floatx.F32ToBF16(float32(rng.NormFloat64()*0.01)))
		binary.LittleEndian.PutUint16(biases[2*i:], floatx.F32ToBF16(float32(rng.NormFloat64()*0.1)))
	}
	m, err := NewAffine(rows, cols, bits, group, packed, BF16, scales, biases)
	if err != nil {
		panic(err)
	}
	return m
}

func qwenLayers(bits int) ([]benchLayer, *Matrix) {
	rng := rand.New(rand.NewPCG(1, 1))
	const H, I, KV = 896, 4864, 128
	layers := make([]benchLayer, 24)
	for i := range layers {
		layers[i] = benchLayer{
			q: randomQuantMatrix(rng, H, H, bits, 64), k: randomQuantMatrix(rng, KV, H, bits, 64),
			v: randomQuantMatrix(rng, KV, H, bits, 64), o: randomQuantMatrix(rng, H, H, bits, 64),
			gate: randomQuantMatrix(rng, I, H, bits, 64), up: randomQuantMatrix(rng, I, H, bits, 64),
			down: randomQuantMatrix(rng, H, I, bits, 64),
		}
	}
	return layers, randomQuantMatrix(rng, 151936, H, bits, 64)
}

// packAll repacks the matrices for pool ahead of the timed loop, as a
// model loader does (Pool.Pack).
func packAll(pool *Pool, layers []benchLayer, more ...*Matrix) {
	ms := more
	for _, l := range layers {
		ms = append(ms, l.q, l.k, l.v, l.o, l.gate, l.up, l.down)
	}
	pool.Pack(ms, nil)
}

func benchDecode(b *testing.B, bits int, exact, fused bool, workers int) {
	layers, head := qwenLayers(bits)
	pool := NewPoolWith(PoolOptions{Workers: workers, Exact: exact})
	defer pool.Close()
	packAll(pool, layers, head)
	rng := rand.New(rand.NewPCG(2, 2))
	x := randVec(rng, 4864)
	q, k, v := make([]float32, 896), make([]float32, 128), make([]float32, 128)
	o, g, u := make([]float32, 896), make([]float32, 4864), make([]float32, 4864)
	logits := make([]float32, 151936)
	var bytes int64
	for _, l := range layers {
		for _, m := range []*Matrix{l.q, l.k, l.v, l.o, l.gate, l.up, l.down} {
			bytes += m.Bytes()
		}
	}
	bytes += head.Bytes()
	b.ResetTimer()
	for b.Loop() {
		for _, l := range layers {
			if fused {
				MatMulFused(pool, []*Matrix{l.q, l.k, l.v}, [][]float32{q, k, v}, x, 1)
			} else {
				MatMul(pool, l.q, q, x, 1)
				MatMul(pool, l.k, k, x, 1)
				MatMul(pool, l.v, v, x, 1)
			}
			MatMul(pool, l.o, o, x, 1)
			if fused {
				MatMulFused(pool, []*Matrix{l.gate, l.up}, [][]float32{g, u}, x, 1)
			} else {
				MatMul(pool, l.gate, g, x, 1)
				MatMul(pool, l.up, u, x, 1)
			}
			MatMul(pool, l.down, o, x, 1)
		}
		MatMul(pool, head, logits, x, 1)
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(1/sec, "tok/s")
	b.ReportMetric(float64(bytes)/sec/1e9, "GB/s")
}

func BenchmarkQwenDecode4bit(b *testing.B)        { benchDecode(b, 4, false, true, 0) }
func BenchmarkQwenDecode4bitUnfused(b *testing.B) { benchDecode(b, 4, false, false, 0) }
func BenchmarkQwenDecode4bit1T(b *testing.B)      { benchDecode(b, 4, false, true, 1) }
func BenchmarkQwenDecode4bitExact(b *testing.B)   { benchDecode(b, 4, true, true, 0) }
func BenchmarkQwenDecode8bit(b *testing.B)        { benchDecode(b, 8, false, true, 0) }

// BenchmarkPoolRun measures one dispatch of trivial work: the fixed cost
// a product pays for going parallel.
func BenchmarkPoolRun(b *testing.B) {
	p := NewPool(0)
	defer p.Close()
	var sink [8]int64
	for b.Loop() {
		p.Run(p.Workers(), func(i int) { sink[i]++ })
	}
}

// BenchmarkMatVecL3 times one cache-resident 4864×896 product on one
// thread: the compute speed of a kernel, free of memory bandwidth.
func BenchmarkMatVecL3(b *testing.B) {
	for _, c := range []struct {
		name       string
		rows, cols int
		bits       int
		exact      bool
	}{{"4bit", 4864, 896, 4, false}, {"4bit-down", 896, 4864, 4, false}, {"8bit", 4864, 896, 8, false},
		{"bf16", 4864, 896, 16, false}, {"4bit-exact", 4864, 896, 4, true}} {
		b.Run(c.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(3, 3))
			var m *Matrix
			if c.bits != 16 {
				m = randomQuantMatrix(rng, c.rows, c.cols, c.bits, 64)
			} else {
				data := make([]byte, 2*c.rows*c.cols)
				for i := 0; i < len(data); i += 2 {
					binary.LittleEndian.PutUint16(data[i:], floatx.F32ToBF16(float32(rng.NormFloat64())))
				}
				m, _ = NewDense(c.rows, c.cols, BF16, data)
			}
			pool := NewPoolWith(PoolOptions{Workers: 1, Exact: c.exact})
			pool.Pack([]*Matrix{m}, nil)
			x := randVec(rng, c.cols)
			out := make([]float32, c.rows)
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu0 := threadCPU()
			for b.Loop() {
				MatMul(pool, m, out, x, 1)
			}
			cpu := (threadCPU() - cpu0).Seconds()
			b.ReportMetric(float64(m.Bytes())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			b.ReportMetric(float64(m.Bytes())*float64(b.N)/cpu/1e9, "GB/cpu-s")
		})
	}
}

// BenchmarkQwenPrefill times the linear layers of a 128-token prompt
// (the LM head only for the last token, as the model does).
func BenchmarkQwenPrefill(b *testing.B) { benchPrefill(b, 128, 4) }

// BenchmarkQwenPrefill256 is BenchmarkQwenPrefill for one 256-token
// forward call (engine.Generate's PrefillChunk).
func BenchmarkQwenPrefill256(b *testing.B) { benchPrefill(b, 256, 4) }

// BenchmarkQwenPrefill8bit is BenchmarkQwenPrefill for 8-bit weights.
func BenchmarkQwenPrefill8bit(b *testing.B) { benchPrefill(b, 128, 8) }

// BenchmarkQwenBatch8 times one batched decode step of 8 sequences
// through the linear layers, the LM head included for every sequence (the
// server's continuous batching); compare tok/s with
// BenchmarkQwenDecode4bit, one sequence.
func BenchmarkQwenBatch8(b *testing.B) { benchBatch(b, 8, 4) }

// BenchmarkQwenBatch8x8bit is BenchmarkQwenBatch8 for 8-bit weights.
func BenchmarkQwenBatch8x8bit(b *testing.B) { benchBatch(b, 8, 8) }

func benchBatch(b *testing.B, n, bits int) {
	layers, head := qwenLayers(bits)
	pool := NewPool(0)
	defer pool.Close()
	packAll(pool, layers, head)
	runBatch(b, pool, layers, head, n)
}

func runBatch(b *testing.B, pool *Pool, layers []benchLayer, head *Matrix, n int) {
	runLayers(b, pool, layers, head, n, n)
}

// runLayers times every linear layer for n vectors, then the head for
// headRows of them (n in a decode step, 1 after a prefill).
func runLayers(b *testing.B, pool *Pool, layers []benchLayer, head *Matrix, n, headRows int) {
	rng := rand.New(rand.NewPCG(2, 2))
	x := randVec(rng, n*4864)
	q, k, v := make([]float32, n*896), make([]float32, n*128), make([]float32, n*128)
	o, g, u := make([]float32, n*896), make([]float32, n*4864), make([]float32, n*4864)
	logits := make([]float32, headRows*151936)
	cpu0 := processCPU()
	for b.Loop() {
		for _, l := range layers {
			MatMulFused(pool, []*Matrix{l.q, l.k, l.v}, [][]float32{q, k, v}, x, n)
			MatMul(pool, l.o, o, x, n)
			MatMulFused(pool, []*Matrix{l.gate, l.up}, [][]float32{g, u}, x, n)
			MatMul(pool, l.down, o, x, n)
		}
		MatMul(pool, head, logits, x, headRows)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tok/s")
	b.ReportMetric(float64(n)*float64(b.N)/(processCPU()-cpu0).Seconds(), "tok/cpu-s")
}

// processCPU is the CPU time of the whole process: with -cpu 1 (one
// worker, no spinning helpers) a figure less sensitive to other load than
// wall time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchPrefill(b *testing.B, n, bits int) {
	layers, head := qwenLayers(bits)
	pool := NewPool(0)
	defer pool.Close()
	packAll(pool, layers, head)
	runLayers(b, pool, layers, head, n, 1)
}

// threadCPU is the CPU time of the calling OS thread: on a machine shared
// with other work, wall time says little about a kernel's speed.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD, Linux
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkGemmL3 times an n-token product (8: a batched decode step,
// 64: a prefill block) with one cache-resident 4864×896 matrix on one
// thread (MACs per CPU second).
func BenchmarkGemmL3(b *testing.B) {
	for _, c := range []struct{ n, bits, rows, cols int }{{8, 4, 4864, 896}, {64, 4, 4864, 896}, {8, 8, 4864, 896}, {64, 8, 4864, 896},
		{64, 4, 896, 4864}, {256, 4, 2048, 8192}, {256, 4, 8192, 2048}} {
		b.Run(fmt.Sprintf("n=%d/%dbit/%dx%d", c.n, c.bits, c.rows, c.cols), func(b *testing.B) {
			n := c.n
			rng := rand.New(rand.NewPCG(3, 3))
			m := randomQuantMatrix(rng, c.rows, c.cols, c.bits, 64)
			pool := NewPool(1)
			pool.Pack([]*Matrix{m}, nil)
			x := randVec(rng, n*c.cols)
			out := make([]float32, n*c.rows)
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu0 := threadCPU()
			for b.Loop() {
				MatMul(pool, m, out, x, n)
			}
			cpu := (threadCPU() - cpu0).Seconds()
			b.ReportMetric(float64(n*c.rows*c.cols)*float64(b.N)/cpu/1e9, "GMAC/cpu-s")
		})
	}
}

// BenchmarkPackPanels times the repacking a loader does, per matrix, on
// one thread (bytes are the matrix's MLX bytes).
func BenchmarkPackPanels(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	m := randomQuantMatrix(rng, 4864, 896, 4, 64)
	b.SetBytes(m.Bytes())
	for b.Loop() {
		pn := m.newPanels()
		m.packRange(pn, 0, pn.panels(m), nil)
	}
}
