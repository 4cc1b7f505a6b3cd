package sample

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"testing"
)

// FuzzSample drives the sampler with arbitrary logits, history and
// parameters: it must never panic, must return an in-range token that the
// reference filters keep, and must report errors only as the documented
// values.
func FuzzSample(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
	f.Add([]byte("\x80\x00\x00\x7f\xff\xff\xff\x7f\xc0\x00\x00\x00\x00\x00\x80\xff"))
	f.Add(make([]byte, 64))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 12 {
			return
		}
		ctl := data[:12]
		rest := data[12:]
		p := Params{
			Temperature:       float32(ctl[0]) / 64,
			TopP:              float32(ctl[1]) / 255,
			MinP:              float32(ctl[2]%128) / 127 * float32(ctl[2]>>7),
			MinTokensToKeep:   int(ctl[3] % 6),
			TopK:              int(ctl[4] % 9),
			RepetitionPenalty: float32(ctl[5]) / 64,
			PresencePenalty:   float32(int8(ctl[6])) / 32,
			FrequencyPenalty:  float32(int8(ctl[7])) / 32,
			LogitBias:         map[int32]float32{int32(ctl[8] % 16): float32(int8(ctl[9]))},
		}
		sd := uint64(ctl[10])
		p.Seed = &sd
		nHist := int(ctl[11] % 8)
		var history []int32
		for i := 0; i < nHist && len(rest) > 0; i++ {
			history = append(history, int32(int8(rest[0])))
			rest = rest[1:]
		}
		var logits []float32
		for len(rest) >= 4 {
			logits = append(logits, math.Float32frombits(binary.LittleEndian.Uint32(rest)))
			rest = rest[4:]
		}
		s, err := NewSampler(p)
		if err != nil {
			t.Fatalf("params from the fuzzer are valid by construction: %v", err)
		}
		tok, lp, err := s.Sample(logits, history)
		if err != nil {
			if !errors.Is(err, ErrEmptyLogits) && !errors.Is(err, ErrNoCandidates) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if tok < 0 || int(tok) >= len(logits) {
			t.Fatalf("token %d out of range %d", tok, len(logits))
		}
		if math.IsNaN(float64(lp)) || lp > 0 {
			t.Fatalf("logprob %v", lp)
		}
		if p.Temperature == 0 {
			return
		}
		// Recompute the kept set with the reference filters on the
		// sampler's own processed distribution.
		s2, _ := NewSampler(p)
		_, sum, err := s2.prepare(logits, history)
		if err != nil {
			t.Fatal(err)
		}
		keep := referenceKept(s2.lp[:s2.n], s2.weights[:s2.n], sum, s2.Params())
		if _, found := slices.BinarySearch(keep, tok); !found {
			t.Fatalf("sampled %d, reference keeps %v", tok, keep)
		}
	})
}
