package tokenizer_test

// Unit tests on small hand-built tokenizer.json documents. The expected
// values were checked against Hugging Face's Rust tokenizers (npm
// "tokenizers" 0.23.2): run the tests with MLXK_TOKENIZER_TEST_DUMP=DIR to
// write every document and input there for such a check.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/mlxk/mlxk/shared/tokenizer"
)

// byteChars is the GPT-2 byte-level alphabet in byte order.
func byteChars() []string {
	var out []string
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			out = append(out, string(rune(b)))
		} else {
			out = append(out, string(rune(256+n)))
			n++
		}
	}
	return out
}

// byteLevelModel is a toy byte-level BPE: ids 0..255 are the bytes, then
// a few merged tokens.
func byteLevelModel(extra map[string]any) map[string]any {
	vocab := map[string]int{}
	for b, c := range byteChars() {
		vocab[c] = b
	}
	for i, tok := range []string{"Ġt", "he", "Ġthe", "in", "ing", "Ġth", "Ġthing", "th", "the"} {
		vocab[tok] = 256 + i
	}
	m := map[string]any{
		"type": "BPE", "dropout": nil, "unk_token": nil, "continuing_subword_prefix": nil,
		"end_of_word_suffix": nil, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
		"vocab": vocab,
		"merges": []any{
			[]string{"Ġ", "t"}, []string{"h", "e"}, []string{"Ġt", "he"}, []string{"i", "n"},
			[]string{"in", "g"}, []string{"Ġt", "h"}, []string{"Ġth", "ing"}, []string{"t", "h"},
			[]string{"th", "e"},
		},
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// Byte-level ids of the toy model.
const (
	idSpace  = 32 // Ġ
	idT      = 't'
	idH      = 'h'
	idE      = 'e'
	idHe     = 257
	idSpThe  = 258
	idSpThng = 262
	idThe    = 264
)

const qwenRegex = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

var byteLevelPre = map[string]any{"type": "Sequence", "pretokenizers": []any{
	map[string]any{"type": "Split", "pattern": map[string]any{"Regex": qwenRegex}, "behavior": "Isolated", "invert": false},
	map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false},
}}

var byteLevelDec = map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}

// spModel is a toy SentencePiece-style BPE with byte fallback.
func spModel(extra map[string]any) map[string]any {
	vocab := map[string]int{"<unk>": 0, "<s>": 1, "</s>": 2}
	for b := 0; b < 256; b++ {
		vocab[fmt.Sprintf("<0x%02X>", b)] = 3 + b
	}
	for i, tok := range []string{"▁", "a", "b", "c", "▁a", "ab", "▁ab", "▁b", "h", "i", "▁h", "hi", "▁hi"} {
		vocab[tok] = 259 + i
	}
	m := map[string]any{
		"type": "BPE", "dropout": nil, "unk_token": "<unk>", "continuing_subword_prefix": nil,
		"end_of_word_suffix": nil, "fuse_unk": true, "byte_fallback": true,
		"vocab":  vocab,
		"merges": []string{"▁ a", "a b", "▁a b", "▁ b", "h i", "▁ h", "▁h i", "▁ hi"},
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// SentencePiece toy ids.
const (
	spUnk  = 0
	spBOS  = 1
	spEOS  = 2
	spMeta = 259
	spA    = 260
	spSpA  = 263
	spAB   = 264
	spSpAB = 265
	spSpHi = 271
)

func spByte(b byte) int { return 3 + int(b) }

var spNormalizer = map[string]any{"type": "Sequence", "normalizers": []any{
	map[string]any{"type": "Prepend", "prepend": "▁"},
	map[string]any{"type": "Replace", "pattern": map[string]any{"String": " "}, "content": "▁"},
}}

var spDecoder = map[string]any{"type": "Sequence", "decoders": []any{
	map[string]any{"type": "Replace", "pattern": map[string]any{"String": "▁"}, "content": " "},
	map[string]any{"type": "ByteFallback"},
	map[string]any{"type": "Fuse"},
	map[string]any{"type": "Strip", "content": " ", "start": 1, "stop": 0},
}}

func bosTemplate(tok string, id int) map[string]any {
	return map[string]any{
		"type":   "TemplateProcessing",
		"single": []any{map[string]any{"SpecialToken": map[string]any{"id": tok, "type_id": 0}}, map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}}},
		"pair":   []any{},
		"special_tokens": map[string]any{
			tok: map[string]any{"id": tok, "ids": []int{id}, "tokens": []string{tok}},
		},
	}
}

func added(id int, content string, special bool, flags ...string) map[string]any {
	a := map[string]any{"id": id, "content": content, "single_word": false, "lstrip": false,
		"rstrip": false, "normalized": !special, "special": special}
	for _, f := range flags {
		switch f {
		case "normalized":
			a["normalized"] = true
		case "raw":
			a["normalized"] = false
		default:
			a[f] = true
		}
	}
	return a
}

// doc assembles a tokenizer.json.
func doc(model map[string]any, parts map[string]any) []byte {
	d := map[string]any{
		"version": "1.0", "truncation": nil, "padding": nil, "added_tokens": []any{},
		"normalizer": nil, "pre_tokenizer": nil, "post_processor": nil, "decoder": nil,
		"model": model,
	}
	for k, v := range parts {
		d[k] = v
	}
	b, err := json.Marshal(d)
	if err != nil {
		panic(err)
	}
	return b
}

var dumpMu sync.Mutex

// newTok builds a tokenizer and, with MLXK_TOKENIZER_TEST_DUMP set,
// records the document and the inputs the test encodes.
func newTok(t *testing.T, tj []byte, inputs ...string) *tokenizer.Tokenizer {
	t.Helper()
	if dir := os.Getenv("MLXK_TOKENIZER_TEST_DUMP"); dir != "" {
		dumpMu.Lock()
		name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
		p := filepath.Join(dir, name)
		for i := 2; ; i++ {
			if _, err := os.Stat(p); err != nil {
				break
			}
			p = filepath.Join(dir, fmt.Sprintf("%s_%d", name, i))
		}
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(p, "tokenizer.json"), tj, 0o644)
		in, _ := json.Marshal(inputs)
		os.WriteFile(filepath.Join(p, "inputs.json"), in, 0o644)
		dumpMu.Unlock()
	}
	tok, err := tokenizer.New(tj, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return tok
}

type encodeCase struct {
	in      string
	ids     []int // Encode(in, false)
	special []int // Encode(in, true); nil means same as ids
	decoded *string
}

func str(s string) *string { return &s }

func inputs(cases []encodeCase) []string {
	var out []string
	for _, c := range cases {
		out = append(out, c.in)
	}
	return out
}

func checkCases(t *testing.T, tok *tokenizer.Tokenizer, cases []encodeCase) {
	t.Helper()
	for _, c := range cases {
		got := tok.Encode(c.in, false)
		if !slices.Equal(got, c.ids) {
			t.Errorf("Encode(%q, false) = %v, want %v", c.in, got, c.ids)
		}
		want := c.special
		if want == nil {
			want = c.ids
		}
		if got := tok.Encode(c.in, true); !slices.Equal(got, want) {
			t.Errorf("Encode(%q, true) = %v, want %v", c.in, got, want)
		}
		wantDec := c.in
		if c.decoded != nil {
			wantDec = *c.decoded
		}
		if got := tok.Decode(c.ids, false); got != wantDec {
			t.Errorf("Decode(%v) = %q, want %q", c.ids, got, wantDec)
		}
		if got := streamAll(tok, c.ids); got != wantDec {
			t.Errorf("stream of %v = %q, want %q", c.ids, got, wantDec)
		}
	}
}

// streamAll runs ids through a StreamDecoder, checking every chunk is
// valid UTF-8.
func streamAll(tok *tokenizer.Tokenizer, ids []int) string {
	sd := tok.NewStreamDecoder()
	var b strings.Builder
	for _, id := range ids {
		chunk := sd.Add(id)
		if !utf8.ValidString(chunk) {
			return fmt.Sprintf("invalid UTF-8 chunk %q", chunk)
		}
		b.WriteString(chunk)
	}
	b.WriteString(sd.Flush())
	return b.String()
}

func TestByteLevelBPE(t *testing.T) {
	cases := []encodeCase{
		// Merges go by rank, not left to right: "t h" ranks below "h e",
		// so "the" stays t + he although "the" is in the vocabulary.
		{in: "the", ids: []int{idT, idHe}},
		{in: " the thing", ids: []int{idSpThe, idSpThng}},
		{in: "the the", ids: []int{idT, idHe, idSpThe}},
		{in: "é", ids: []int{0xC3, 0xA9}},
		{in: "a  b\n", ids: []int{'a', idSpace, idSpace, 'b', 0x0A}},
		{in: "", ids: []int{}},
	}
	tj := doc(byteLevelModel(nil), map[string]any{"normalizer": map[string]any{"type": "NFC"}, "pre_tokenizer": byteLevelPre, "decoder": byteLevelDec, "post_processor": byteLevelDec})
	checkCases(t, newTok(t, tj, inputs(cases)...), cases)
}

func TestIgnoreMerges(t *testing.T) {
	cases := []encodeCase{
		{in: "the", ids: []int{idThe}},
		{in: "thethe", ids: []int{idT, idHe, idT, idHe}},
	}
	tj := doc(byteLevelModel(map[string]any{"ignore_merges": true}), map[string]any{"pre_tokenizer": byteLevelPre, "decoder": byteLevelDec})
	checkCases(t, newTok(t, tj, inputs(cases)...), cases)
}

func TestStringMerges(t *testing.T) {
	m := byteLevelModel(nil)
	var merges []string
	for _, p := range m["merges"].([]any) {
		merges = append(merges, strings.Join(p.([]string), " "))
	}
	m["merges"] = merges
	cases := []encodeCase{{in: " the thing", ids: []int{idSpThe, idSpThng}}}
	tj := doc(m, map[string]any{"pre_tokenizer": byteLevelPre, "decoder": byteLevelDec})
	checkCases(t, newTok(t, tj, inputs(cases)...), cases)
}

func TestSentencePieceBPE(t *testing.T) {
	cases := []encodeCase{
		{in: "ab hi", ids: []int{spSpAB, spSpHi}, special: []int{spBOS, spSpAB, spSpHi}},
		// Characters outside the vocabulary fall back to their bytes.
		{in: "é", ids: []int{spMeta, spByte(0xC3), spByte(0xA9)}, special: []int{spBOS, spMeta, spByte(0xC3), spByte(0xA9)}},
		// Prepend applies to every segment between added tokens.
		{in: "a</s>a", ids: []int{spSpA, spEOS, spSpA}, special: []int{spBOS, spSpA, spEOS, spSpA}},
		{in: "", ids: []int{}, special: []int{spBOS}},
	}
	tj := doc(spModel(nil), map[string]any{
		"added_tokens":   []any{added(0, "<unk>", true), added(1, "<s>", true), added(2, "</s>", true)},
		"normalizer":     spNormalizer,
		"post_processor": bosTemplate("<s>", 1),
		"decoder":        spDecoder,
	})
	tok := newTok(t, tj, inputs(cases)...)
	cases[2].decoded = str("a</s> a")
	checkCases(t, tok, cases)
	if got := tok.Decode([]int{spBOS, spSpAB, spEOS}, true); got != "ab" {
		t.Errorf("Decode(skip special) = %q, want %q", got, "ab")
	}
	if got := tok.Decode([]int{spBOS, spSpAB, 99999, -1}, false); got != "<s> ab" {
		t.Errorf("Decode with unknown ids = %q, want %q", got, "<s> ab")
	}
	// A byte run that is not UTF-8 decodes to one U+FFFD per byte.
	if got := tok.Decode([]int{spA, spByte(0xE2), spByte(0x82)}, false); got != "a\uFFFD\uFFFD" {
		t.Errorf("Decode(bad bytes) = %q", got)
	}
}

func TestUnknownTokens(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra map[string]any
		ids   []int
	}{
		{"fuse_unk", map[string]any{"byte_fallback": false}, []int{spMeta, spUnk, spA}},
		{"no_fuse", map[string]any{"byte_fallback": false, "fuse_unk": false}, []int{spMeta, spUnk, spUnk, spA}},
		{"no_unk", map[string]any{"byte_fallback": false, "unk_token": nil}, []int{spSpA}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tj := doc(spModel(tc.extra), map[string]any{"normalizer": spNormalizer})
			tok := newTok(t, tj, "éüa")
			if got := tok.Encode("éüa", false); !slices.Equal(got, tc.ids) {
				t.Errorf("Encode = %v, want %v", got, tc.ids)
			}
		})
	}
}

func TestAddedTokens(t *testing.T) {
	base := []any{
		added(265, "<a>", true), added(266, "<a><b>", true), added(267, "<think>", false, "raw"),
		added(268, "[L]", true, "lstrip"), added(269, "[R]", true, "rstrip"), added(270, "[W]", false, "single_word", "raw"),
		added(264, "the", false, "normalized"), added(271, "Ω", false, "normalized"),
	}
	tj := doc(byteLevelModel(nil), map[string]any{
		"added_tokens":  base,
		"normalizer":    map[string]any{"type": "NFC"},
		"pre_tokenizer": byteLevelPre,
		"decoder":       byteLevelDec,
	})
	cases := []encodeCase{
		// Longest match at the earliest position.
		{in: "<a><b><a>", ids: []int{266, 265}},
		{in: "x<think>y", ids: []int{'x', 267, 'y'}},
		// lstrip takes the spaces before, rstrip those after.
		{in: "x  [L]  y", ids: []int{'x', 268, idSpace, idSpace, 'y'}, decoded: str("x[L]  y")},
		{in: "x  [R]  y", ids: []int{'x', idSpace, idSpace, 269, 'y'}, decoded: str("x  [R]y")},
		// single_word: only as a whole word.
		{in: "a [W] b", ids: []int{'a', idSpace, 270, idSpace, 'b'}},
		{in: "a[W]b", ids: []int{'a', '[', 'W', ']', 'b'}},
		// normalized tokens match after normalization (Ω is U+2126,
		// which NFC turns into U+03A9).
		{in: "\u2126", ids: []int{271}, decoded: str("Ω")},
		{in: "bathe", ids: []int{'b', 'a', idThe}},
	}
	tok := newTok(t, tj, inputs(cases)...)
	checkCases(t, tok, cases)

	if id, ok := tok.TokenID("<think>"); !ok || id != 267 {
		t.Errorf("TokenID(<think>) = %d, %v", id, ok)
	}
	if s, ok := tok.Token(266); !ok || s != "<a><b>" {
		t.Errorf("Token(266) = %q, %v", s, ok)
	}
	if got := tok.VocabSize(); got != 272 {
		t.Errorf("VocabSize = %d, want 272", got)
	}
	// Special tokens are skipped on request, non-special ones are not.
	if got := tok.Decode([]int{265, 'x', 267}, true); got != "x<think>" {
		t.Errorf("Decode(skip) = %q", got)
	}
}

func TestAddedTokenIDs(t *testing.T) {
	// Like the Rust crate, ids come from the vocabulary or count on from
	// its size; the "id" members are not trusted.
	tj := doc(byteLevelModel(nil), map[string]any{
		"added_tokens":  []any{added(500, "the", true), added(7, "<x>", true), added(9, "<y>", true)},
		"pre_tokenizer": byteLevelPre, "decoder": byteLevelDec,
	})
	tok := newTok(t, tj, "the<x><y>")
	if got, want := tok.Encode("the<x><y>", false), []int{idThe, 265, 266}; !slices.Equal(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
}

func TestMetaspace(t *testing.T) {
	model := spModel(nil)
	pre := func(scheme string, split bool) []byte {
		ms := map[string]any{"type": "Metaspace", "replacement": "▁", "prepend_scheme": scheme, "split": split}
		return doc(model, map[string]any{
			"added_tokens":  []any{added(0, "<unk>", true), added(1, "<s>", true), added(2, "</s>", true)},
			"pre_tokenizer": ms, "decoder": ms,
		})
	}
	for _, tc := range []struct {
		scheme string
		split  bool
		in     string
		ids    []int
		dec    string
	}{
		{"always", false, "ab hi", []int{spSpAB, spSpHi}, "ab hi"},
		{"always", true, "ab hi", []int{spSpAB, spSpHi}, "ab hi"},
		{"always", false, "a</s>a", []int{spSpA, spEOS, spSpA}, "a</s> a"},
		{"first", false, "a</s>a", []int{spSpA, spEOS, spA}, "a</s>a"},
		{"first", false, "</s>a", []int{spEOS, spA}, "</s>a"},
		{"never", false, "ab hi", []int{spAB, spSpHi}, "ab hi"},
		{"never", true, "ab  hi", []int{spAB, spMeta, spSpHi}, "ab  hi"},
	} {
		t.Run(fmt.Sprintf("%s_%v_%s", tc.scheme, tc.split, tc.in), func(t *testing.T) {
			tok := newTok(t, pre(tc.scheme, tc.split), tc.in)
			if got := tok.Encode(tc.in, false); !slices.Equal(got, tc.ids) {
				t.Errorf("Encode(%q) = %v, want %v", tc.in, got, tc.ids)
			}
			if got := tok.Decode(tc.ids, false); got != tc.dec {
				t.Errorf("Decode = %q, want %q", got, tc.dec)
			}
		})
	}
}

func TestPostProcessors(t *testing.T) {
	for _, tc := range []struct {
		name string
		post any
		want []int
	}{
		{"template", bosTemplate("<s>", 1), []int{spBOS, spSpAB}},
		{"template_multi", map[string]any{
			"type":   "TemplateProcessing",
			"single": []any{map[string]any{"SpecialToken": map[string]any{"id": "<s>", "type_id": 0}}, map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}}, map[string]any{"SpecialToken": map[string]any{"id": "E", "type_id": 0}}},
			"pair":   []any{},
			"special_tokens": map[string]any{
				"<s>": map[string]any{"id": "<s>", "ids": []int{1}, "tokens": []string{"<s>"}},
				"E":   map[string]any{"id": "E", "ids": []int{2, 2}, "tokens": []string{"</s>", "</s>"}},
			},
		}, []int{spBOS, spSpAB, spEOS, spEOS}},
		{"bert", map[string]any{"type": "BertProcessing", "sep": []any{"</s>", 2}, "cls": []any{"<s>", 1}}, []int{spBOS, spSpAB, spEOS}},
		{"roberta", map[string]any{"type": "RobertaProcessing", "sep": []any{"</s>", 2}, "cls": []any{"<s>", 1}, "trim_offsets": true, "add_prefix_space": false}, []int{spBOS, spSpAB, spEOS}},
		{"sequence", map[string]any{"type": "Sequence", "processors": []any{byteLevelDec, bosTemplate("<s>", 1)}}, []int{spBOS, spSpAB}},
		{"bytelevel", byteLevelDec, []int{spSpAB}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := newTok(t, doc(spModel(nil), map[string]any{"normalizer": spNormalizer, "post_processor": tc.post}), "ab")
			if got := tok.Encode("ab", true); !slices.Equal(got, tc.want) {
				t.Errorf("Encode(true) = %v, want %v", got, tc.want)
			}
			if got := tok.Encode("ab", false); !slices.Equal(got, []int{spSpAB}) {
				t.Errorf("Encode(false) = %v", got)
			}
		})
	}
}

func TestStreamDecoder(t *testing.T) {
	bl := newTok(t, doc(byteLevelModel(nil), map[string]any{"pre_tokenizer": byteLevelPre, "decoder": byteLevelDec}))
	sp := newTok(t, doc(spModel(nil), map[string]any{
		"added_tokens": []any{added(0, "<unk>", true), added(1, "<s>", true), added(2, "</s>", true)},
		"normalizer":   spNormalizer, "decoder": spDecoder,
	}))
	for _, tc := range []struct {
		name   string
		tok    *tokenizer.Tokenizer
		ids    []int
		chunks []string // Add results, then Flush
	}{
		{"bytelevel_split_char", bl, []int{'a', 0xC3, 0xA9, 'b'}, []string{"a", "", "é", "b", ""}},
		{"bytelevel_emoji", bl, []int{0xF0, 0x9F, 0x91, 0x8D, idSpThe}, []string{"", "", "", "👍", " the", ""}},
		{"bytelevel_incomplete_flush", bl, []int{'a', 0xE2, 0x82}, []string{"a", "", "", "\uFFFD"}},
		{"bytelevel_invalid_then_ascii", bl, []int{0xE2, 'a'}, []string{"", "\uFFFDa", ""}},
		// A stray continuation byte cannot be completed: no hold.
		{"bytelevel_stray_byte", bl, []int{0x91, 'a'}, []string{"\uFFFD", "a", ""}},
		// U+FFFD itself is text like any other.
		{"bytelevel_replacement_char", bl, []int{0xEF, 0xBF, 0xBD, 'a'}, []string{"", "", "\uFFFD", "a", ""}},
		{"bytelevel_after_replacement", bl, []int{0xEF, 0xBF, 0xBD, 0xEF, 0xBF, 0xBD, 0xF0, 0xA2, 0x8F, 0xBD}, []string{"", "", "\uFFFD", "", "", "\uFFFD", "", "", "", "\U000223FD", ""}},
		// The SentencePiece decoder strips the first space only.
		{"sp_strip_first_space", sp, []int{spSpAB, spSpHi, spSpAB}, []string{"ab", " hi", " ab", ""}},
		{"sp_byte_fallback", sp, []int{spSpAB, spByte(0xE2), spByte(0x82), spByte(0xAC), spA}, []string{"ab", "", "", "€", "a", ""}},
		{"sp_special", sp, []int{spBOS, spSpAB, spEOS}, []string{"<s>", " ab", "</s>", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sd := tc.tok.NewStreamDecoder()
			var got []string
			for _, id := range tc.ids {
				got = append(got, sd.Add(id))
			}
			got = append(got, sd.Flush())
			if !slices.Equal(got, tc.chunks) {
				t.Errorf("chunks %q, want %q", got, tc.chunks)
			}
			if whole := tc.tok.Decode(tc.ids, false); strings.Join(got, "") != whole {
				t.Errorf("stream %q != Decode %q", strings.Join(got, ""), whole)
			}
			// The decoder is reusable after Flush.
			if again := streamAll(tc.tok, tc.ids); again != strings.Join(tc.chunks, "") {
				t.Errorf("second run %q", again)
			}
		})
	}
}

func TestInvalidUTF8Input(t *testing.T) {
	tok := newTok(t, doc(byteLevelModel(nil), map[string]any{"pre_tokenizer": byteLevelPre, "decoder": byteLevelDec}))
	// One U+FFFD per maximal ill-formed subsequence.
	got := tok.Decode(tok.Encode("a\xE2\x82b\xFF", false), false)
	if got != "a\uFFFDb\uFFFD" {
		t.Errorf("round trip of invalid UTF-8 = %q", got)
	}
}

func TestUnsupported(t *testing.T) {
	for _, tc := range []struct {
		part, key string
		value     any
		comp, typ string
	}{
		{"normalizer", "normalizer", map[string]any{"type": "BertNormalizer"}, "normalizer", "BertNormalizer"},
		{"nested normalizer", "normalizer", map[string]any{"type": "Sequence", "normalizers": []any{map[string]any{"type": "Precompiled"}}}, "normalizer", "Precompiled"},
		{"pre_tokenizer", "pre_tokenizer", map[string]any{"type": "UnicodeScripts"}, "pre_tokenizer", "UnicodeScripts"},
		{"post_processor", "post_processor", map[string]any{"type": "Fancy"}, "post_processor", "Fancy"},
		{"decoder", "decoder", map[string]any{"type": "CTC"}, "decoder", "CTC"},
		{"model", "model", map[string]any{"type": "WordPiece", "vocab": map[string]int{"a": 0}, "unk_token": "[UNK]"}, "model", "WordPiece"},
		{"unigram", "model", map[string]any{"type": "Unigram", "vocab": [][]any{{"a", 0.0}}}, "model", "Unigram"},
	} {
		t.Run(tc.part, func(t *testing.T) {
			parts := map[string]any{tc.key: tc.value}
			model := spModel(nil)
			if tc.key == "model" {
				model = tc.value.(map[string]any)
				delete(parts, "model")
			}
			_, err := tokenizer.New(doc(model, parts), nil)
			var ue *tokenizer.UnsupportedError
			if !errors.As(err, &ue) {
				t.Fatalf("err = %v, want *UnsupportedError", err)
			}
			if ue.Component != tc.comp || ue.Type != tc.typ {
				t.Errorf("got %+v", ue)
			}
			if want := fmt.Sprintf("tokenizer.json: unsupported %s type %s", tc.comp, tc.typ); err.Error() != want {
				t.Errorf("Error() = %q, want %q", err.Error(), want)
			}
		})
	}
}

func TestInvalid(t *testing.T) {
	good := string(doc(spModel(nil), nil))
	for name, tj := range map[string]string{
		"empty":          ``,
		"not json":       `{"model": `,
		"array":          `[]`,
		"trailing":       good + `x`,
		"no model":       `{"version":"1.0"}`,
		"bad vocab id":   `{"model":{"type":"BPE","vocab":{"a":-1},"merges":[]}}`,
		"bad merge":      `{"model":{"type":"BPE","vocab":{"a":0},"merges":["a b c"]}}`,
		"bad regex":      string(doc(spModel(nil), map[string]any{"pre_tokenizer": map[string]any{"type": "Split", "pattern": map[string]any{"Regex": "(a"}, "behavior": "Isolated", "invert": false}})),
		"bad behavior":   string(doc(spModel(nil), map[string]any{"pre_tokenizer": map[string]any{"type": "Split", "pattern": map[string]any{"String": "a"}, "behavior": "Sideways", "invert": false}})),
		"typeless":       string(doc(spModel(nil), map[string]any{"decoder": map[string]any{"content": "x"}})),
		"wrong type":     string(doc(spModel(nil), map[string]any{"normalizer": map[string]any{"type": "Prepend", "prepend": 5}})),
		"missing token":  string(doc(spModel(nil), map[string]any{"post_processor": map[string]any{"type": "TemplateProcessing", "single": []any{map[string]any{"SpecialToken": map[string]any{"id": "<x>"}}}, "special_tokens": map[string]any{}}})),
		"two-char strip": string(doc(spModel(nil), map[string]any{"decoder": map[string]any{"type": "Strip", "content": "ab", "start": 1, "stop": 0}})),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tokenizer.New([]byte(tj), nil)
			if !errors.Is(err, tokenizer.ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
		})
	}
	if _, err := tokenizer.New([]byte(good), []byte(`{`)); !errors.Is(err, tokenizer.ErrInvalid) {
		t.Errorf("bad tokenizer_config.json: err = %v", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	if _, err := tokenizer.Load(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load(empty dir) = %v", err)
	}
	tj := doc(spModel(nil), map[string]any{"added_tokens": []any{added(1, "<s>", true), added(2, "</s>", true)}})
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), tj, 0o644); err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tok.BOS() != "" || tok.EOS() != "" {
		t.Errorf("no config: BOS %q EOS %q", tok.BOS(), tok.EOS())
	}
	cfg := `{"bos_token": "<s>", "eos_token": {"content": "</s>", "lstrip": false, "__type": "AddedToken"}, "add_bos_token": true}`
	if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if tok, err = tokenizer.Load(dir); err != nil {
		t.Fatal(err)
	}
	if tok.BOS() != "<s>" || tok.EOS() != "</s>" {
		t.Errorf("BOS %q EOS %q", tok.BOS(), tok.EOS())
	}
	tok, err = tokenizer.New(tj, []byte(`{"bos_token": null}`))
	if err != nil || tok.BOS() != "" {
		t.Errorf("null bos_token: %q, %v", tok.BOS(), err)
	}
}

func TestConcurrentEncode(t *testing.T) {
	tok := newTok(t, doc(byteLevelModel(nil), map[string]any{"pre_tokenizer": byteLevelPre, "decoder": byteLevelDec}))
	want := tok.Encode(" the thing the", false)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				s := fmt.Sprintf(" the thing the %d", i)
				if got := tok.Encode(s, false); !slices.Equal(got[:len(want)], want) {
					t.Errorf("concurrent Encode = %v", got)
					return
				}
			}
		}()
	}
	wg.Wait()
}
