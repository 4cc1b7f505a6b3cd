// Package modeltypes is the single table of config.json model_type values
// the mlxk engine runs. list, show and health read it to decide
// runtime_compatible without linking the engine; the engine's own tests
// check that it implements every entry, so the two cannot drift apart.
package modeltypes

import (
	"slices"
	"sort"
)

// supported maps a model_type to the decoder family that runs it.
var supported = map[string]string{
	"llama":   "llama",
	"mistral": "llama",
	"qwen2":   "llama",
	"qwen3":   "llama",
	"phi3":    "llama",
	// Gemma: (1+w) norms, scaled embeddings, four norms per block, GELU.
	"gemma2":      "gemma",
	"gemma3":      "gemma",
	"gemma3_text": "gemma",
}

// Supported reports whether the engine runs models of this type.
func Supported(modelType string) bool {
	_, ok := supported[modelType]
	return ok
}

// Family returns the decoder family of a supported type.
func Family(modelType string) (string, bool) {
	f, ok := supported[modelType]
	return f, ok
}

// All returns the supported types in sorted order.
func All() []string {
	out := make([]string, 0, len(supported))
	for k := range supported {
		out = append(out, k)
	}
	sort.Strings(out)
	return slices.Clip(out)
}
