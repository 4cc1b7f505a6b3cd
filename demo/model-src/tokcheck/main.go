// Command tokcheck checks the demo model's tokenizer files against the
// project's own Go implementation: it encodes every line of a JSON-lines
// file ({"text": ..., "ids": [...]}, ids from the Python trainer), reports
// any difference, checks that decoding gives the text back, and renders the
// chat template for a few requests. It is run by check_tokenizer.sh from a
// temporary module so that it needs no place in the repository's go.work.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"slices"

	"github.com/mlxk/mlxk/shared/chattemplate"
	"github.com/mlxk/mlxk/shared/tokenizer"
)

type line struct {
	Text string `json:"text"`
	IDs  []int  `json:"ids"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: tokcheck <model-dir> <cases.jsonl>")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "tokcheck:", err)
		os.Exit(1)
	}
}

func run(dir, cases string) error {
	tok, err := tokenizer.Load(dir)
	if err != nil {
		return fmt.Errorf("load tokenizer: %w", err)
	}
	f, err := os.Open(cases)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	n, bad, tokens := 0, 0, 0
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return fmt.Errorf("case %d: %w", n+1, err)
		}
		n++
		got := tok.Encode(l.Text, false)
		tokens += len(got)
		if !slices.Equal(got, l.IDs) {
			bad++
			if bad <= 3 {
				fmt.Printf("MISMATCH case %d %q\n  go: %v\n  py: %v\n", n, l.Text, got, l.IDs)
			}
		}
		if back := tok.Decode(got, false); back != l.Text {
			bad++
			fmt.Printf("ROUNDTRIP case %d: %q != %q\n", n, back, l.Text)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	fmt.Printf("tokenizer: %d cases, %d tokens, %d mismatches, vocab %d, eos %q\n",
		n, tokens, bad, tok.VocabSize(), tok.EOS())

	cfg, err := os.ReadFile(dir + "/tokenizer_config.json")
	if err != nil {
		return err
	}
	var tc struct {
		ChatTemplate string `json:"chat_template"`
	}
	if err := json.Unmarshal(cfg, &tc); err != nil {
		return err
	}
	tpl, err := chattemplate.Parse(tc.ChatTemplate)
	if err != nil {
		return err
	}
	for _, msgs := range []string{
		`[{"role":"user","content":"Tell me a story about Noah."}]`,
		`[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Hello"}]`,
		`[{"role":"user","content":"Tell me a story about David."},{"role":"assistant","content":"David was a shepherd."},{"role":"user","content":"Go on."}]`,
	} {
		out, err := tpl.Render(chattemplate.Request{Messages: json.RawMessage(msgs), AddGenerationPrompt: true, EOSToken: tok.EOS()})
		if err != nil {
			return err
		}
		ids := tok.Encode(out, false)
		fmt.Printf("template: %q\n  ids: %v\n", out, ids)
	}
	if bad > 0 {
		return fmt.Errorf("%d mismatches", bad)
	}
	return nil
}
