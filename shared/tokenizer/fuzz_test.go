package tokenizer_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mlxk/mlxk/shared/tokenizer"
)

// fuzzSeeds are tokenizer.json documents for FuzzNew to start from.
func fuzzSeeds() [][]byte {
	ms := map[string]any{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": true}
	return [][]byte{
		doc(byteLevelModel(nil), map[string]any{"normalizer": map[string]any{"type": "NFC"}, "pre_tokenizer": byteLevelPre, "decoder": byteLevelDec, "post_processor": byteLevelDec,
			"added_tokens": []any{added(265, "<a>", true), added(266, "[L]", false, "lstrip", "rstrip", "single_word")}}),
		doc(spModel(nil), map[string]any{"normalizer": spNormalizer, "decoder": spDecoder, "post_processor": bosTemplate("<s>", 1),
			"added_tokens": []any{added(0, "<unk>", true), added(1, "<s>", true), added(2, "</s>", true)}}),
		doc(spModel(map[string]any{"byte_fallback": false}), map[string]any{"pre_tokenizer": ms, "decoder": ms}),
		doc(byteLevelModel(map[string]any{"ignore_merges": true}), map[string]any{
			"normalizer":    map[string]any{"type": "Sequence", "normalizers": []any{map[string]any{"type": "Lowercase"}, map[string]any{"type": "Strip", "strip_left": true, "strip_right": true}, map[string]any{"type": "Replace", "pattern": map[string]any{"Regex": `\s+`}, "content": " "}}},
			"pre_tokenizer": map[string]any{"type": "Sequence", "pretokenizers": []any{map[string]any{"type": "Digits", "individual_digits": true}, map[string]any{"type": "Punctuation"}, map[string]any{"type": "WhitespaceSplit"}, map[string]any{"type": "ByteLevel", "add_prefix_space": true, "use_regex": true}}},
			"decoder":       map[string]any{"type": "Sequence", "decoders": []any{byteLevelDec, map[string]any{"type": "Strip", "content": " ", "start": 1, "stop": 1}}},
		}),
		[]byte(`{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]},"pre_tokenizer":{"type":"Split","pattern":{"Regex":"(?i:a)+|\\s+(?!\\S)|\\p{L}{1,3}+"},"behavior":"MergedWithNext","invert":true}}`),
		[]byte(`{"model":{"type":"WordPiece","vocab":{}}}`),
		[]byte(`{"model":{"vocab":{"a":0},"merges":[]},"added_tokens":[{"id":0,"content":"a"}]}`),
		[]byte(`{"model":{"type":"BPE","vocab":{"\u00e9":3,"\ud83d\ude00":1},"merges":[["\u00e9","\ud83d\ude00"]]}}`),
		[]byte(`{}`),
		[]byte(`null`),
	}
}

// FuzzNew feeds arbitrary bytes to New: it must not panic, and errors
// must be *UnsupportedError or wrap ErrInvalid.
func FuzzNew(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := tokenizer.New(data, nil)
		if err != nil {
			var ue *tokenizer.UnsupportedError
			if !errors.As(err, &ue) && !errors.Is(err, tokenizer.ErrInvalid) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		for _, s := range []string{"", "a", " ab hi ", "é<a>  [L] x\n\n12", "\xff\xfe", strings.Repeat("ab ", 40)} {
			// Post-processors may add any id they name; the rest must be
			// in the vocabulary.
			for _, id := range tok.Encode(s, false) {
				if id < 0 || id >= tok.VocabSize() {
					t.Fatalf("Encode(%q) gave id %d outside [0, %d)", s, id, tok.VocabSize())
				}
			}
			ids := tok.Encode(s, true)
			if out := tok.Decode(ids, false); !utf8.ValidString(out) {
				t.Fatalf("Decode gave invalid UTF-8 %q", out)
			}
			streamAll(tok, ids)
		}
		tok.Decode([]int{-1, 0, 1, 2, 3, 1 << 30}, true)
	})
}

// FuzzEncode checks that a byte-level tokenizer without a normalizer
// round-trips any text, and that streaming gives the same text.
func FuzzEncode(f *testing.F) {
	tj := doc(byteLevelModel(nil), map[string]any{
		"pre_tokenizer": byteLevelPre, "decoder": byteLevelDec, "post_processor": byteLevelDec,
		"added_tokens": []any{added(265, "<|end|>", true), added(266, "<think>", false, "raw"), added(267, "ζeta", false, "normalized")},
	})
	tok, err := tokenizer.New(tj, nil)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"", "the thing", " the  thing\n\n", "<|end|><think>ζetaé", "I'm 42 ḿore  \t\r\n", "👍🏽 中文", "\xe2\x82", "'S'LL ſK", "\x91\x8d\U000223FD"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids := tok.Encode(s, true)
		got := tok.Decode(ids, false)
		if utf8.ValidString(s) && got != s {
			t.Fatalf("Decode(Encode(%q)) = %q (ids %v)", s, got, ids)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("Decode gave invalid UTF-8 %q", got)
		}
		if st := streamAll(tok, ids); st != got {
			t.Fatalf("stream %q != Decode %q", st, got)
		}
	})
}
