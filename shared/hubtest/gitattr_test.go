package hubtest

import (
	"strings"
	"testing"
)

func TestLFSTracked(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		attrs, path string
		want        bool
	}{
		{DefaultGitattributes, "model.safetensors", true},
		{DefaultGitattributes, "sub/dir/model-00001-of-00002.safetensors", true},
		{DefaultGitattributes, "config.json", false},
		{DefaultGitattributes, "events.out.tfevents.123.host", true},
		{DefaultGitattributes, "saved_model/variables/variables.data", true},
		{DefaultGitattributes, "saved_model/x.pb", true},
		{DefaultGitattributes, "other/saved_model/x.txt", false},
		{DefaultGitattributes, "a.tar.gz", true},
		{DefaultGitattributes, "tokenizer.model", true},
		{"*.bin filter=lfs\n*.bin -filter\n", "a.bin", false},
		{"*.bin -filter\n*.bin filter=lfs\n", "a.bin", true},
		{"# *.bin filter=lfs\n", "a.bin", false},
		{"/top.bin filter=lfs\n", "top.bin", true},
		{"/top.bin filter=lfs\n", "sub/top.bin", false},
		{"data/*.dat filter=lfs\n", "data/a.dat", true},
		{"data/*.dat filter=lfs\n", "data/sub/a.dat", false},
		{"data/** filter=lfs\n", "data/sub/a.dat", true},
		{"**/w.dat filter=lfs\n", "x/y/w.dat", true},
		{"**/w.dat filter=lfs\n", "w.dat", true},
		{"data/ filter=lfs\n", "data/a.dat", false}, // folder patterns never match in attributes
		{"*.txt\tfilter=lfs\n", "a.txt", true},
		{"*.txt text\n", "a.txt", false},
		{"*.txt filter=other\n", "a.txt", false},
		{"\"a b.bin\" filter=lfs\n", "a b.bin", true},
	} {
		if got := lfsTracked(tc.attrs, tc.path); got != tc.want {
			t.Errorf("lfsTracked(%q, %q) = %t, want %t", shorten(tc.attrs), tc.path, got, tc.want)
		}
	}
}

func shorten(s string) string {
	if s == DefaultGitattributes {
		return "<default>"
	}
	return s
}

// The rule the Hub appends matches its own path and no other name, whatever
// glob or space characters the name holds.
func TestGitattributesLine(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"data/blob.dat", "a b/c d.x", "weird[1]*?.x", `back\slash.x`, `q"uote.x`} {
		line := gitattributesLine(p)
		if !lfsTracked(line, p) {
			t.Errorf("line %q does not track %q", line, p)
		}
		// A name without a slash matches at any depth, as in git; a path
		// with one is anchored at the root.
		if lfsTracked(line, p+"x") || strings.Contains(p, "/") && lfsTracked(line, "other/"+p) {
			t.Errorf("line %q tracks more than %q", line, p)
		}
	}
	if got := gitattributesLine("data/blob.dat"); got != "data/blob.dat filter=lfs diff=lfs merge=lfs -text\n" {
		t.Errorf("line %q", got)
	}
}

func TestGitIgnored(t *testing.T) {
	t.Parallel()
	const ignore = "# comment\n*.log\n/build\ncache/\n!keep.log\nsub/*.tmp\n"
	for p, want := range map[string]bool{
		"a.log":          true,
		"x/a.log":        true,
		"keep.log":       false,
		"build":          true,
		"build/out.bin":  true,
		"x/build/o":      false,
		"cache/a":        true,
		"x/cache/a":      true,
		"cache":          false, // a file named cache: cache/ matches folders only
		"sub/a.tmp":      true,
		"sub/deep/a.tmp": false,
		"config.json":    false,
	} {
		if got := gitIgnored(ignore, p); got != want {
			t.Errorf("gitIgnored(%q) = %t, want %t", p, got, want)
		}
	}
}
