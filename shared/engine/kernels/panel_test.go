package kernels

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"unsafe"
)

// TestInterleaveNibbles checks the shuffle against its definition: byte i
// of the result holds nibble i of s low and nibble 4+i high.
func TestInterleaveNibbles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		s := rng.Uint32()
		var want uint32
		for i := 0; i < 4; i++ {
			lo, hi := s>>(4*i)&15, s>>(4*(4+i))&15
			want |= (lo | hi<<4) << (8 * i)
		}
		if got := interleaveNibbles(s); got != want {
			t.Fatalf("interleaveNibbles(%08x) = %08x, want %08x", s, got, want)
		}
	}
}

// TestPanelRow: every row read back from the panel layout equals the row
// of the MLX layout, 4- and 8-bit, for every scale format, group size and
// a partial last panel.
func TestPanelRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, sf := range []Format{BF16, F16, F32} {
		for _, group := range []int{32, 64, 128} {
			for _, rows := range []int{1, 8, 13, 24} {
				cols := group * (1 + rng.IntN(3))
				bits := []int{4, 8}[rows%2]
				c := randomAffine(t, rng, rows, cols, bits, group, sf)
				plain, _ := NewAffine(rows, cols, bits, group, c.m.Data, sf, c.m.Scales, c.m.Biases)
				c.m.ensurePacked(nil)
				got, want := make([]float32, cols), make([]float32, cols)
				for r := 0; r < rows; r++ {
					c.m.Row(got, r)
					plain.Row(want, r)
					if !slices.Equal(got, want) {
						t.Fatalf("%v g%d %d-bit [%d %d] row %d: panel row differs", sf, group, bits, rows, cols, r)
					}
				}
			}
		}
	}
}

// TestPackRelease: Pool.Pack hands every original byte to release, and
// after it nothing reads them: products and rows stay the same when the
// originals are overwritten.
func TestPackRelease(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	pool := NewPool(2)
	defer pool.Close()
	if !pool.PacksWeights() {
		t.Skip("no panel kernel in this build")
	}
	const rows, cols, n = 1200, 512, 3
	c := randomAffine(t, rng, rows, cols, 4, 64, BF16)
	plain, _ := NewAffine(rows, cols, 4, 64, slices.Clone(c.m.Data), BF16, slices.Clone(c.m.Scales), slices.Clone(c.m.Biases))
	x := randVec(rng, n*cols)
	want := make([]float32, n*rows)
	MatMul(pool, plain, want, x, n)
	wantRow := make([]float32, cols)
	plain.Row(wantRow, rows-1)

	var mu sync.Mutex
	covered := make([]bool, len(c.m.Data))
	var others int
	pool.Pack([]*Matrix{c.m}, func(b []byte) {
		mu.Lock()
		defer mu.Unlock()
		if !inside(b, c.m.Data) {
			others += len(b)
			return
		}
		off := offsetIn(b, c.m.Data)
		for i := range b {
			covered[off+i] = true
		}
	})
	if i := slices.Index(covered, false); i >= 0 {
		t.Fatalf("byte %d of the packed values never released", i)
	}
	if others != len(c.m.Scales)+len(c.m.Biases) {
		t.Fatalf("released %d bytes of scales and biases, want %d", others, len(c.m.Scales)+len(c.m.Biases))
	}
	for _, b := range [][]byte{c.m.Data, c.m.Scales, c.m.Biases} {
		for i := range b {
			b[i] = 0xa5
		}
	}
	got := make([]float32, n*rows)
	MatMul(pool, c.m, got, x, n)
	if !slices.Equal(got, want) {
		t.Fatal("product changed after the original weights were released")
	}
	gotRow := make([]float32, cols)
	c.m.Row(gotRow, rows-1)
	if !slices.Equal(gotRow, wantRow) {
		t.Fatal("row changed after the original weights were released")
	}
}

func inside(b, in []byte) bool {
	return len(b) > 0 && offsetIn(b, in) >= 0 && offsetIn(b, in)+len(b) <= len(in)
}

// offsetIn is the offset of b's first byte in in (negative if before it).
func offsetIn(b, in []byte) int {
	return int(uintptrOf(b) - uintptrOf(in))
}

func uintptrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
