package testmodel

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mlxk/mlxk/shared/safetensors"
)

// TestPinnedBytes pins the generated files: the engine's goldens and the
// external reference were computed from exactly these bytes. A change here
// means every golden must be regenerated.
func TestPinnedBytes(t *testing.T) {
	pins := map[string]string{
		"llama-f32/model.safetensors":   "045e1cf50bc79f1da429f9c561333d0788ec5f4a57b72ba6e0dc6a43987306fa",
		"qwen2-q4/model.safetensors":    "66e332524da8423ecd66a525b653abfc0abf941a2c0c00a5a4ef92b13dbd83f6",
		"qwen2-mixed/model.safetensors": "7e8b26baa59b527b680d7b3ceebff84a13e7d4a055a0bd616e0e96714e15ad24",
		"qwen2-mixed/config.json":       "7ee718337f4ef8bc9712b95e4edfd9cb296ca8d9ffdb6c22c78c13bef35325e3",
		"phi3-bf16/config.json":         "337425b001f28e33c72876067e447451610723468aa5c67db2a16ecad51a5ce5",
		"gemma3-q8/model.safetensors":   "04697617537ba9e0874f4bd42ee463b6a44662328ade8be7af61d9809a685a1f",
	}
	dir := t.TempDir()
	for path, want := range pins {
		name := strings.Split(path, "/")[0]
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			s, _ := Lookup(name)
			if err := Write(filepath.Join(dir, name), s); err != nil {
				t.Fatal(err)
			}
		}
		b, err := os.ReadFile(filepath.Join(dir, path))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("%s: sha256 %s, pinned %s", path, got, want)
		}
	}
}

func TestCatalogWritesLoadableModels(t *testing.T) {
	root := t.TempDir()
	seen := map[string]bool{}
	for _, s := range Catalog() {
		if seen[s.Name] {
			t.Fatalf("duplicate name %s", s.Name)
		}
		seen[s.Name] = true
		dir := filepath.Join(root, s.Name)
		if err := Write(dir, s); err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		m, err := safetensors.OpenModel(dir)
		if err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		names := m.Names()
		has := func(n string) bool { return slices.Contains(names, n) }
		lay, _ := layoutOf(s.Arch)
		untied := s.Arch == "llama" || s.Arch == "phi3" || s.Config["tie_word_embeddings"] == false
		if has("lm_head.weight") != untied {
			t.Errorf("%s: lm_head present = %v", s.Name, has("lm_head.weight"))
		}
		if has("model.layers.0.self_attn.q_norm.weight") != lay.qkNorm ||
			has("model.layers.0.self_attn.q_proj.bias") != lay.qkvBias ||
			has("model.layers.0.self_attn.qkv_proj.weight") != lay.fused ||
			has("model.layers.0.pre_feedforward_layernorm.weight") != lay.gemma ||
			!has("model.norm.weight") || !has(prefixLayer(lay.layers-1)+"input_layernorm.weight") {
			t.Errorf("%s: unexpected names %v", s.Name, names)
		}
		emb, _ := m.Tensor("model.embed_tokens.weight")
		_, quantized := m.Tensor("model.embed_tokens.scales")
		if quantized != (s.Bits != 0) {
			t.Errorf("%s: embed quantized = %v", s.Name, quantized)
		}
		if quantized && emb.DType != safetensors.U32 {
			t.Errorf("%s: embed dtype %s", s.Name, emb.DType)
		}
		norm, _ := m.Tensor("model.norm.weight")
		if want, _ := map[string]safetensors.DType{"float32": safetensors.F32, "bfloat16": safetensors.BF16, "float16": safetensors.F16}[s.DType]; norm.DType != want {
			t.Errorf("%s: norm dtype %s", s.Name, norm.DType)
		}
		files := m.Files()
		if want := max(s.Shards, 1); len(files) != want {
			t.Errorf("%s: %d files", s.Name, len(files))
		}
		m.Close()
	}
}

func prefixLayer(i int) string { return "model.layers." + string(rune('0'+i)) + "." }

func TestMixedOverrides(t *testing.T) {
	s, _ := Lookup("qwen2-mixed")
	dir := t.TempDir()
	if err := Write(dir, s); err != nil {
		t.Fatal(err)
	}
	m, err := safetensors.OpenModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	shape := func(n string) []int { tt, _ := m.Tensor(n); return tt.Shape }
	if got := shape("model.embed_tokens.weight"); !slices.Equal(got, []int{256, 64 * 6 / 32}) {
		t.Errorf("embed packed %v", got)
	}
	if got := shape("lm_head.scales"); !slices.Equal(got, []int{256, 1}) {
		t.Errorf("lm_head scales %v", got)
	}
	if got := shape("model.layers.0.mlp.down_proj.scales"); !slices.Equal(got, []int{64, 128 / 32}) {
		t.Errorf("down_proj scales %v", got)
	}
	if got := shape("model.layers.0.mlp.down_proj.weight"); !slices.Equal(got, []int{64, 128 * 3 / 32}) {
		t.Errorf("down_proj packed %v", got)
	}
	v, _ := m.Tensor("model.layers.1.self_attn.v_proj.weight")
	if _, q := m.Tensor("model.layers.1.self_attn.v_proj.scales"); q || v.DType != safetensors.BF16 {
		t.Errorf("v_proj kept: %v %s", q, v.DType)
	}
}

func TestDeterministicAndSpread(t *testing.T) {
	s, _ := Lookup("qwen3-f32")
	_, a, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	_, b, _ := Build(s)
	for n, ta := range a {
		if !slices.Equal(ta.Data, b[n].Data) {
			t.Fatalf("%s differs between builds", n)
		}
	}
	w, _ := a["model.layers.0.mlp.up_proj.weight"].Float32s()
	var sum, sq float64
	for _, v := range w {
		sum += float64(v)
		sq += float64(v) * float64(v)
	}
	mean, std := sum/float64(len(w)), 0.0
	std = sq/float64(len(w)) - mean*mean
	if mean > 0.02 || mean < -0.02 || std < 0.035 || std > 0.045 { // variance 0.2² = 0.04
		t.Errorf("weights mean %v variance %v", mean, std)
	}
	n, _ := a["model.norm.weight"].Float32s()
	for _, v := range n {
		if v < 0.5 || v > 1.5 {
			t.Errorf("norm weight %v", v)
		}
	}
	if _, _, err := Build(Spec{Arch: "gpt2", DType: "float32"}); err == nil {
		t.Error("unknown arch accepted")
	}
	if _, _, err := Build(Spec{Arch: "llama", DType: "int8"}); err == nil {
		t.Error("bad dtype accepted")
	}
}
