// Package tokentest writes small tokenizer.json files for tests: a
// byte-level vocabulary in which every byte is one token, so any text
// encodes and each token's id is its byte, with optional added tokens.
package tokentest

import (
	"encoding/json"

	"github.com/mlxk/mlxk/shared/tokenizer"
)

// Added is a special token that takes the place of the byte with its id
// (that byte can then no longer be encoded).
type Added struct {
	ID      int
	Content string
}

// ByteLevel is a tokenizer.json whose vocabulary is the 256 bytes in
// order, in GPT-2's byte-level alphabet, without merges, plus added.
func ByteLevel(added ...Added) []byte {
	taken := map[int]bool{}
	addedJSON := []any{}
	for _, a := range added {
		taken[a.ID] = true
		addedJSON = append(addedJSON, map[string]any{"id": a.ID, "content": a.Content, "single_word": false,
			"lstrip": false, "rstrip": false, "normalized": false, "special": true})
	}
	vocab := make(map[string]int, 256)
	for b, r := range tokenizer.ByteLevelAlphabet() {
		if !taken[b] {
			vocab[string(r)] = b
		}
	}
	// Added tokens take the id their content has in the vocabulary (the
	// "id" members are ignored, as the tokenizers crate does).
	for _, a := range added {
		vocab[a.Content] = a.ID
	}
	bl := map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}
	doc := map[string]any{
		"version":        "1.0",
		"added_tokens":   addedJSON,
		"normalizer":     nil,
		"pre_tokenizer":  bl,
		"post_processor": nil,
		"decoder":        bl,
		"model": map[string]any{"type": "BPE", "vocab": vocab, "merges": []string{}, "dropout": nil,
			"unk_token": nil, "continuing_subword_prefix": nil, "end_of_word_suffix": nil, "fuse_unk": false,
			"byte_fallback": false},
	}
	b, _ := json.Marshal(doc) // plain maps and strings: cannot fail
	return b
}
