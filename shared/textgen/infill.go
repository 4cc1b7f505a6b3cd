package textgen

import (
	"slices"

	"github.com/mlxk/mlxk/shared/tokenizer"
)

// Fill-in-the-middle (FIM): code models trained to write the text between
// a prefix and a suffix read the two parts between special tokens and
// write the middle after the last one. Which tokens a model knows, and so
// which layout it was trained on, is in its tokenizer's vocabulary.
//
// Only byte-level and no-dummy-prefix tokenizers are listed: each part is
// tokenized on its own, which for them is the training layout. Code Llama
// (▁<PRE>) and Codestral ([PREFIX]) tokenize their parts with a leading
// space that their reference code strips in its own way; they are not
// listed rather than served a layout they were not trained on.

// FIM is a model's fill-in-the-middle layout: token ids, not text, so a
// prompt that happens to contain the tokens' text cannot shift the parts.
type FIM struct {
	// Name is the prefix token's text, for messages.
	Name string
	// Lead are the tokens the tokenizer puts before any text (BOS for
	// DeepSeek-Coder; none for Qwen2.5-Coder or StarCoder2).
	Lead                   []int32
	Prefix, Suffix, Middle int32
	// End are tokens besides the model's EOS that end a fill: the padding
	// and file or repository separators these models write when the
	// middle is done.
	End []int32
}

// fimLayout is one family's token texts.
type fimLayout struct {
	prefix, suffix, middle string
	end                    []string
}

var fimLayouts = []fimLayout{
	// Qwen2.5-Coder, CodeGemma.
	{"<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>",
		[]string{"<|fim_pad|>", "<|file_sep|>", "<|repo_name|>", "<|file_separator|>", "<|endoftext|>"}},
	// StarCoder, StarCoder2, Granite Code, SantaCoder.
	{"<fim_prefix>", "<fim_suffix>", "<fim_middle>",
		[]string{"<fim_pad>", "<file_sep>", "<|endoftext|>"}},
	// DeepSeek-Coder.
	{"<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>",
		[]string{"<|EOT|>", "<｜end▁of▁sentence｜>"}},
}

// FIMOf returns the fill-in-the-middle layout of tok's model; ok is false
// when its vocabulary has none of the known ones.
func FIMOf(tok *tokenizer.Tokenizer) (f FIM, ok bool) {
	for _, l := range fimLayouts {
		p, okP := tok.TokenID(l.prefix)
		s, okS := tok.TokenID(l.suffix)
		m, okM := tok.TokenID(l.middle)
		if !okP || !okS || !okM {
			continue
		}
		f = FIM{Name: l.prefix, Prefix: int32(p), Suffix: int32(s), Middle: int32(m)}
		f.Lead = lead(tok)
		for _, e := range l.end {
			if id, ok := tok.TokenID(e); ok {
				f.End = append(f.End, int32(id))
			}
		}
		return f, true
	}
	return FIM{}, false
}

// Encode lays out prefix and suffix for the model to write the middle:
// lead, prefix token, prefix, suffix token, suffix, middle token (the
// prefix-suffix-middle order all listed families were trained on).
func (f FIM) Encode(tok *tokenizer.Tokenizer, prefix, suffix string) []int32 {
	p, s := tok.EncodeIDs(prefix, false), tok.EncodeIDs(suffix, false)
	ids := make([]int32, 0, len(f.Lead)+len(p)+len(s)+3)
	ids = append(ids, f.Lead...)
	ids = append(append(ids, f.Prefix), p...)
	ids = append(append(ids, f.Suffix), s...)
	return append(ids, f.Middle)
}

// lead is what tok's post-processor puts before a text: the special
// tokens in front of a probe's own tokens (a BOS), not those after it.
func lead(tok *tokenizer.Tokenizer) []int32 {
	with, without := tok.EncodeIDs("a", true), tok.EncodeIDs("a", false)
	for i := 0; i+len(without) <= len(with); i++ {
		if slices.Equal(with[i:i+len(without)], without) {
			return with[:i:i]
		}
	}
	return nil
}
