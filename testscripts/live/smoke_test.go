package live

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mlxk/mlxk/shared/tokenizer"
)

func TestSmokeTokenizerIsByteLevel(t *testing.T) {
	for _, thinking := range []bool{false, true} {
		j, c, err := SmokeTokenizer(thinking)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := tokenizer.New(j, c)
		if err != nil {
			t.Fatalf("the project's tokenizer rejects the smoke tokenizer: %v", err)
		}
		// Every byte of text is its own id; the specials are one id each.
		text := "Say hello, wörld! 🙂\n\t"
		ids := tok.Encode(text, false)
		if len(ids) != len(text) {
			t.Fatalf("%q: %d ids for %d bytes", text, len(ids), len(text))
		}
		for i, id := range ids {
			if id != int(text[i]) {
				t.Fatalf("byte %d (%#x) encodes as %d", i, text[i], id)
			}
		}
		if got := tok.Decode(ids, false); got != text {
			t.Errorf("round trip: %q", got)
		}
		got := tok.Encode("<|im_start|>user\nhi<|im_end|>", false)
		want := []int{idIMStart, 'u', 's', 'e', 'r', '\n', 'h', 'i', idIMEnd}
		if !slices.Equal(got, want) {
			t.Errorf("specials: %v, want %v", got, want)
		}
		if id, ok := tok.TokenID("<think>"); ok != thinking || thinking && id != idThink {
			t.Errorf("thinking=%v: <think> is %d, %v", thinking, id, ok)
		}
		if tok.EOS() != "<|im_end|>" {
			t.Errorf("eos_token = %q", tok.EOS())
		}
	}
}

func TestPickEndTokens(t *testing.T) {
	for _, c := range []struct {
		seq  []int32
		a, b int
		ok   bool
	}{
		{[]int32{65, 66, 200, 67, 201}, 200, 201, true},
		{[]int32{200, 66, 200, 210, 220}, 210, 220, true}, // 200 occurred before position 2
		{[]int32{65, 66, 200, 200, 66}, 0, 0, false},      // no second distinct one
		{[]int32{65, 66, 67, 68}, 0, 0, false},            // ASCII only
		{[]int32{65, 66, 253, 254, 200, 201}, 200, 201, true},
		{[]int32{65, 230, 66, 230, 240}, 240, 0, false}, // 230 at 1 blocks it
	} {
		a, b, ok := pickEndTokens(c.seq)
		if ok != c.ok || ok && (a != c.a || b != c.b) {
			t.Errorf("pickEndTokens(%v) = %d, %d, %v; want %d, %d, %v", c.seq, a, b, ok, c.a, c.b, c.ok)
		}
	}
}

func TestWriteSmokeCacheLaysOutAHubCache(t *testing.T) {
	home := t.TempDir()
	ids, err := WriteSmokeCache(context.Background(), home, "", []SmokeModel{{Spec: "llama-q4"}, {Spec: "phi3-q4", MultiEOS: true}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []string{"mlxk-smoke/llama-q4", "mlxk-smoke/phi3-q4-multi-eos"}) {
		t.Errorf("ids = %v", ids)
	}
	snaps, _ := filepath.Glob(filepath.Join(home, "hub", "models--mlxk-smoke--phi3-q4-multi-eos", "snapshots", "*", "tokenizer.json"))
	if len(snaps) != 1 {
		t.Fatalf("no tokenizer.json in the multi-EOS snapshot")
	}
	dir := filepath.Dir(snaps[0])
	tok, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	end, ok1 := tok.TokenID("<|end|>")
	eot, ok2 := tok.TokenID("<|endoftext|>")
	if !ok1 || !ok2 || end == eot || tok.EOS() != "<|endoftext|>" {
		t.Errorf("<|end|> %d %v, <|endoftext|> %d %v, eos %q", end, ok1, eot, ok2, tok.EOS())
	}
	// The greedy answer reaches <|end|> before <|endoftext|>.
	seq, err := greedyChat(context.Background(), dir, SmokePrompt, 16)
	if err != nil {
		t.Fatal(err)
	}
	i, j := slices.Index(seq, int32(end)), slices.Index(seq, int32(eot))
	if i < 2 || j >= 0 && j < i {
		t.Errorf("greedy ids %v: <|end|> (%d) at %d, <|endoftext|> (%d) at %d", seq, end, i, eot, j)
	}
	if _, err := os.Stat(filepath.Join(home, "hub", "models--mlxk-smoke--llama-q4", "refs", "main")); err != nil {
		t.Errorf("no refs/main: %v", err)
	}
	if _, err := WriteSmokeCache(context.Background(), t.TempDir(), "", []SmokeModel{{Spec: "nope"}}); err == nil {
		t.Error("an unknown spec was accepted")
	}
}
