package live

import (
	"strings"
	"testing"
)

func TestParseStopTokens(t *testing.T) {
	stderr := []byte("Loading model from x...\nModel loaded in 0.1s (llama, 4bit g64, 3.3 MB of weights)\n" +
		`Stop tokens: [4095 "<|im_end|>", 4093 "<|endoftext|>", 7 "a \"quoted\", one", 9 ""]` + "\nPeak memory: 11.8 MB\n")
	got, ok := ParseStopTokens(stderr)
	if !ok || strings.Join(got, "|") != `<|im_end|>|<|endoftext|>|a "quoted", one` {
		t.Errorf("ParseStopTokens = %q, %v", got, ok)
	}
	if _, ok := ParseStopTokens([]byte("no such line\n")); ok {
		t.Error("found a stop-token line that is not there")
	}
}

func TestVisibleStopTokensAndMarkup(t *testing.T) {
	stops := []string{"<|im_end|>", "<|endoftext|>", "</s>"}
	got := VisibleStopTokens(stops, "fine", "tail <|endoftext|> and <|im_end|>", "<|endoftext|>")
	if strings.Join(got, " ") != "<|im_end|> <|endoftext|>" {
		t.Errorf("VisibleStopTokens = %q", got)
	}
	if got := VisibleStopTokens(stops, "clean answer", ""); len(got) != 0 {
		t.Errorf("found %q in a clean answer", got)
	}
	if got := LeakedReasoningMarkers("x</think>y<|channel|>"); strings.Join(got, " ") != "</think> <|channel|>" {
		t.Errorf("LeakedReasoningMarkers = %q", got)
	}
}

func TestMismatch(t *testing.T) {
	if m := Mismatch("a and b", "same", "same"); m != "" {
		t.Errorf("equal texts: %q", m)
	}
	m := Mismatch("stream and batch", "héllo world", "héllo there")
	if !strings.Contains(m, "differ at byte 7") || !strings.Contains(m, `"world"`) || !strings.Contains(m, `"there"`) {
		t.Errorf("Mismatch = %q", m)
	}
	if m := Mismatch("x", "ab", "abc"); !strings.Contains(m, "differ at byte 2 (lengths 2 and 3)") {
		t.Errorf("prefix: %q", m)
	}
	// A difference inside a multi-byte character backs up to its start.
	if m := Mismatch("x", "aé", "aè"); !strings.Contains(m, "differ at byte 1") {
		t.Errorf("rune boundary: %q", m)
	}
}

func TestFamilyAndParameterSize(t *testing.T) {
	for _, c := range []struct {
		name, arch, quant string
		size              int64
		family, params    string
	}{
		{"mlx-community/Llama-3.2-3B-Instruct-4bit", "llama", "4bit", 1 << 30, "Llama", "3B"},
		{"mlx-community/Qwen2.5-0.5B-Instruct-4bit", "qwen2", "4bit", 1 << 28, "Qwen", "0.5B"},
		{"mlx-community/Mixtral-8x7B-Instruct-v0.1-4bit", "mixtral", "4bit", 1 << 34, "Mixtral", "8x7B"},
		{"mlx-community/SmolLM-135M-Instruct-4bit", "llama", "4bit", 1 << 26, "SmolLM", "135M"},
		{"mlx-community/gpt-oss-20b-MXFP4-Q8", "gpt_oss", "mxfp4", 12 << 30, "GPT-OSS", "20B"},
		{"mlxk-smoke/gemma3-f32", "gemma3_text", "float32", 874638, "Gemma", "~0.22M"},
		{"org/custom", "gemma3_text", "bfloat16", 2e9, "Gemma", "~1.0B"},
		{"org/custom", "exaone", "bfloat16", 2e9, "exaone", "~1.0B"},
		{"org/custom", "", "", 1, "unknown", ""},
	} {
		if f := Family(c.name, c.arch); f != c.family {
			t.Errorf("Family(%s) = %s, want %s", c.name, f, c.family)
		}
		if p := ParameterSize(c.name, c.quant, c.size); p != c.params {
			t.Errorf("ParameterSize(%s) = %q, want %q", c.name, p, c.params)
		}
	}
}
