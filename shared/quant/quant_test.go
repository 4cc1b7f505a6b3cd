package quant

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/mlxk/mlxk/shared/floatx"
)

// TestPackKnownAnswers checks the packing against vectors derived by hand
// from MLX's layout (engine reference §8.3).
func TestPackKnownAnswers(t *testing.T) {
	cases := []struct {
		bits  int
		codes []uint8
		bytes []byte // leading bytes of the stream
	}{
		{4, []uint8{1, 2, 3, 4, 5, 6, 7, 8}, []byte{0x21, 0x43, 0x65, 0x87}},
		{8, []uint8{1, 2, 3, 4}, []byte{1, 2, 3, 4}},
		{2, []uint8{3, 2, 1, 0, 3, 2, 1, 0, 3, 2, 1, 0, 3, 2, 1, 0}, []byte{0x1B, 0x1B, 0x1B, 0x1B}},
		{3, []uint8{1, 2, 3, 4, 5, 6, 7, 0}, []byte{0xD1, 0x58, 0x1F}},
		{6, []uint8{1, 2, 3, 4}, []byte{0x81, 0x30, 0x10}},
		{5, []uint8{1, 2, 3, 4, 5, 6, 7, 8}, []byte{0x41, 0x0C, 0x52, 0xCC, 0x41}},
	}
	for _, c := range cases {
		// Pad to a whole number of words (32 codes fill whole words for every width).
		codes := make([]uint8, 32)
		copy(codes, c.codes)
		words := make([]uint32, PackedWords(len(codes), c.bits))
		Pack(words, codes, c.bits)
		b := WordsToBytes(words)
		if !slices.Equal(b[:len(c.bytes)], c.bytes) {
			t.Errorf("%d-bit %v packed to % x, want % x", c.bits, c.codes, b[:len(c.bytes)], c.bytes)
		}
		if c.bits == 4 && words[0] != 0x87654321 {
			t.Errorf("4-bit word %#x", words[0])
		}
		if c.bits == 8 && words[0] != 0x04030201 {
			t.Errorf("8-bit word %#x", words[0])
		}
		if c.bits == 2 && words[0] != 0x1B1B1B1B {
			t.Errorf("2-bit word %#x", words[0])
		}
		for j, want := range c.codes {
			if got := Elem(b, j, c.bits); got != uint32(want) {
				t.Errorf("%d-bit Elem(%d) = %d, want %d", c.bits, j, got, want)
			}
			if got := ElemWords(words, j, c.bits); got != uint32(want) {
				t.Errorf("%d-bit ElemWords(%d) = %d, want %d", c.bits, j, got, want)
			}
		}
		back := make([]uint8, len(codes))
		Unpack(back, words, c.bits)
		if !slices.Equal(back, codes) {
			t.Errorf("%d-bit Unpack = %v", c.bits, back)
		}
		UnpackBytes(back, b, c.bits)
		if !slices.Equal(back, codes) {
			t.Errorf("%d-bit UnpackBytes = %v", c.bits, back)
		}
	}
}

func TestPackRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, bits := range []int{2, 3, 4, 5, 6, 8} {
		for _, n := range []int{1, 7, 32, 33, 100, 256} {
			codes := make([]uint8, n)
			for i := range codes {
				codes[i] = uint8(r.IntN(1 << bits))
			}
			words := make([]uint32, PackedWords(n, bits))
			Pack(words, codes, bits)
			got := make([]uint8, n)
			Unpack(got, words, bits)
			if !slices.Equal(got, codes) {
				t.Fatalf("%d bits n=%d: %v != %v", bits, n, got, codes)
			}
			b := WordsToBytes(words)
			for j := range codes {
				if Elem(b, j, bits) != uint32(codes[j]) || ElemWords(words, j, bits) != uint32(codes[j]) {
					t.Fatalf("%d bits elem %d", bits, j)
				}
			}
		}
	}
}

// TestQuantizeKnownAnswer works one group through MLX's algorithm by hand.
func TestQuantizeKnownAnswer(t *testing.T) {
	// 0..31 at 4 bits: |min| = 0 is not > |max| = 31, so the edge is max = 31,
	// s = -(31/15); q0 = rint(31/s) = -15, so s = 31/-15 and b = 31.
	w := make([]float32, 32)
	for i := range w {
		w[i] = float32(i)
	}
	packed, scales, biases, err := Quantize(w, 1, 32, 32, 4)
	if err != nil {
		t.Fatal(err)
	}
	if want := float32(31) / float32(-15); scales[0] != want || biases[0] != 31 {
		t.Fatalf("scale %v bias %v, want %v 31", scales[0], biases[0], want)
	}
	b := WordsToBytes(packed)
	for i := range w {
		// q = rint((i-31)/s) = rint((31-i)·15/31)
		want := uint32(math.RoundToEven(float64(float32(float32(i)-31) / scales[0])))
		if got := Elem(b, i, 4); got != want {
			t.Errorf("code %d = %d, want %d", i, got, want)
		}
	}
	if Elem(b, 0, 4) != 15 || Elem(b, 31, 4) != 0 {
		t.Errorf("ends %d %d", Elem(b, 0, 4), Elem(b, 31, 4))
	}

	// Negative-heavy group at 2 bits: min -3, max 1, |min| > |max| so the
	// edge is min: s = 4/3, q0 = rint(-3/(4/3)) = rint(-2.25) = -2, s = 1.5,
	// b = -3; codes rint((x+3)/1.5) clipped to [0,3]: -3->0, -1.5->1, 0->2, 1->rint(2.67)=3.
	w2 := []float32{-3, -1.5, 0, 1}
	w2 = append(w2, make([]float32, 28)...) // zeros: code 2
	packed, scales, biases, err = Quantize(w2, 1, 32, 32, 2)
	if err != nil {
		t.Fatal(err)
	}
	if scales[0] != 1.5 || biases[0] != -3 {
		t.Fatalf("scale %v bias %v", scales[0], biases[0])
	}
	if got := packed[0] & 0xFF; got != 0|1<<2|2<<4|3<<6 {
		t.Errorf("codes byte %#x", got)
	}
	deq, _ := Dequantize(packed, scales, biases, 1, 32, 32, 2)
	if !slices.Equal(deq[:4], []float32{-3, -1.5, 0, 1.5}) {
		t.Errorf("dequantized %v", deq[:4])
	}

	// A constant group dequantizes exactly; an all-zero group to zero.
	for _, c := range []float32{0, 0.7, -2} {
		cw := slices.Repeat([]float32{c}, 64)
		p, s, bb, _ := Quantize(cw, 1, 64, 64, 4)
		d, _ := Dequantize(p, s, bb, 1, 64, 64, 4)
		if !slices.Equal(d, cw) {
			t.Errorf("constant %v dequantized to %v", c, d[:4])
		}
	}
}

func randomMatrix(r *rand.Rand, rows, cols int, std float64) []float32 {
	w := make([]float32, rows*cols)
	for i := range w {
		w[i] = float32(r.NormFloat64() * std)
	}
	return w
}

// TestQuantizeErrorBound checks the round-trip error: within |s|/2 for every
// value that was not clipped, within |s| for every value.
func TestQuantizeErrorBound(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, bits := range []int{2, 3, 4, 5, 6, 8} {
		for _, gs := range []int{32, 64, 128} {
			rows, cols := 5, 2*gs
			w := randomMatrix(r, rows, cols, 0.2)
			w[3] = 7 // an outlier
			packed, scales, biases, err := Quantize(w, rows, cols, gs, bits)
			if err != nil {
				t.Fatal(err)
			}
			deq, err := Dequantize(packed, scales, biases, rows, cols, gs, bits)
			if err != nil {
				t.Fatal(err)
			}
			nBins := uint32(1)<<bits - 1
			b := WordsToBytes(packed)
			rw := RowWords(cols, bits)
			for i := range w {
				row, k := i/cols, i%cols
				g := row*(cols/gs) + k/gs
				s := abs32(scales[g])
				e := abs32(w[i] - deq[i])
				q := Elem(b[4*row*rw:], k, bits)
				slack := 1e-5*abs32(w[i]) + 1e-6
				if e > s+slack {
					t.Fatalf("%d bits g%d: |%v-%v| = %v > |s| = %v", bits, gs, w[i], deq[i], e, s)
				}
				clipped := q == 0 || q == nBins
				if !clipped && e > s/2+slack {
					t.Fatalf("%d bits g%d: unclipped error %v > |s|/2 = %v", bits, gs, e, s/2)
				}
			}
		}
	}
}

func TestQuantizeRounded(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	w := randomMatrix(r, 3, 64, 0.2)
	for i := range w {
		w[i] = floatx.RoundBF16(w[i])
	}
	p1, s1, b1, _ := Quantize(w, 3, 64, 32, 4)
	p2, s2, b2, err := QuantizeRounded(w, 3, 64, 32, 4, floatx.RoundBF16)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p1, p2) {
		t.Error("rounding the scales changed the codes; MLX computes codes with float32 scales")
	}
	for i := range s1 {
		if s2[i] != floatx.RoundBF16(s1[i]) || b2[i] != floatx.RoundBF16(b1[i]) {
			t.Fatalf("group %d not rounded: %v %v", i, s2[i], b2[i])
		}
	}
}

func TestDequantizeRowVariants(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	rows, cols, gs, bits := 4, 128, 64, 3
	w := randomMatrix(r, rows, cols, 1)
	packed, scales, biases, _ := Quantize(w, rows, cols, gs, bits)
	full, _ := Dequantize(packed, scales, biases, rows, cols, gs, bits)
	b := WordsToBytes(packed)
	rw, groups := RowWords(cols, bits), Groups(cols, gs)
	// Unaligned byte copy of the packed data.
	ub := append([]byte{0}, b...)[1:]
	for row := range rows {
		d1 := make([]float32, cols)
		d2 := make([]float32, cols)
		DequantizeRow(d1, packed[row*rw:(row+1)*rw], scales[row*groups:(row+1)*groups], biases[row*groups:(row+1)*groups], gs, bits)
		DequantizeRowBytes(d2, ub[4*row*rw:4*(row+1)*rw], scales[row*groups:(row+1)*groups], biases[row*groups:(row+1)*groups], gs, bits)
		if !slices.Equal(d1, full[row*cols:(row+1)*cols]) || !slices.Equal(d2, d1) {
			t.Fatalf("row %d differs", row)
		}
	}
}

func TestValidation(t *testing.T) {
	w := make([]float32, 64)
	bad := []struct {
		rows, cols, gs, bits int
	}{
		{1, 64, 64, 7}, {1, 64, 64, 1}, {1, 64, 64, 16}, {1, 64, 48, 4}, {1, 64, 0, 4},
		{1, 48, 32, 4}, {2, 64, 64, 4}, {1, 0, 32, 4}, {-1, 64, 64, 4},
	}
	for _, c := range bad {
		if _, _, _, err := Quantize(w, c.rows, c.cols, c.gs, c.bits); !errors.Is(err, ErrInvalid) {
			t.Errorf("Quantize %+v: %v", c, err)
		}
	}
	if _, err := Dequantize(make([]uint32, 7), make([]float32, 1), make([]float32, 1), 1, 64, 64, 4); !errors.Is(err, ErrInvalid) {
		t.Errorf("Dequantize short packed: %v", err)
	}
	rows, cols, err := CheckShapes([]int{896, 112}, []int{896, 14}, []int{896, 14}, 64, 4)
	if err != nil || rows != 896 || cols != 896 {
		t.Errorf("CheckShapes qwen embed: %d %d %v", rows, cols, err)
	}
	rows, cols, err = CheckShapes([]int{8, 16, 12}, []int{8, 16, 2}, []int{8, 16, 2}, 32, 6)
	if err != nil || rows != 128 || cols != 64 {
		t.Errorf("CheckShapes 3-D: %d %d %v", rows, cols, err)
	}
	for _, c := range [][3][]int{
		{{896, 112}, {896, 14}, {896, 13}},
		{{896, 112}, {896, 13}, {896, 13}},
		{{896, 112}, {895, 14}, {895, 14}},
		{{112}, {14}, {14, 1}},
		{{}, {}, {}},
		{{-1, 112}, {-1, 14}, {-1, 14}},
		{{1 << 62, 8}, {1 << 62, 1}, {1 << 62, 1}},
	} {
		if _, _, err := CheckShapes(c[0], c[1], c[2], 64, 4); !errors.Is(err, ErrInvalid) {
			t.Errorf("CheckShapes %v: %v", c, err)
		}
	}
}

// FuzzQuantRoundTrip drives Quantize/Dequantize and the packers with
// arbitrary values and parameters: no panic, codes within range, the three
// unpackers agree, and the error bound holds for finite inputs.
func FuzzQuantRoundTrip(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, uint8(4), uint8(0), uint64(1))
	f.Add([]byte{255, 0, 128}, uint8(3), uint8(1), uint64(2))
	f.Add([]byte{}, uint8(5), uint8(2), uint64(3))
	f.Fuzz(func(t *testing.T, raw []byte, bitsSel, gsSel uint8, seed uint64) {
		bits := []int{2, 3, 4, 5, 6, 8}[int(bitsSel)%6]
		gs := []int{32, 64, 128}[int(gsSel)%3]
		cols := gs * (1 + int(seed%2))
		w := make([]float32, cols)
		r := rand.New(rand.NewPCG(seed, 0))
		for i := range w {
			if i < len(raw) {
				w[i] = float32(int8(raw[i])) / float32(1+r.IntN(64))
			} else {
				w[i] = float32(r.NormFloat64())
			}
		}
		packed, scales, biases, err := Quantize(w, 1, cols, gs, bits)
		if err != nil {
			t.Fatal(err)
		}
		codes := make([]uint8, cols)
		Unpack(codes, packed, bits)
		codes2 := make([]uint8, cols)
		b := WordsToBytes(packed)
		UnpackBytes(codes2, b, bits)
		if !slices.Equal(codes, codes2) {
			t.Fatal("Unpack and UnpackBytes disagree")
		}
		for j, c := range codes {
			if uint32(c) != Elem(b, j, bits) || int(c) >= 1<<bits {
				t.Fatalf("code %d = %d", j, c)
			}
		}
		deq, err := Dequantize(packed, scales, biases, 1, cols, gs, bits)
		if err != nil {
			t.Fatal(err)
		}
		for i := range w {
			s := abs32(scales[i/gs])
			if e := abs32(w[i] - deq[i]); e > s*(1+1e-5)+1e-5*abs32(w[i])+1e-6 {
				t.Fatalf("%d bits: |%v-%v| = %v > |s| = %v", bits, w[i], deq[i], e, s)
			}
		}
		// Raw bytes as packed data: unpacking never panics and re-packing restores it.
		n := len(raw) * 8 / bits
		if n > 0 {
			c := make([]uint8, n)
			UnpackBytes(c, raw, bits)
			words := make([]uint32, PackedWords(n, bits))
			Pack(words, c, bits)
			back := WordsToBytes(words)
			full := n * bits / 8
			if !slices.Equal(back[:full], raw[:full]) {
				t.Fatalf("repack % x != % x", back[:full], raw[:full])
			}
		}
	})
}

// BenchmarkQuantize measures the single-threaded quantizer on a
// Qwen2.5-0.5B-sized MLP matrix (4864×896).
func BenchmarkQuantize(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	rows, cols := 4864, 896
	w := randomMatrix(r, rows, cols, 0.05)
	b.SetBytes(int64(4 * len(w)))
	for b.Loop() {
		if _, _, _, err := Quantize(w, rows, cols, 64, 4); err != nil {
			b.Fatal(err)
		}
	}
}
