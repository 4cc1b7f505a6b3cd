package tokenizer

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// splitAlphabet mixes the characters the split patterns treat differently.
var splitAlphabet = []string{
	"a", "b", "Z", "Q", "é", "ß", "ǅ", "ʰ", "中", "ﬁ", "ſ", "K", "İ", "ı", "\u0301", "\u0903", "\u20dd",
	"0", "7", "٣", "Ⅻ", "½", "²",
	" ", "  ", "\t", "\n", "\r", "\r\n", "\u00a0", "\u0085", "\u2028", "\u3000", "\ufeff", "\u200b", "\v", "\f",
	"'", "'s", "'S", "'t", "'re", "'RE", "'ve", "'m", "'ll", "'LL", "'d", "'ſ", "'x",
	"!", "?", ".", ",", "/", "//", "-", "_", "$", "€", "👍", "🏽", "\u200d", "\ufffd", "\x00",
	"\U0002EBF0", "\U00016D40", "\U000105C0",
}

func randomSplitInput(r *rand.Rand) string {
	var b strings.Builder
	n := 1 + r.IntN(12)
	for i := 0; i < n; i++ {
		b.WriteString(splitAlphabet[r.IntN(len(splitAlphabet))])
	}
	return b.String()
}

func TestFastSplitMatchesRegex(t *testing.T) {
	for _, p := range []string{gpt2Pattern, qwen2Pattern, llama3Pattern, o200kPattern} {
		fast := knownPattern(p)
		if fast == nil {
			t.Fatalf("pattern not recognised: %q", p)
		}
		slow, err := compileRegex(p)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(1, uint64(len(p))))
		n := 20000
		if testing.Short() {
			n = 2000
		}
		for i := 0; i < n; i++ {
			s := randomSplitInput(r)
			got := fast.findAll(nil, s)
			want := slow.findAll(nil, s)
			if !slices.Equal(got, want) {
				t.Fatalf("pattern %.30q… on %q:\n fast %v\n regex %v", p, s, spansText(s, got), spansText(s, want))
			}
		}
	}
}

func spansText(s string, sp []span) []string {
	var out []string
	for _, x := range sp {
		out = append(out, s[x.start:x.end])
	}
	return out
}
