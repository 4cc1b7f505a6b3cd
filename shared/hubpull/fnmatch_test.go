package hubpull

import "testing"

func TestPatternFnmatchSemantics(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		glob, path string
		want       bool
	}{
		{"*.safetensors", "model.safetensors", true},
		{"*.safetensors", "sub/model.safetensors", true}, // * crosses "/" as in fnmatch
		{"*.json", "config.json.bak", false},
		{"config.json", "config.json", true},
		{"model-0000?-of-00002.safetensors", "model-00001-of-00002.safetensors", true},
		{"model-0000?-of-00002.safetensors", "model-00010-of-00002.safetensors", false},
		{"[mc]*.json", "config.json", true},
		{"[!mc]*.json", "config.json", false},
		{"[!mc]*.json", "tokenizer.json", true},
		{"original/", "original/params.json", true},
		{"original/", "originals/x", false},
		{`original\`, "original/x", true},
		{"a.b", "axb", false}, // "." is literal
		{"[", "[", true},      // an unclosed class is literal
		{"*", "", true},
	} {
		p, err := CompilePattern(tc.glob)
		if err != nil {
			t.Fatalf("CompilePattern(%q): %v", tc.glob, err)
		}
		if got := p.Match(tc.path); got != tc.want {
			t.Errorf("%q matches %q = %v, want %v", tc.glob, tc.path, got, tc.want)
		}
	}
}

func TestFilter(t *testing.T) {
	t.Parallel()
	mk := func(globs ...string) []Pattern {
		var out []Pattern
		for _, g := range globs {
			p, err := CompilePattern(g)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, p)
		}
		return out
	}
	f := Filter{Include: mk("*.json", "*.safetensors"), Exclude: mk("original/")}
	for path, want := range map[string]bool{
		"config.json":          true,
		"model.safetensors":    true,
		"original/params.json": false,
		"README.md":            false,
	} {
		if got := f.Keep(path); got != want {
			t.Errorf("Keep(%q) = %v, want %v", path, got, want)
		}
	}
	if !(Filter{}).Keep("anything") {
		t.Error("an empty filter must keep everything")
	}
}

func TestSafeRepoPath(t *testing.T) {
	t.Parallel()
	for p, ok := range map[string]bool{
		"config.json": true, "sub/dir/file.bin": true,
		"": false, "/etc/passwd": false, "../x": false, "a/../../x": false, "a/./b": false,
		`a\b`: false, "C:x": false, "a//b": false, "a/": false, "nul\x00": false,
	} {
		if err := safeRepoPath(p); (err == nil) != ok {
			t.Errorf("safeRepoPath(%q) = %v, want ok=%v", p, err, ok)
		}
	}
}
