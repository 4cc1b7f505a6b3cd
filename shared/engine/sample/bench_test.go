package sample

import (
	"math/rand/v2"
	"testing"
)

const benchVocab = 151936 // Qwen2/Qwen3 vocabulary

// lmLogits imitates a language model's last-position logits: a broad
// normal bulk and a few strongly preferred tokens.
func lmLogits(seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	l := randomLogits(r, benchVocab, 2.5)
	for range 30 {
		l[r.IntN(benchVocab)] += 8 + float32(r.Float64()*8)
	}
	return l
}

func benchSample(b *testing.B, p Params, logits []float32) {
	p.Seed = seed(1)
	s := mustSampler(b, p)
	history := make([]int32, 64)
	for i := range history {
		history[i] = int32(i * 997 % benchVocab)
	}
	if _, _, err := s.Sample(logits, history); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.Sample(logits, history); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSampleGreedy(b *testing.B) { benchSample(b, Params{}, lmLogits(1)) }
func BenchmarkSampleTemperature(b *testing.B) {
	benchSample(b, Params{Temperature: 0.7}, lmLogits(1))
}
func BenchmarkSampleMlxkDefaults(b *testing.B) {
	benchSample(b, Params{Temperature: 0.7, TopP: 0.9, RepetitionPenalty: 1.1}, lmLogits(1))
}
func BenchmarkSampleTopK40(b *testing.B) {
	benchSample(b, Params{Temperature: 0.7, TopK: 40}, lmLogits(1))
}
func BenchmarkSampleMinP(b *testing.B) {
	benchSample(b, Params{Temperature: 0.7, MinP: 0.05}, lmLogits(1))
}
func BenchmarkSampleAllFilters(b *testing.B) {
	benchSample(b, Params{Temperature: 0.7, TopP: 0.95, MinP: 0.02, TopK: 64, RepetitionPenalty: 1.1,
		PresencePenalty: 0.5, FrequencyPenalty: 0.2}, lmLogits(1))
}

// A flat distribution is the worst case for top-p: ~95k tokens survive.
func BenchmarkSampleTopPFlat(b *testing.B) {
	r := rand.New(rand.NewPCG(2, 2))
	benchSample(b, Params{Temperature: 1, TopP: 0.9}, randomLogits(r, benchVocab, 0.5))
}

func BenchmarkTopLogprobs5(b *testing.B) {
	s := mustSampler(b, Params{})
	if _, _, err := s.Sample(lmLogits(1), nil); err != nil {
		b.Fatal(err)
	}
	var dst []TokenLogprob
	b.ReportAllocs()
	for b.Loop() {
		dst = s.TopLogprobs(dst[:0], 5)
	}
}

// BenchmarkBaselineSumPass is one plain pass over a vocabulary-sized
// vector: a yardstick for reading the numbers above on a busy machine.
func BenchmarkBaselineSumPass(b *testing.B) {
	l := lmLogits(1)
	var s float32
	for b.Loop() {
		s = 0
		for _, x := range l {
			s += x
		}
	}
	_ = s
}
