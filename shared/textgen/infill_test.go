package textgen

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/mlxk/mlxk/shared/tokenizer"
	"github.com/mlxk/mlxk/shared/tokenizer/tokentest"
)

// fimTokenizer is a byte-level tokenizer with the given special tokens at
// ids 240 and up; with bos set, its post-processor puts the first of them
// before every text, as DeepSeek-Coder's does.
func fimTokenizer(t *testing.T, bos bool, specials ...string) *tokenizer.Tokenizer {
	t.Helper()
	var added []tokentest.Added
	for i, s := range specials {
		added = append(added, tokentest.Added{ID: 240 + i, Content: s})
	}
	raw := tokentest.ByteLevel(added...)
	if bos {
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		doc["post_processor"] = map[string]any{
			"type":   "TemplateProcessing",
			"single": []any{map[string]any{"SpecialToken": map[string]any{"id": specials[0], "type_id": 0}}, map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}}},
			"pair":   []any{},
			"special_tokens": map[string]any{
				specials[0]: map[string]any{"id": specials[0], "ids": []int{240}, "tokens": []string{specials[0]}},
			},
		}
		raw, _ = json.Marshal(doc)
	}
	tok, err := tokenizer.New(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func bytesOf(s string) []int32 {
	out := make([]int32, len(s))
	for i := range len(s) {
		out[i] = int32(s[i])
	}
	return out
}

func cat(parts ...[]int32) []int32 { return slices.Concat(parts...) }

// TestFIMLayouts: each family is recognised by its tokens, lays the parts
// out prefix-suffix-middle by id (the parts' text containing a FIM token's
// text cannot move them, as it is tokenized as text around them), puts a
// BOS in front only when the tokenizer adds one, and ends on the family's
// padding and separator tokens that the vocabulary has.
func TestFIMLayouts(t *testing.T) {
	const prefix, suffix = "def add(a, b):\n    return ", "\n\nprint(add(1, 2))\n"
	cases := []struct {
		name     string
		bos      bool
		specials []string
		lead     []int32
		p, s, m  int32
		end      []int32
	}{
		{"qwen", false, []string{"<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|file_sep|>", "<|endoftext|>"},
			nil, 240, 242, 241, []int32{243, 244, 245}},
		{"starcoder", false, []string{"<fim_prefix>", "<fim_middle>", "<fim_suffix>", "<fim_pad>", "<|endoftext|>"},
			nil, 240, 242, 241, []int32{243, 244}},
		{"deepseek", true, []string{"<｜begin▁of▁sentence｜>", "<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>", "<|EOT|>"},
			[]int32{240}, 241, 242, 243, []int32{244}},
	}
	for _, c := range cases {
		tok := fimTokenizer(t, c.bos, c.specials...)
		f, ok := FIMOf(tok)
		if !ok {
			t.Fatalf("%s: no FIM layout found", c.name)
		}
		if !slices.Equal(f.Lead, c.lead) || f.Prefix != c.p || f.Suffix != c.s || f.Middle != c.m || !slices.Equal(f.End, c.end) {
			t.Fatalf("%s: got %+v", c.name, f)
		}
		want := cat(c.lead, []int32{c.p}, bytesOf(prefix), []int32{c.s}, bytesOf(suffix), []int32{c.m})
		if got := f.Encode(tok, prefix, suffix); !slices.Equal(got, want) {
			t.Fatalf("%s: Encode = %v\nwant %v", c.name, got, want)
		}
		if got := f.Encode(tok, "", ""); !slices.Equal(got, cat(c.lead, []int32{c.p, c.s, c.m})) {
			t.Fatalf("%s: empty parts: %v", c.name, got)
		}
	}
}

// TestFIMAbsent: a vocabulary without all three tokens of a family has no
// layout, nor one with only Code Llama's or Codestral's, which are not
// served (see infill.go).
func TestFIMAbsent(t *testing.T) {
	for _, specials := range [][]string{
		nil,
		{"<|fim_prefix|>", "<|fim_suffix|>"},
		{"▁<PRE>", "▁<SUF>", "▁<MID>"},
		{"[PREFIX]", "[SUFFIX]"},
	} {
		if f, ok := FIMOf(fimTokenizer(t, false, specials...)); ok {
			t.Fatalf("%q: found %+v", specials, f)
		}
	}
}
