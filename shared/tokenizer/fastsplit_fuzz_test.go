package tokenizer

import (
	"slices"
	"testing"
	"unicode/utf8"
)

// FuzzFastSplit compares the hand-written scanners with the regexp2
// translation of their patterns.
func FuzzFastSplit(f *testing.F) {
	for _, s := range []string{"", "Hello world", "I'M  fine\r\n\n x", "ǅx'S 123456 ٣٤", "a\u0301b  \u3000\tc", "'ſ'K //\n/"} {
		f.Add(s)
	}
	patterns := []string{gpt2Pattern, qwen2Pattern, llama3Pattern, o200kPattern}
	var slow []*regexMatcher
	for _, p := range patterns {
		m, err := compileRegex(p)
		if err != nil {
			f.Fatal(err)
		}
		slow = append(slow, m)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		for i, p := range patterns {
			got := knownPattern(p).findAll(nil, s)
			want := slow[i].findAll(nil, s)
			if !slices.Equal(got, want) {
				t.Fatalf("pattern %d on %q: fast %q, regex %q", i, s, spansText(s, got), spansText(s, want))
			}
		}
	})
}
