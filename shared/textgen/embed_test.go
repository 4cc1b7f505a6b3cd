package textgen

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mlxk/mlxk/shared/engine"
	"github.com/mlxk/mlxk/shared/engine/testmodel"
	"github.com/mlxk/mlxk/shared/tokenizer/tokentest"
)

// loadTestModel writes the catalog model spec with a byte tokenizer and
// the given extra files, and loads it on the native engine.
func loadTestModel(t *testing.T, spec string, files map[string]string) *Model {
	t.Helper()
	dir := t.TempDir()
	s, ok := testmodel.Lookup(spec)
	if !ok {
		t.Fatalf("no test model %s", spec)
	}
	if err := testmodel.Write(dir, s); err != nil {
		t.Fatal(err)
	}
	files["tokenizer.json"] = string(tokentest.ByteLevel())
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	m, err := Load(context.Background(), engine.Native{}, dir, engine.LoadOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func norm(v []float32) float64 {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	return math.Sqrt(ss)
}

// TestEmbedTokens: without sentence-transformers files, last-token pooling
// normalized; the engine's pooled state is the direction; dims keeps the
// first values, normalized again; inputs batch as they embed alone, also
// across the engine calls a large request is split into.
func TestEmbedTokens(t *testing.T) {
	m := loadTestModel(t, "qwen2-q4", map[string]string{})
	ctx := context.Background()
	a, b := m.EncodeForEmbedding("Noah built an ark."), m.EncodeForEmbedding("Rain")
	got, err := m.EmbedTokens(ctx, [][]int32{a, b}, 0)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := m.Engine.(engine.Embedder).Embed(ctx, [][]int32{a}, engine.PoolLast)
	if err != nil {
		t.Fatal(err)
	}
	n := norm(raw[0])
	for i, v := range got[0] {
		if math.Abs(float64(v)-float64(raw[0][i])/n) > 1e-6 {
			t.Fatalf("value %d: %g, want %g", i, v, float64(raw[0][i])/n)
		}
	}
	if math.Abs(norm(got[1])-1) > 1e-5 {
		t.Errorf("norm %g", norm(got[1]))
	}
	short, err := m.EmbedTokens(ctx, [][]int32{a}, 8)
	if err != nil {
		t.Fatal(err)
	}
	n8 := norm(raw[0][:8])
	if len(short[0]) != 8 || math.Abs(float64(short[0][3])-float64(raw[0][3])/n8) > 1e-6 {
		t.Errorf("dims 8: %v", short[0])
	}
	// More tokens than one engine call takes: split, same vectors.
	long := make([][]int32, 0, 40)
	for range 40 {
		long = append(long, slices.Repeat(a, 4))
	}
	long[39] = b
	many, err := m.EmbedTokens(ctx, long, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range many[39] {
		if math.Abs(float64(v-got[1][i])) > 1e-5 {
			t.Fatalf("split batch: value %d %g, want %g", i, v, got[1][i])
		}
	}
}

// TestEmbeddingConfig: sentence-transformers modules choose the pooling
// and the normalization; a pooling mode this engine lacks is an error at
// embedding time, not another pooling.
func TestEmbeddingConfig(t *testing.T) {
	modules := `[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
	  {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"}%s]`
	normalize := `,{"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}`
	for _, c := range []struct {
		modules, pooling string
		want             Embedding
	}{
		{"", "", Embedding{Pool: engine.PoolLast, Normalize: true}},
		{fmt.Sprintf(modules, normalize), `{"pooling_mode_lasttoken":true}`, Embedding{Pool: engine.PoolLast, Normalize: true}},
		{fmt.Sprintf(modules, ""), `{"pooling_mode_mean_tokens":true,"pooling_mode_lasttoken":false}`, Embedding{Pool: engine.PoolMean}},
		{fmt.Sprintf(modules, normalize), `{"pooling_mode_cls_token":true}`, Embedding{Pool: engine.PoolLast, Normalize: true, Unsupported: "pooling_mode_cls_token"}},
	} {
		dir := t.TempDir()
		if c.modules != "" {
			os.WriteFile(filepath.Join(dir, "modules.json"), []byte(c.modules), 0o666)
			os.MkdirAll(filepath.Join(dir, "1_Pooling"), 0o777)
			os.WriteFile(filepath.Join(dir, "1_Pooling", "config.json"), []byte(c.pooling), 0o666)
		}
		if got := EmbeddingConfig(dir); got != c.want {
			t.Errorf("%s %s: %+v, want %+v", c.modules, c.pooling, got, c.want)
		}
	}
	// Mean pooling, not normalized, through a loaded model.
	m := loadTestModel(t, "qwen2-q4", map[string]string{"modules.json": fmt.Sprintf(modules, ""),
		"1_Pooling/config.json": `{"pooling_mode_mean_tokens":true}`})
	a := m.EncodeForEmbedding("Noah")
	got, err := m.EmbedTokens(context.Background(), [][]int32{a}, 0)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := m.Engine.(engine.Embedder).Embed(context.Background(), [][]int32{a}, engine.PoolMean)
	if !slices.Equal(got[0], want[0]) {
		t.Errorf("mean pooling: %v, want %v", got[0][:4], want[0][:4])
	}
	m.Embedding.Unsupported = "pooling_mode_max_tokens"
	if _, err := m.EmbedTokens(context.Background(), [][]int32{a}, 0); err == nil {
		t.Error("unsupported pooling embedded")
	}
}
