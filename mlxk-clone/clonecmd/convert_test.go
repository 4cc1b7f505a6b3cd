package clonecmd

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mlxk/mlxk/shared/cachewrite"
	"github.com/mlxk/mlxk/shared/cli"
	"github.com/mlxk/mlxk/shared/engine/testmodel"
	"github.com/mlxk/mlxk/shared/safetensors"
	"github.com/mlxk/mlxk/shared/workspace"
)

// cachedModel lays a generated float model out in a hub cache under HF_HOME.
func cachedModel(t *testing.T, repo, model string) (hfHome string) {
	t.Helper()
	root := t.TempDir()
	src := filepath.Join(root, "src")
	spec, _ := testmodel.Lookup(model)
	if err := testmodel.Write(src, spec); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(src, "tokenizer.json"), []byte(`{}`), 0o644)
	files, err := cachewrite.FilesFromDir(src)
	if err != nil {
		t.Fatal(err)
	}
	hfHome = filepath.Join(root, "hf")
	if _, err := cachewrite.Write(filepath.Join(hfHome, "hub"), cachewrite.Snapshot{RepoID: repo, Refs: []string{"main"}, Files: files}); err != nil {
		t.Fatal(err)
	}
	return hfHome
}

func runMain(t *testing.T, hfHome string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := cli.Env{
		Stdin: bytes.NewReader(nil), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(k string) string {
			if k == "HF_HOME" {
				return hfHome
			}
			return ""
		},
		Now:  func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
		Home: t.TempDir(),
	}
	code := Program.Main(context.Background(), env, args)
	return code, stdout.String(), stderr.String()
}

func TestConvertCachedFloatModel(t *testing.T) {
	hf := cachedModel(t, "org/Qwen2-tiny", "qwen2-bf16")
	target := filepath.Join(t.TempDir(), "q4")
	code, out, errOut := runMain(t, hf, "convert", "Qwen2-tiny", target, "--quantize", "4", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	var env struct {
		Status string
		Data   ConvertData
	}
	if err := json.Unmarshal([]byte(out), &env); err != nil {
		t.Fatal(err)
	}
	d := env.Data
	if env.Status != "success" || d.QuantizedModules != 15 || *d.Bits != 4 || *d.GroupSize != 64 || *d.DType != "bfloat16" || len(d.Unquantized) != 0 {
		t.Errorf("data %+v", d)
	}
	m, err := safetensors.OpenModel(target)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if w, _ := m.Tensor("model.embed_tokens.weight"); w.DType != safetensors.U32 {
		t.Errorf("embed not quantized: %s", w.DType)
	}
	s, err := workspace.ReadSentinel(target)
	if err != nil || s.Operation != "convert" || s.SourceRepo != "org/Qwen2-tiny" || s.SourceRevision != "main" || len(s.SourceCommit) != 40 || s.CreatedAt != "2026-01-02T03:04:05Z" {
		t.Errorf("sentinel %+v %v", s, err)
	}

	// The result is byte-identical to the generated 4-bit test model.
	gen := filepath.Join(t.TempDir(), "gen")
	spec, _ := testmodel.Lookup("qwen2-q4")
	if err := testmodel.Write(gen, spec); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"model.safetensors", "config.json"} {
		a, _ := os.ReadFile(filepath.Join(target, f))
		b, _ := os.ReadFile(filepath.Join(gen, f))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from testmodel qwen2-q4", f)
		}
	}

	// A path to a folder without config.json is model_not_found.
	code, out, _ = runMain(t, hf, "convert", t.TempDir(), filepath.Join(t.TempDir(), "x"), "--json")
	if code != 1 || !bytes.Contains([]byte(out), []byte(`"type":"model_not_found"`)) {
		t.Errorf("empty folder: exit %d %s", code, out)
	}
	// Converting the quantized copy again is refused.
	code, out, _ = runMain(t, hf, "convert", target, filepath.Join(t.TempDir(), "again"), "--quantize", "8", "--json")
	if code != 1 || !bytes.Contains([]byte(out), []byte(`"type":"already_quantized"`)) {
		t.Errorf("requantize: exit %d %s", code, out)
	}
}

func TestConvertGroupSizeLeavesNarrowWeights(t *testing.T) {
	hf := cachedModel(t, "org/Llama-tiny", "llama-f32")
	target := filepath.Join(t.TempDir(), "q8")
	code, out, errOut := runMain(t, hf, "convert", "org/Llama-tiny", target, "--quantize", "8", "--group-size", "128", "--dtype", "float16")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	// Only the two down_proj weights have 128 inputs; the others stay float16 and are listed.
	if !bytes.Contains([]byte(out), []byte("2 modules quantized to 8 bits (group 128), float16")) || !bytes.Contains([]byte(out), []byte("kept in float: lm_head (input dimension 64 not a multiple of group size 128)")) {
		t.Errorf("human output:\n%s", out)
	}
}
