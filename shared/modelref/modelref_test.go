package modelref_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mlxk/mlxk/shared/modelref"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec, name, rev string
	}{
		{"Model@hash@x", "Model@hash", "x"},
		{"Model@", "Model", ""},
		{"@abc", "", "abc"},
		{"Model@@abc", "Model@", "abc"},
		{"Model", "Model", ""},
		{"", "", ""},
		{"@", "", ""},
		{"Qwen3@e96", "Qwen3", "e96"},
		{"mlx-community/Model@def123", "mlx-community/Model", "def123"},
		{"org/m@a", "org/m", "a"},
		{"org/m@" + strings.Repeat("a", 40), "org/m", strings.Repeat("a", 40)},
		{"org/m@refs/pr/1", "org/m", "refs/pr/1"},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			t.Parallel()
			got := modelref.Parse(tc.spec)
			if got.Name != tc.name || got.Rev != tc.rev {
				t.Errorf("Parse(%q) = (%q, %q), want (%q, %q)", tc.spec, got.Name, got.Rev, tc.name, tc.rev)
			}
		})
	}
}

func TestRefString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ref  modelref.Ref
		want string
	}{
		{modelref.Ref{Name: "org/m"}, "org/m"},
		{modelref.Ref{Name: "org/m", Rev: "main"}, "org/m@main"},
		{modelref.Ref{Name: "", Rev: "abc"}, "@abc"},
		{modelref.Ref{Name: "a@b", Rev: "c"}, "a@b@c"},
	}
	for _, tc := range tests {
		if got := tc.ref.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.ref, got, tc.want)
		}
	}
}

func TestCacheDirNameRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id, dir string
	}{
		{"org/model", "models--org--model"},
		{"mlx-community/Phi-3-mini-4k-instruct-4bit", "models--mlx-community--Phi-3-mini-4k-instruct-4bit"},
		{"org/sub/model", "models--org--sub--model"},
		{"deep/nested/path/model", "models--deep--nested--path--model"},
		{"my-org-name/my-model-v2", "models--my-org-name--my-model-v2"},
		{"a-b-c/d-e.f_g", "models--a-b-c--d-e.f_g"},
		{"gpt2", "models--gpt2"},
		{"Qwen/Qwen3-Coder", "models--Qwen--Qwen3-Coder"},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			t.Parallel()
			if err := modelref.ValidateRepoID(tc.id); err != nil {
				t.Fatalf("ValidateRepoID(%q) = %v, want nil (a clean name)", tc.id, err)
			}
			dir := modelref.CacheDirName(tc.id)
			if dir != tc.dir {
				t.Errorf("CacheDirName(%q) = %q, want %q", tc.id, dir, tc.dir)
			}
			if strings.Contains(dir, "---") {
				t.Errorf("CacheDirName(%q) = %q contains '---'", tc.id, dir)
			}
			if back := modelref.RepoIDFromCacheDir(dir); back != tc.id {
				t.Errorf("RepoIDFromCacheDir(%q) = %q, want %q", dir, back, tc.id)
			}
			// A name already in cache form is passed through unchanged.
			if again := modelref.CacheDirName(dir); again != dir {
				t.Errorf("CacheDirName(%q) = %q, want it unchanged", dir, again)
			}
		})
	}
}

func TestRepoIDFromCacheDirMechanical(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dir, id string
	}{
		{"models--org--model---corrupted", "org/model/-corrupted"},
		{"models--microsoft--DialogGPT---small", "microsoft/DialogGPT/-small"},
		{"models--org----model", "org//model"},
		{"models--", ""},
		{"invalid-format", "invalid-format"},
		{"", ""},
		{"models-org", "models-org"},
		{"datasets--org--x", "datasets--org--x"},
		{"models-----x", "/-x"},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			t.Parallel()
			if got := modelref.RepoIDFromCacheDir(tc.dir); got != tc.id {
				t.Errorf("RepoIDFromCacheDir(%q) = %q, want %q", tc.dir, got, tc.id)
			}
		})
	}
}

func TestCacheDirNameEdgeCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id, dir string
	}{
		{"", "models--"},
		{"org//model", "models--org----model"},
		{"models--org--x", "models--org--x"},
		{"/org/model", "models----org--model"},
	}
	for _, tc := range tests {
		if got := modelref.CacheDirName(tc.id); got != tc.dir {
			t.Errorf("CacheDirName(%q) = %q, want %q", tc.id, got, tc.dir)
		}
	}
}

func TestValidateRepoID(t *testing.T) {
	t.Parallel()
	long96 := "org/" + strings.Repeat("m", 92)
	long97 := "org/" + strings.Repeat("m", 93)
	if len(long96) != 96 || len(long97) != 97 {
		t.Fatalf("test setup: lengths %d, %d", len(long96), len(long97))
	}
	tests := []struct {
		id string
		ok bool
	}{
		{"org/model", true},
		{"gpt2", true},
		{"org/sub/model", true},
		{"deep/nested/path/model", true},
		{"my-org/Model_v1.5", true},
		{"mlx-community/Phi-3-mini-4k-instruct-4bit", true},
		{long96, true},
		{long97, false},
		{"", false},
		{"org/..", false},
		{"org/a..b", false},
		{"../etc", false},
		{"org--x/model", false},
		{"org/model--x", false},
		{"org<model>", false},
		{"/org/model", false},
		{"org/model/", false},
		{`org\model`, false},
		{"org//model", false},
		{"org/-model", false},
		{"org/model-", false},
		{"org/.model", false},
		{"org/model.", false},
		{"-org/model", false},
		{"org /model", false},
		{"org/mödel", false},
		{"org/model@main", false},
		{" ", false},
		{"\t", false},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			t.Parallel()
			err := modelref.ValidateRepoID(tc.id)
			if tc.ok && err != nil {
				t.Errorf("ValidateRepoID(%q) = %v, want nil", tc.id, err)
			}
			if !tc.ok {
				var ine *modelref.InvalidNameError
				if !errors.As(err, &ine) {
					t.Fatalf("ValidateRepoID(%q) = %v, want *InvalidNameError", tc.id, err)
				}
				if ine.Name != tc.id || ine.Reason == "" {
					t.Errorf("error = %+v, want Name %q and a reason", ine, tc.id)
				}
				if !strings.Contains(err.Error(), ine.Reason) {
					t.Errorf("Error() = %q does not carry the reason %q", err.Error(), ine.Reason)
				}
			}
		})
	}
}

func TestShortName(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"mlx-community/Phi-3": "Phi-3",
		"gpt2":                "gpt2",
		"org/sub/model":       "sub/model",
		"":                    "",
	}
	for in, want := range tests {
		if got := modelref.ShortName(in); got != want {
			t.Errorf("ShortName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsCommitHash(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s  string
		ok bool
	}{
		{strings.Repeat("a", 40), true},
		{"0123456789abcdef0123456789abcdef01234567", true},
		{strings.Repeat("a", 39), false},
		{strings.Repeat("a", 41), false},
		{strings.Repeat("A", 40), false},
		{strings.Repeat("g", 40), false},
		{"main", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := modelref.IsCommitHash(tc.s); got != tc.ok {
			t.Errorf("IsCommitHash(%q) = %v, want %v", tc.s, got, tc.ok)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"Model@hash@x", "Model@", "@abc", "", "@", "org/m@main", "a@@b", "plain", "\x00@\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := modelref.Parse(s)
		if strings.Contains(r.Rev, "@") {
			t.Fatalf("Parse(%q).Rev = %q contains '@' (must split at the last '@')", s, r.Rev)
		}
		if !strings.Contains(s, "@") {
			if r.Name != s || r.Rev != "" {
				t.Fatalf("Parse(%q) = %#v, want the whole spec as the name", s, r)
			}
		} else if r.Name+"@"+r.Rev != s {
			t.Fatalf("Parse(%q) = %#v does not rebuild the spec", s, r)
		}
		// String round-trips exactly unless the revision is empty, in which
		// case the trailing '@' is dropped.
		want := s
		if r.Rev == "" {
			want = strings.TrimSuffix(s, "@")
		}
		if got := r.String(); got != want {
			t.Fatalf("Parse(%q).String() = %q, want %q", s, got, want)
		}
		if r.Rev != "" {
			if again := modelref.Parse(r.String()); again != r {
				t.Fatalf("Parse(Parse(%q).String()) = %#v, want %#v", s, again, r)
			}
		}
	})
}

func FuzzRepoID(f *testing.F) {
	for _, s := range []string{"org/model", "org/sub/model", "deep/nested/path/model", "my-org/m.v_1", "gpt2",
		"models--x", "org--model", "..", "a/b/", "models-a/b", "a.b-c/d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		dir := modelref.CacheDirName(s)
		back := modelref.RepoIDFromCacheDir(dir)
		if !strings.HasPrefix(dir, modelref.CachePrefix) {
			t.Fatalf("CacheDirName(%q) = %q lacks the %q prefix", s, dir, modelref.CachePrefix)
		}
		if modelref.ValidateRepoID(s) != nil {
			return
		}
		if len(s) == 0 || len(s) > modelref.MaxRepoIDLength {
			t.Fatalf("ValidateRepoID accepted %q of length %d", s, len(s))
		}
		if back != s {
			t.Fatalf("RepoIDFromCacheDir(CacheDirName(%q)) = %q", s, back)
		}
		if strings.Contains(dir, "/") || strings.Contains(dir, "..") || strings.Contains(dir, "---") {
			t.Fatalf("CacheDirName(%q) = %q is not a single safe folder name", s, dir)
		}
		if strings.Count(dir, "--") != strings.Count(s, "/")+1 {
			t.Fatalf("CacheDirName(%q) = %q: separator count does not match", s, dir)
		}
	})
}
