package model_test

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlxk/mlxk/shared/engine/kernels"
	"github.com/mlxk/mlxk/shared/engine/model"
	"github.com/mlxk/mlxk/shared/engine/testmodel"
	"github.com/mlxk/mlxk/shared/safetensors"
)

// golden is one file of testdata/golden, written by the independent torch
// reference in testdata/ref (see testdata/golden/README.md).
type golden struct {
	Format    string            `json:"format"`
	Model     string            `json:"model"`
	Files     map[string]string `json:"files"` // sha256 of the generated model files
	Sequences []struct {
		Tokens         []int32     `json:"tokens"`
		Logits         [][]float32 `json:"logits"` // every position
		Greedy         []int32     `json:"greedy"`
		GreedyMargin   []float64   `json:"greedy_margin"`
		GreedyTopLogit []float64   `json:"greedy_top_logit"`
	} `json:"sequences"`
}

// Tolerances: the reference computes in float32 torch from the same stored
// weights, so the difference is summation order only.
const (
	absTol = 2e-4
	relTol = 1e-4
	// A greedy step whose top-two margin in the reference is below this
	// is a genuine tie; the continuation is compared up to it.
	tieMargin = 1e-3
)

func readGolden(t *testing.T, path string) golden {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.NewDecoder(zr).Decode(&g); err != nil {
		t.Fatal(err)
	}
	if g.Format != "mlxk-golden-v1" {
		t.Fatalf("%s: format %q", path, g.Format)
	}
	return g
}

// TestGoldenLogits runs every generated test model (each architecture in
// f32, bf16, 4-bit and 8-bit, plus sharded, mixed-bit, 2/5-bit and f16
// variants) and compares all logits and the greedy continuations with the
// torch reference.
func TestGoldenLogits(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "golden", "*.json.gz"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	// The reference computes in float32: quantized products take the
	// exact path (the default int8-activation path differs by ~0.5%).
	pool := kernels.NewPoolWith(kernels.PoolOptions{Exact: true})
	defer pool.Close()
	seen := map[string]bool{}
	for _, path := range paths {
		g := readGolden(t, path)
		seen[g.Model] = true
		t.Run(g.Model, func(t *testing.T) {
			spec, ok := testmodel.Lookup(g.Model)
			if !ok {
				t.Fatalf("golden for unknown test model %s", g.Model)
			}
			dir := t.TempDir()
			if err := testmodel.Write(dir, spec); err != nil {
				t.Fatal(err)
			}
			for name, want := range g.Files {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != want {
					t.Fatalf("%s differs from the file the goldens were made from: regenerate them (testdata/golden/README.md)", name)
				}
			}
			cfg, err := model.ReadConfig(dir)
			if err != nil {
				t.Fatal(err)
			}
			st, err := safetensors.OpenModel(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			m, err := model.New(cfg, st, pool)
			if err != nil {
				t.Fatal(err)
			}
			var worst float64
			for si, seq := range g.Sequences {
				out, err := m.Forward([]model.Input{{Cache: m.NewCache(), Tokens: seq.Tokens, AllLogits: true}})
				if err != nil {
					t.Fatal(err)
				}
				V := cfg.Vocab
				for p, want := range seq.Logits {
					got := out[0][p*V : (p+1)*V]
					for i, w := range want {
						d := math.Abs(float64(got[i] - w))
						worst = max(worst, d)
						if d > absTol+relTol*math.Abs(float64(w)) {
							t.Fatalf("sequence %d position %d logit %d = %.6g, reference %.6g", si, p, i, got[i], w)
						}
					}
				}
				// Greedy continuation through the KV cache, one token at a time.
				c := m.NewCache()
				logits, err := m.Forward([]model.Input{{Cache: c, Tokens: seq.Tokens}})
				if err != nil {
					t.Fatal(err)
				}
				for step, want := range seq.Greedy {
					got := kernels.Argmax(logits[0])
					if got != want {
						if seq.GreedyMargin[step] < tieMargin {
							break // a tie in the reference: either answer is right
						}
						t.Fatalf("sequence %d greedy step %d: token %d, reference %d (margin %.3g)", si, step, got, want, seq.GreedyMargin[step])
					}
					if logits, err = m.Forward([]model.Input{{Cache: c, Tokens: []int32{got}}}); err != nil {
						t.Fatal(err)
					}
				}
			}
			t.Logf("max |logit - reference| = %.2g", worst)
		})
	}
	for _, s := range testmodel.Catalog() {
		if !seen[s.Name] {
			t.Errorf("test model %s has no golden file", s.Name)
		}
	}
}
