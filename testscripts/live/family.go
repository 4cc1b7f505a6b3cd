package live

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// families are the model families the report groups by, matched in the
// model's name (after the organisation) in this order.
var families = []struct{ key, name string }{
	{"gpt-oss", "GPT-OSS"}, {"deepseek", "DeepSeek"}, {"mixtral", "Mixtral"}, {"mistral", "Mistral"},
	{"ministral", "Mistral"}, {"llama", "Llama"}, {"qwq", "QwQ"}, {"qwen", "Qwen"}, {"phi", "Phi"},
	{"gemma", "Gemma"}, {"smollm", "SmolLM"}, {"granite", "Granite"}, {"olmo", "OLMo"}, {"hermes", "Hermes"},
}

func baseName(name string) string { return name[strings.LastIndexByte(name, '/')+1:] }

// Family names a model's family from its name, else from its
// architecture (config model_type), else "unknown".
func Family(name, arch string) string {
	for _, s := range []string{baseName(name), arch} {
		low := strings.ToLower(s)
		for _, f := range families {
			if strings.Contains(low, f.key) {
				return f.name
			}
		}
	}
	if arch != "" {
		return arch
	}
	return "unknown"
}

var paramPattern = regexp.MustCompile(`(?i)(?:^|[-_.])((?:\d+x)?\d+(?:\.\d+)?)([bm])(?:$|[-_.])`)

// ParameterSize is the parameter count a model's name states ("3B",
// "0.5B", "8x7B", "135M"), else an estimate from its size on disk and
// its quantization ("~0.1M"), else "".
func ParameterSize(name, quantization string, sizeBytes int64) string {
	if m := paramPattern.FindStringSubmatch(baseName(name)); m != nil {
		return strings.ToLower(m[1]) + strings.ToUpper(m[2])
	}
	bits := bitsPerWeight(quantization)
	if bits == 0 || sizeBytes <= 0 {
		return ""
	}
	params := float64(sizeBytes) * 8 / bits
	switch {
	case params >= 1e9:
		return fmt.Sprintf("~%.1fB", params/1e9)
	case params >= 1e6:
		return fmt.Sprintf("~%.1fM", params/1e6)
	}
	return fmt.Sprintf("~%.2fM", params/1e6)
}

// bitsPerWeight is the storage cost of one weight for a quantization
// label of `mlxk show` ("4bit", "bfloat16", …): affine quantization adds a
// 16-bit scale and bias per group of (typically) 64, half a bit.
func bitsPerWeight(q string) float64 {
	q = strings.ToLower(q)
	switch {
	case strings.Contains(q, "float32"), q == "f32", q == "fp32":
		return 32
	case strings.Contains(q, "float16"), q == "f16", q == "bf16", q == "fp16":
		return 16
	}
	if n, ok := strings.CutSuffix(q, "bit"); ok {
		if v, err := strconv.Atoi(n); err == nil && v > 0 && v <= 16 {
			return float64(v) + 0.5
		}
	}
	if strings.Contains(q, "mxfp4") {
		return 4.25
	}
	return 0
}
