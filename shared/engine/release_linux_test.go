package engine_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mlxk/mlxk/shared/engine/kernels"
	"github.com/mlxk/mlxk/shared/safetensors"
)

// rssFileKB reads the process's resident file-backed memory.
func rssFileKB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Skip("no RssFile in /proc/self/status")
	return 0
}

// TestRepackReleasesFilePages: repacking a mapped 4-bit matrix for the
// SIMD kernels hands its file pages back, so the weights are not resident
// twice (the peak-memory budget of a loaded model depends on it).
func TestRepackReleasesFilePages(t *testing.T) {
	pool := kernels.NewPool(2)
	defer pool.Close()
	if !pool.PacksWeights() {
		t.Skip("no repacking in this build")
	}
	const rows, cols, group = 2048, 4096, 64
	rng := rand.New(rand.NewPCG(1, 2))
	packed := make([]byte, rows*cols/2)
	for i := range packed {
		packed[i] = byte(rng.Uint32())
	}
	scales := make([]byte, rows*cols/group*2)
	for i := 0; i < len(scales); i += 2 {
		scales[i+1] = 0x3c // bf16 about 0.01
	}
	dir := t.TempDir()
	err := safetensors.WriteFile(filepath.Join(dir, "model.safetensors"), []safetensors.Tensor{
		{Name: "w.weight", DType: safetensors.U32, Shape: []int{rows, cols / 8}, Data: packed},
		{Name: "w.scales", DType: safetensors.BF16, Shape: []int{rows, cols / group}, Data: scales},
		{Name: "w.biases", DType: safetensors.BF16, Shape: []int{rows, cols / group}, Data: scales},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := safetensors.OpenModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	before := rssFileKB(t)
	st.Populate()
	w, _ := st.Tensor("w.weight")
	s, _ := st.Tensor("w.scales")
	b, _ := st.Tensor("w.biases")
	m, err := kernels.NewAffine(rows, cols, 4, group, w.Data, kernels.BF16, s.Data, b.Data)
	if err != nil {
		t.Fatal(err)
	}
	// The same weights from copies the release cannot touch, to compare.
	plain, err := kernels.NewAffine(rows, cols, 4, group, slices.Clone(w.Data), kernels.BF16, slices.Clone(s.Data), slices.Clone(b.Data))
	if err != nil {
		t.Fatal(err)
	}
	mapped := rssFileKB(t)
	if mapped-before < len(packed)/1024*3/4 {
		t.Skipf("populating did not show in RssFile (%d -> %d kB)", before, mapped)
	}
	pool.Pack([]*kernels.Matrix{m}, st.Release)
	after := rssFileKB(t)
	if left := after - before; left > 1024 { // of 4.3 MB; code pages touched meanwhile count too
		t.Fatalf("%d kB of the %d kB file still resident after repacking (RssFile %d -> %d -> %d kB)",
			left, mapped-before, before, mapped, after)
	}
	// The weights are still there, in the panels.
	for _, r := range []int{0, rows - 1} {
		got, want := make([]float32, cols), make([]float32, cols)
		m.Row(got, r)
		plain.Row(want, r)
		if !slices.Equal(got, want) {
			t.Fatalf("row %d after repacking differs from the original weights", r)
		}
	}
}
