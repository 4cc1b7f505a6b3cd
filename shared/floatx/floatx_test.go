package floatx

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestBF16KnownValues(t *testing.T) {
	cases := []struct {
		f    float32
		bits uint16
	}{
		{0, 0x0000},
		{float32(math.Copysign(0, -1)), 0x8000},
		{1, 0x3F80},
		{-2, 0xC000},
		{0.5, 0x3F00},
		{3.140625, 0x4049},
		{float32(math.Inf(1)), 0x7F80},
		{float32(math.Inf(-1)), 0xFF80},
		// 1 + 2^-8 is exactly halfway between 1 and 1+2^-7: ties to even (1).
		{1 + 1.0/256, 0x3F80},
		// 1 + 3*2^-8 is halfway between 1+2^-7 (odd) and 1+2^-6: ties to even (up).
		{1 + 3.0/256, 0x3F82},
		// Just above the halfway point rounds up.
		{math.Float32frombits(0x3F808001), 0x3F81},
		// The largest float32 rounds to +inf in bfloat16.
		{math.MaxFloat32, 0x7F80},
		// The smallest float32 subnormal rounds to zero.
		{math.SmallestNonzeroFloat32, 0x0000},
	}
	for _, c := range cases {
		if got := F32ToBF16(c.f); got != c.bits {
			t.Errorf("F32ToBF16(%g) = %#04x, want %#04x", c.f, got, c.bits)
		}
	}
	for _, nan := range []uint32{0x7FC00000, 0xFFC00000, 0x7F800001, 0x7FFFFFFF, 0xFF800001} {
		if got := F32ToBF16(math.Float32frombits(nan)); got != 0x7FC0 {
			t.Errorf("F32ToBF16(NaN %#08x) = %#04x, want 0x7FC0", nan, got)
		}
	}
	if got := BF16ToF32(0x4049); got != 3.140625 {
		t.Errorf("BF16ToF32(0x4049) = %g", got)
	}
}

// TestBF16RoundTripAll checks every bfloat16 bit pattern survives a widen and
// narrow unchanged, except NaNs, which collapse to the canonical NaN.
func TestBF16RoundTripAll(t *testing.T) {
	for i := range 1 << 16 {
		b := uint16(i)
		f := BF16ToF32(b)
		got := F32ToBF16(f)
		if f != f {
			if got != 0x7FC0 {
				t.Fatalf("NaN %#04x -> %#04x", b, got)
			}
			continue
		}
		if got != b {
			t.Fatalf("%#04x -> %g -> %#04x", b, f, got)
		}
	}
}

// refNearest rounds x to the nearest value in the sorted table vals (finite,
// non-negative, ascending); ties go to the value whose index is even, which for
// a contiguous run of bit patterns is the one with an even last mantissa bit.
func refNearest(vals []float64, x float64) int {
	i, _ := slices.BinarySearch(vals, x)
	if i == 0 {
		return 0
	}
	if i == len(vals) {
		return len(vals) - 1
	}
	lo, hi := vals[i-1], vals[i]
	switch {
	case x-lo < hi-x:
		return i - 1
	case x-lo > hi-x:
		return i
	case (i-1)%2 == 0:
		return i - 1
	default:
		return i
	}
}

// TestF32ToF16AgainstReference compares the bit-twiddling narrowing with a
// brute-force nearest-value search over every finite half, on random float32
// values and on every half midpoint and its neighbours.
func TestF32ToF16AgainstReference(t *testing.T) {
	// Non-negative finite halves in bit order are ascending: 0x0000..0x7BFF.
	vals := make([]float64, 0x7C00)
	for i := range vals {
		vals[i] = float64(F16ToF32(uint16(i)))
	}
	ref := func(f float32) uint16 {
		x := math.Abs(float64(f))
		var h uint16
		if x >= 65520 { // halfway between 65504 and the next step (65536) ties up to inf
			h = 0x7C00
		} else {
			h = uint16(refNearest(vals, x))
		}
		if math.Signbit(float64(f)) {
			h |= 0x8000
		}
		return h
	}
	check := func(f float32) {
		t.Helper()
		if got, want := F32ToF16(f), ref(f); got != want {
			t.Fatalf("F32ToF16(%g [%#08x]) = %#04x, want %#04x", f, math.Float32bits(f), got, want)
		}
	}
	for i := 0; i+1 < len(vals); i++ {
		mid := float32((vals[i] + vals[i+1]) / 2) // exact in float32: halves have 11-bit significands
		check(mid)
		check(-mid)
		check(math.Nextafter32(mid, 0))
		check(math.Nextafter32(mid, 1e9))
		check(float32(vals[i]))
	}
	for _, f := range []float32{65504, 65519.99, 65520, 1e10, math.MaxFloat32, float32(math.Inf(1)), 1e-8, 2.9802322e-08, 5.9604645e-08} {
		check(f)
		check(-f)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2_000_000 {
		f := math.Float32frombits(r.Uint32())
		if f != f {
			continue
		}
		check(f)
	}
	// Values concentrated in the half range.
	for range 1_000_000 {
		f := float32(r.NormFloat64() * math.Pow(2, float64(r.IntN(40)-26)))
		check(f)
	}
}

func TestF16KnownValues(t *testing.T) {
	cases := []struct {
		h uint16
		f float32
	}{
		{0x0000, 0},
		{0x3C00, 1},
		{0xC000, -2},
		{0x7BFF, 65504},
		{0x0400, 6.1035156e-05}, // smallest normal 2^-14
		{0x0001, 5.9604645e-08}, // smallest subnormal 2^-24
		{0x03FF, 6.0975552e-05}, // largest subnormal
		{0x3555, 0.33325195},    // nearest half to 1/3
		{0x7C00, float32(math.Inf(1))},
		{0xFC00, float32(math.Inf(-1))},
	}
	for _, c := range cases {
		if got := F16ToF32(c.h); got != c.f {
			t.Errorf("F16ToF32(%#04x) = %g, want %g", c.h, got, c.f)
		}
		if got := F32ToF16(c.f); got != c.h {
			t.Errorf("F32ToF16(%g) = %#04x, want %#04x", c.f, got, c.h)
		}
	}
	if got := F32ToF16(1.0 / 3); got != 0x3555 {
		t.Errorf("F32ToF16(1/3) = %#04x", got)
	}
	if got := F32ToF16(65519); got != 0x7BFF {
		t.Errorf("F32ToF16(65519) = %#04x, want 0x7BFF", got)
	}
	if got := F32ToF16(65520); got != 0x7C00 {
		t.Errorf("F32ToF16(65520) = %#04x, want inf", got)
	}
	if got := F32ToF16(float32(math.Copysign(0, -1))); got != 0x8000 {
		t.Errorf("F32ToF16(-0) = %#04x", got)
	}
	nan := F32ToF16(float32(math.NaN()))
	if nan&0x7C00 != 0x7C00 || nan&0x3FF == 0 {
		t.Errorf("F32ToF16(NaN) = %#04x, not a NaN", nan)
	}
	// A NaN whose payload lives only in the low bits must not become inf.
	if h := F32ToF16(math.Float32frombits(0xFF800001)); h&0x3FF == 0 || h&0x8000 == 0 {
		t.Errorf("F32ToF16(-NaN low payload) = %#04x", h)
	}
}

// TestF16RoundTripAll checks every binary16 bit pattern survives a widen and
// narrow: exact for all non-NaN values, NaN stays NaN with its sign.
func TestF16RoundTripAll(t *testing.T) {
	for i := range 1 << 16 {
		h := uint16(i)
		f := F16ToF32(h)
		got := F32ToF16(f)
		if h&0x7C00 == 0x7C00 && h&0x3FF != 0 {
			if f == f {
				t.Fatalf("%#04x widened to non-NaN %g", h, f)
			}
			if got&0x7C00 != 0x7C00 || got&0x3FF == 0 || got&0x8000 != h&0x8000 {
				t.Fatalf("NaN %#04x -> %#04x", h, got)
			}
			continue
		}
		if got != h {
			t.Fatalf("%#04x -> %g -> %#04x", h, f, got)
		}
	}
}

func TestSliceCodecs(t *testing.T) {
	src := []float32{1, -2, 0.5, 3.140625, 65504, 0}
	b := make([]byte, 2*len(src))
	EncodeBF16(b, src)
	if b[0] != 0x80 || b[1] != 0x3F { // 1.0 = 0x3F80 little-endian
		t.Fatalf("EncodeBF16 bytes % x", b[:2])
	}
	got := make([]float32, len(src))
	DecodeBF16(got, b)
	for i := range src {
		if got[i] != RoundBF16(src[i]) {
			t.Errorf("bf16[%d] = %g, want %g", i, got[i], RoundBF16(src[i]))
		}
	}
	EncodeF16(b, src)
	if b[0] != 0x00 || b[1] != 0x3C {
		t.Fatalf("EncodeF16 bytes % x", b[:2])
	}
	DecodeF16(got, b)
	if !slices.Equal(got, src) { // every value is exact in half
		t.Errorf("f16 round trip %v", got)
	}
	b4 := make([]byte, 4*len(src)+1)
	EncodeF32(b4[1:], src) // deliberately unaligned
	if b4[1] != 0 || b4[2] != 0 || b4[3] != 0x80 || b4[4] != 0x3F {
		t.Fatalf("EncodeF32 bytes % x", b4[1:5])
	}
	DecodeF32(got, b4[1:])
	if !slices.Equal(got, src) {
		t.Errorf("f32 round trip %v", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("mismatched lengths did not panic")
		}
	}()
	DecodeBF16(got, b[:3])
}
