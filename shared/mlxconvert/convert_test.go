package mlxconvert_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mlxk/mlxk/shared/engine/testmodel"
	"github.com/mlxk/mlxk/shared/mlxconvert"
	"github.com/mlxk/mlxk/shared/quant"
	"github.com/mlxk/mlxk/shared/safetensors"
)

// sourceModel writes a bf16 qwen2 test model plus the side files a hub
// snapshot carries, and returns its folder.
func sourceModel(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "src")
	spec, ok := testmodel.Lookup(name)
	if !ok {
		t.Fatalf("no test model %s", name)
	}
	if err := testmodel.Write(dir, spec); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"tokenizer.json": `{"model":{}}`, "tokenizer_config.json": "{}", "generation_config.json": `{"eos_token_id": 2}`,
		"chat_template.jinja": "{{ messages }}", "README.md": "# model\n", ".gitattributes": "x", "pytorch_model.bin": "weights",
	} {
		os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644)
	}
	os.Mkdir(filepath.Join(dir, "original"), 0o755)
	return dir
}

func readConfig(t *testing.T, dir string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestConvertQuantizes(t *testing.T) {
	src := sourceModel(t, "qwen2-bf16")
	dst := filepath.Join(t.TempDir(), "out", "qwen2-4bit")
	res, err := mlxconvert.Convert(src, dst, mlxconvert.Options{Bits: 4, GroupSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	if res.DType != "bfloat16" { // from torch_dtype
		t.Errorf("dtype %q", res.DType)
	}
	wantFiles := []string{"model.safetensors", "model.safetensors.index.json", "config.json", "README.md", "chat_template.jinja", "generation_config.json", "tokenizer.json", "tokenizer_config.json"}
	if !slices.Equal(res.Files, wantFiles) {
		t.Errorf("files %v", res.Files)
	}
	entries, _ := os.ReadDir(dst)
	if len(entries) != len(wantFiles) {
		t.Errorf("%d entries in target", len(entries))
	}
	if len(res.Quantized) != 1+2*7 || len(res.Unquantized) != 0 {
		t.Errorf("quantized %v unquantized %v", res.Quantized, res.Unquantized)
	}
	cfg := readConfig(t, dst)
	q, _ := cfg["quantization"].(map[string]any)
	if q["bits"] != 4.0 || q["group_size"] != 64.0 || q["mode"] != "affine" {
		t.Errorf("quantization %v", cfg["quantization"])
	}
	if cfg["model_type"] != "qwen2" || cfg["quantization_config"] == nil {
		t.Errorf("config %v", cfg)
	}

	in, err := safetensors.OpenModel(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := safetensors.OpenModel(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if out.Metadata()["format"] != "mlx" {
		t.Errorf("metadata %v", out.Metadata())
	}
	w, _ := out.Tensor("model.layers.0.mlp.down_proj.weight")
	s, _ := out.Tensor("model.layers.0.mlp.down_proj.scales")
	b, _ := out.Tensor("model.layers.0.mlp.down_proj.biases")
	if w.DType != safetensors.U32 || !slices.Equal(w.Shape, []int{64, 16}) || s.DType != safetensors.BF16 || !slices.Equal(s.Shape, []int{64, 2}) || !slices.Equal(b.Shape, s.Shape) {
		t.Fatalf("down_proj %v %v %v %v", w.DType, w.Shape, s.DType, s.Shape)
	}
	sf, _ := s.Float32s()
	bf, _ := b.Float32s()
	deq, err := quant.Dequantize(w.Uint32s(), sf, bf, 64, 128, 64, 4)
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := in.Tensor("model.layers.0.mlp.down_proj.weight")
	of, _ := orig.Float32s()
	for i := range of {
		sc := sf[i/64]
		if sc < 0 {
			sc = -sc
		}
		if d := of[i] - deq[i]; d > sc*1.01 || -d > sc*1.01 {
			t.Fatalf("element %d: %v vs %v (scale %v)", i, of[i], deq[i], sc)
		}
	}
	// Norms and Linear biases stay float, byte for byte.
	for _, n := range []string{"model.norm.weight", "model.layers.1.self_attn.q_proj.bias"} {
		a, _ := in.Tensor(n)
		c, ok := out.Tensor(n)
		if !ok || c.DType != safetensors.BF16 || !bytes.Equal(a.Data, c.Data) {
			t.Errorf("%s changed", n)
		}
	}

	// Quantizing again is refused with a typed error, and writes nothing.
	again := filepath.Join(t.TempDir(), "again")
	if _, err := mlxconvert.Convert(dst, again, mlxconvert.Options{Bits: 8}); !errors.Is(err, mlxconvert.ErrAlreadyQuantized) {
		t.Errorf("requantize: %v", err)
	}
	if _, err := os.Stat(again); !os.IsNotExist(err) {
		t.Errorf("target created on failure: %v", err)
	}
	// A non-empty target is refused.
	if _, err := mlxconvert.Convert(src, dst, mlxconvert.Options{Bits: 4}); !errors.Is(err, mlxconvert.ErrTargetExists) {
		t.Errorf("existing target: %v", err)
	}
	// No temporary folders are left beside the target.
	sib, _ := os.ReadDir(filepath.Dir(dst))
	if len(sib) != 1 {
		t.Errorf("left behind: %v", sib)
	}
}

// TestTestModelsUseConvert checks that converting a generated bf16 model
// gives byte-identical files to the generated quantized model: the test
// models and the convert verb share one writer.
func TestTestModelsUseConvert(t *testing.T) {
	for _, pair := range [][2]string{{"qwen2-bf16", "qwen2-q4"}, {"gemma3-bf16", "gemma3-q8"}} {
		src := sourceModel(t, pair[0])
		spec, _ := testmodel.Lookup(pair[1])
		dst := filepath.Join(t.TempDir(), "out")
		if _, err := mlxconvert.Convert(src, dst, mlxconvert.Options{Bits: spec.Bits, GroupSize: spec.GroupSize}); err != nil {
			t.Fatal(err)
		}
		gen := filepath.Join(t.TempDir(), "gen")
		if err := testmodel.Write(gen, spec); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"model.safetensors", "model.safetensors.index.json", "config.json"} {
			a, _ := os.ReadFile(filepath.Join(dst, f))
			b, _ := os.ReadFile(filepath.Join(gen, f))
			if len(a) == 0 || !bytes.Equal(a, b) {
				t.Errorf("%s: %s differs between convert and testmodel", pair[1], f)
			}
		}
	}
}

func TestConvertCastOnlyAndOptions(t *testing.T) {
	src := sourceModel(t, "llama-f32")
	dst := filepath.Join(t.TempDir(), "f16")
	res, err := mlxconvert.Convert(src, dst, mlxconvert.Options{DType: "float16"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Quantized) != 0 || res.DType != "float16" {
		t.Errorf("result %+v", res)
	}
	cfg := readConfig(t, dst)
	if cfg["torch_dtype"] != "float16" || cfg["quantization"] != nil {
		t.Errorf("config dtype %v quantization %v", cfg["torch_dtype"], cfg["quantization"])
	}
	m, err := safetensors.OpenModel(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, n := range m.Names() {
		tt, _ := m.Tensor(n)
		if tt.DType != safetensors.F16 {
			t.Errorf("%s is %s", n, tt.DType)
		}
	}

	for _, o := range []mlxconvert.Options{
		{Bits: 7}, {Bits: 4, GroupSize: 48}, {DType: "float8"},
		{Bits: 4, Overrides: map[string]mlxconvert.QuantParams{"model.nope": {GroupSize: 64, Bits: 8}}},
		{Bits: 4, Overrides: map[string]mlxconvert.QuantParams{"lm_head": {GroupSize: 64, Bits: 9}}},
		{Overrides: map[string]mlxconvert.QuantParams{"lm_head": {}}},
	} {
		if _, err := mlxconvert.Convert(src, filepath.Join(t.TempDir(), "x"), o); !errors.Is(err, mlxconvert.ErrInvalidOptions) {
			t.Errorf("options %+v: %v", o, err)
		}
	}

	// Group size 128 cannot split the 64-wide inputs: those stay float and are reported.
	dst2 := filepath.Join(t.TempDir(), "g128")
	res, err = mlxconvert.Convert(src, dst2, mlxconvert.Options{Bits: 4, GroupSize: 128})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Quantized) != 2 || !strings.Contains(res.Unquantized[0], "not a multiple of group size 128") {
		t.Errorf("quantized %v unquantized %v", res.Quantized, res.Unquantized)
	}
}

func TestConvertMissingSource(t *testing.T) {
	if _, err := mlxconvert.Convert(t.TempDir(), filepath.Join(t.TempDir(), "x"), mlxconvert.Options{Bits: 4}); err == nil {
		t.Error("empty source accepted")
	}
}
