package chattemplate

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// fixedNow is the instant strftime_now sees in the goldens
// (testdata/gen/goldens.mjs FIXED_NOW).
var fixedNow = time.Date(2025, 6, 15, 9, 5, 7, 0, time.UTC)

type conversation struct {
	Name                string                     `json:"name"`
	About               string                     `json:"about"`
	Messages            json.RawMessage            `json:"messages"`
	Tools               json.RawMessage            `json:"tools"`
	AddGenerationPrompt bool                       `json:"add_generation_prompt"`
	Kwargs              map[string]json.RawMessage `json:"kwargs"`
}

type templateInfo struct {
	Source   string `json:"source"`
	BOSToken string `json:"bos_token"`
	EOSToken string `json:"eos_token"`
	UnkToken string `json:"unk_token"`
	PadToken string `json:"pad_token"`
}

func loadConversations(t testing.TB) []conversation {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "conversations.json"))
	if err != nil {
		t.Fatal(err)
	}
	var convs []conversation
	if err := json.Unmarshal(b, &convs); err != nil {
		t.Fatal(err)
	}
	return convs
}

func loadManifest(t testing.TB) map[string]templateInfo {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "templates", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]templateInfo
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func loadTemplate(t testing.TB, name string) *Template {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "templates", name+".jinja"))
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := Parse(string(src))
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return tpl
}

func (c conversation) request(info templateInfo) Request {
	return Request{
		Messages:            c.Messages,
		Tools:               c.Tools,
		AddGenerationPrompt: c.AddGenerationPrompt,
		BOSToken:            info.BOSToken,
		EOSToken:            info.EOSToken,
		UnkToken:            info.UnkToken,
		PadToken:            info.PadToken,
		Kwargs:              c.Kwargs,
		Now:                 func() time.Time { return fixedNow },
	}
}

// TestGolden renders every template × conversation and compares with the
// goldens made by @huggingface/jinja (testdata/gen/goldens.mjs).
func TestGolden(t *testing.T) {
	manifest := loadManifest(t)
	convs := loadConversations(t)
	if len(manifest) < 9 || len(convs) < 12 {
		t.Fatalf("testdata too small: %d templates, %d conversations", len(manifest), len(convs))
	}
	names := make([]string, 0, len(manifest))
	for n := range manifest {
		names = append(names, n)
	}
	sort.Strings(names)

	seen := map[string]bool{}
	var rendered, refErrors int
	for _, name := range names {
		tpl := loadTemplate(t, name)
		for _, c := range convs {
			base := filepath.Join("testdata", "golden", name+"__"+c.Name)
			t.Run(name+"/"+c.Name, func(t *testing.T) {
				got, err := tpl.Render(c.request(manifest[name]))
				if want, rerr := os.ReadFile(base + ".txt"); rerr == nil {
					seen[filepath.Base(base)+".txt"] = true
					rendered++
					if err != nil {
						t.Fatalf("render error %v; reference rendered:\n%s", err, want)
					}
					if got != string(want) {
						t.Fatalf("output differs from %s.txt\n%s", base, diffExcerpt(string(want), got))
					}
					return
				}
				wantErr, rerr := os.ReadFile(base + ".error")
				if rerr != nil {
					t.Fatalf("no golden %s.txt or .error (run testdata/gen/goldens.mjs)", base)
				}
				seen[filepath.Base(base)+".error"] = true
				refErrors++
				if err == nil {
					t.Fatalf("rendered without error, reference raised %q:\n%s", strings.TrimSpace(string(wantErr)), got)
				}
				var te *TemplateError
				if !errors.As(err, &te) {
					t.Fatalf("error %v is not a raise_exception TemplateError", err)
				}
				if msg := strings.TrimSpace(string(wantErr)); te.Message != msg {
					t.Fatalf("raise_exception message %q, reference %q", te.Message, msg)
				}
			})
		}
	}
	// Every golden file must belong to a current template × conversation.
	files, err := os.ReadDir(filepath.Join("testdata", "golden"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !seen[f.Name()] {
			t.Errorf("stale golden file %s", f.Name())
		}
	}
	t.Logf("%d templates × %d conversations: %d rendered outputs and %d reference errors checked", len(names), len(convs), rendered, refErrors)
}

// diffExcerpt shows where two strings first differ, with some context.
func diffExcerpt(want, got string) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	line := 1 + strings.Count(want[:i], "\n")
	from := max(0, i-120)
	excerpt := func(s string) string {
		return fmt.Sprintf("%q", s[from:min(len(s), i+120)])
	}
	return fmt.Sprintf("first difference at byte %d (line %d; want %d bytes, got %d)\n  want …%s…\n  got  …%s…",
		i, line, len(want), len(got), excerpt(want), excerpt(got))
}
