package reasoning

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func R(s string) Segment { return Segment{Kind: Reasoning, Text: s} }
func A(s string) Segment { return Segment{Kind: Answer, Text: s} }
func T(to, s string) Segment {
	return Segment{Kind: ToolCall, Text: s, Recipient: to}
}

// streamed pushes chunks and flushes, merging adjacent segments of the
// same kind so that results of different chunkings compare equal.
func streamed(kind Kind, startIn bool, chunks []string) []Segment {
	p := NewParser(kind, startIn)
	var out []Segment
	add := func(segs []Segment) {
		for _, s := range segs {
			if s.Text == "" {
				panic("empty segment")
			}
			out = appendSegment(out, s.Kind, s.Recipient, s.Text)
		}
	}
	for _, c := range chunks {
		add(p.Push(c))
	}
	add(p.Flush())
	return out
}

func bytewise(s string) []string {
	var out []string
	for i := range len(s) {
		out = append(out, s[i:i+1])
	}
	return out
}

func checkSplit(t *testing.T, kind Kind, startIn bool, text string, want []Segment) {
	t.Helper()
	if got := Split(kind, startIn, text); !reflect.DeepEqual(got, want) {
		t.Errorf("Split(%v, %v, %q)\n got %q\nwant %q", kind, startIn, text, got, want)
	}
	if got := streamed(kind, startIn, bytewise(text)); !reflect.DeepEqual(got, want) {
		t.Errorf("byte by byte (%v, %v, %q)\n got %q\nwant %q", kind, startIn, text, got, want)
	}
}

func TestThinkTags(t *testing.T) {
	checkSplit(t, Think, false, "<think>\nLet me see.\n</think>\n\nParis.",
		[]Segment{R("\nLet me see.\n"), A("\n\nParis.")})
	// The template opened <think> in the prompt: only the end appears.
	checkSplit(t, Think, true, "hmm, 2+2</think>4", []Segment{R("hmm, 2+2"), A("4")})
	checkSplit(t, Think, false, "no reasoning at all", []Segment{A("no reasoning at all")})
	checkSplit(t, Think, true, "never closed", []Segment{R("never closed")})
	// Re-entering reasoning, as mlx-lm's state machine allows.
	checkSplit(t, Think, false, "a<think>b</think>c<think>d",
		[]Segment{A("a"), R("b"), A("c"), R("d")})
	// A partial marker at the very end is text after all.
	checkSplit(t, Think, false, "x < y and <thin", []Segment{A("x < y and <thin")})
	checkSplit(t, Think, true, "a</thi", []Segment{R("a</thi")})
	// Only the current state's marker counts.
	checkSplit(t, Think, false, "</think>stays", []Segment{A("</think>stays")})
	checkSplit(t, Think, false, "<think></think>", nil)
	checkSplit(t, Thinking, false, "<thinking>r</thinking>a", []Segment{R("r"), A("a")})
	checkSplit(t, LongcatThink, false, "<longcat_think>r</longcat_think>a", []Segment{R("r"), A("a")})
	checkSplit(t, ChannelThought, false, "<|channel>thought\nr<channel|>a", []Segment{R("\nr"), A("a")})
	checkSplit(t, None, false, "<think>x</think>", []Segment{A("<think>x</think>")})
}

func TestHoldsBackPartialMarkers(t *testing.T) {
	p := NewParser(Think, true)
	if got := p.Push("abc</th"); !reflect.DeepEqual(got, []Segment{R("abc")}) {
		t.Fatalf("got %q", got)
	}
	if got := p.Push("ink>\n"); !reflect.DeepEqual(got, []Segment{A("\n")}) {
		t.Fatalf("got %q", got)
	}
	if p.InReasoning() {
		t.Fatal("still in reasoning after </think>")
	}
	if got := p.Flush(); got != nil {
		t.Fatalf("flush %q", got)
	}
}

func TestHarmony(t *testing.T) {
	checkSplit(t, Harmony, false,
		"<|channel|>analysis<|message|>User asks capital. Paris.<|end|><|start|>assistant<|channel|>final<|message|>The capital is Paris.<|return|>",
		[]Segment{R("User asks capital. Paris."), A("The capital is Paris.")})
	// A tool call: the recipient can be in the channel part or the role.
	checkSplit(t, Harmony, false,
		"<|channel|>analysis<|message|>Need weather.<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"city\":\"Paris\"}<|call|>",
		[]Segment{R("Need weather."), T("functions.get_weather", "{\"city\":\"Paris\"}")})
	checkSplit(t, Harmony, false,
		"<|start|>assistant to=functions.f<|channel|>commentary json<|message|>{}<|call|>",
		[]Segment{T("functions.f", "{}")})
	// A commentary preamble without recipient is for the user.
	checkSplit(t, Harmony, false,
		"<|channel|>commentary<|message|>Checking two sources.<|end|><|start|>assistant<|channel|>final<|message|>Done.",
		[]Segment{A("Checking two sources.Done.")})
	// The prompt already opened the analysis message.
	checkSplit(t, Harmony, true,
		"thinking<|end|><|start|>assistant<|channel|>final<|message|>answer",
		[]Segment{R("thinking"), A("answer")})
	// A model that skips <|end|><|start|>.
	checkSplit(t, Harmony, false,
		"<|channel|>analysis<|message|>x<|channel|>final<|message|>y",
		[]Segment{R("x"), A("y")})
	// Output without harmony markup is answer text.
	checkSplit(t, Harmony, false, "Hello there", []Segment{A("Hello there")})
	checkSplit(t, Harmony, false, "<b>bold</b>", []Segment{A("<b>bold</b>")})
	// An unfinished header at the end is markup and dropped.
	checkSplit(t, Harmony, false,
		"<|channel|>analysis<|message|>x<|end|><|start|>assistant<|chan",
		[]Segment{R("x")})
	// A partial end marker at the very end is text.
	checkSplit(t, Harmony, false, "<|channel|>final<|message|>a <|en", []Segment{A("a <|en")})
	// A "header" that never reaches <|message|> within the bound is text.
	long := "<|channel|>" + strings.Repeat("x", 600)
	checkSplit(t, Harmony, false, long, []Segment{A(long)})
}

func TestUTF8NotSplit(t *testing.T) {
	text := "<think>é€😀</think>日本"
	for _, kind := range []Kind{Think, None} {
		p := NewParser(kind, false)
		var all strings.Builder
		for _, c := range bytewise(text) {
			for _, s := range p.Push(c) {
				if !utf8.ValidString(s.Text) {
					t.Fatalf("%v: segment %q splits a character", kind, s.Text)
				}
				all.WriteString(s.Text)
			}
		}
		for _, s := range p.Flush() {
			all.WriteString(s.Text)
		}
		want := "é€😀日本"
		if kind == None {
			want = text
		}
		if all.String() != want {
			t.Fatalf("%v: got %q", kind, all.String())
		}
	}
}

func TestDetect(t *testing.T) {
	vocab := func(toks ...string) func(string) bool {
		return func(s string) bool {
			for _, t := range toks {
				if t == s {
					return true
				}
			}
			return false
		}
	}
	cases := []struct {
		name     string
		template string
		vocab    func(string) bool
		want     Kind
	}{
		{"qwen3 vocab", "", vocab("<|im_start|>", "<think>", "</think>"), Think},
		{"only one tag in vocab", "", vocab("<think>"), None},
		{"longcat", "", vocab("<longcat_think>", "</longcat_think>"), LongcatThink},
		{"think wins over longcat", "", vocab("<longcat_think>", "</longcat_think>", "<think>", "</think>"), Think},
		{"channel thought", "", vocab("<|channel>", "<channel|>"), ChannelThought},
		{"gpt-oss vocab", "", vocab("<|start|>", "<|channel|>", "<|message|>", "<|end|>"), Harmony},
		{"plain vocab, plain template", "{{ messages }}", vocab("<|im_start|>"), None},
		{"template harmony", "{{- '<|channel|>analysis<|message|>' }}", nil, Harmony},
		{"template think", "{%- if enable_thinking %}<think>\n{% endif %}", nil, Think},
		{"vocab shows nothing, template decides", "<think>", vocab("x"), Think},
		{"template thinking", "<thinking>", nil, Thinking},
		{"nothing", "", nil, None},
	}
	for _, c := range cases {
		if got := Detect(c.template, c.vocab); got != c.want {
			t.Errorf("%s: Detect = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestDetectFromName(t *testing.T) {
	cases := map[string]Kind{
		"mlx-community/gpt-oss-20b-MXFP4-Q8":                 Harmony,
		"mlx-community/DeepSeek-R1-Distill-Qwen-1.5B-4bit":   Think,
		"mlx-community/deepseek-coder-6.7b-instruct":         None,
		"mlx-community/QwQ-32B-4bit":                         Think,
		"some/claude-like":                                   Thinking,
		"mlx-community/Qwen2.5-0.5B-Instruct-4bit":           None,
		"/cache/models--mlx-community--gpt-oss-120b/snap/ab": Harmony,
	}
	for name, want := range cases {
		if got := DetectFromName(name); got != want {
			t.Errorf("DetectFromName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestPromptOpensReasoning(t *testing.T) {
	cases := []struct {
		kind   Kind
		prompt string
		want   bool
	}{
		{Think, "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n", true},
		{Think, "<|im_start|>assistant\n<think>\n\n</think>\n\n", false},
		{Think, "<｜User｜>hi<｜Assistant｜><think>\n", true},
		{Think, "<|im_start|>assistant\n", false},
		{Think, "earlier <think>a</think> turn, then <|im_start|>assistant\n", false},
		{None, "<think>", false},
		{Harmony, "<|start|>user<|message|>hi<|end|><|start|>assistant", false},
		{Harmony, "<|start|>assistant<|channel|>analysis<|message|>", true},
		{Harmony, "<|start|>assistant<|channel|>analysis<|message|>partial thought", true},
		{Harmony, "<|start|>assistant<|channel|>final<|message|>", false},
		{Harmony, "<|start|>assistant<|channel|>analysis<|message|>done<|end|>", false},
		{Harmony, "<|start|>assistant<|channel|>analysis to=browser.search<|message|>", false},
		{Harmony, "", false},
	}
	for _, c := range cases {
		if got := PromptOpensReasoning(c.kind, c.prompt); got != c.want {
			t.Errorf("PromptOpensReasoning(%v, %q) = %v, want %v", c.kind, c.prompt, got, c.want)
		}
	}
}

func TestStrings(t *testing.T) {
	if Harmony.String() != "harmony" || Kind(42).String() != "Kind(42)" || ToolCall.String() != "tool_call" {
		t.Error("String methods")
	}
}

// reference removes tag markers with a plain state machine over the whole
// text: an independent statement of what the tag parser must produce.
func reference(kind Kind, startIn bool, text string) []Segment {
	start, end := kind.Markers()
	in := startIn
	var out []Segment
	for {
		m := start
		k := Answer
		if in {
			m, k = end, Reasoning
		}
		i := strings.Index(text, m)
		if i < 0 {
			return appendSegment(out, k, "", text)
		}
		out = appendSegment(out, k, "", text[:i])
		text = text[i+len(m):]
		in = !in
	}
}

func TestRandomChunkings(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"a", "b ", "<", "|", ">", "\n", "é", "😀", "<think>", "</think>", "<|end|>",
		"<|start|>assistant", "<|channel|>", "analysis", "final", "commentary to=functions.f ", "<|message|>",
		"<|call|>", "<|constrain|>json", "<|ret", "urn|>"}
	for range 3000 {
		var sb strings.Builder
		for range r.IntN(30) {
			sb.WriteString(pieces[r.IntN(len(pieces))])
		}
		text := sb.String()
		kind := []Kind{None, Think, Harmony}[r.IntN(3)]
		startIn := r.IntN(2) == 0
		var chunks []string
		for rest := text; rest != ""; {
			n := min(len(rest), 1+r.IntN(7))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		want := Split(kind, startIn, text)
		if got := streamed(kind, startIn, chunks); !reflect.DeepEqual(got, want) {
			t.Fatalf("%v %v %q chunks %q:\n got %q\nwant %q", kind, startIn, text, chunks, got, want)
		}
		if kind == Think {
			if ref := reference(kind, startIn, text); !reflect.DeepEqual(want, ref) {
				t.Fatalf("%q: Split %q, reference %q", text, want, ref)
			}
		}
	}
}

// FuzzParser checks that any chunking of any text gives the segments of
// one-shot parsing, for every kind, and that tag parsing matches the
// reference state machine.
func FuzzParser(f *testing.F) {
	f.Add("<think>a</think>b", []byte{1, 2, 3}, uint8(1), false)
	f.Add("x</think>y", []byte{2}, uint8(1), true)
	f.Add("<|channel|>analysis<|message|>r<|end|><|start|>assistant<|channel|>final<|message|>a", []byte{5, 5, 5}, uint8(5), false)
	f.Add("<|start|>assistant to=functions.f<|channel|>commentary<|message|>{}<|call|>", []byte{7}, uint8(5), false)
	f.Add("<|channel>thought r<channel|>a", []byte{3, 9}, uint8(3), false)
	f.Fuzz(func(t *testing.T, text string, cuts []byte, k uint8, startIn bool) {
		kind := Kind(k % 6)
		var chunks []string
		rest := text
		for _, c := range cuts {
			n := min(len(rest), int(c%16))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		chunks = append(chunks, rest)
		want := Split(kind, startIn, text)
		if got := streamed(kind, startIn, chunks); !reflect.DeepEqual(got, want) {
			t.Fatalf("chunks %q:\n got %q\nwant %q", chunks, got, want)
		}
		if kind != None && kind != Harmony {
			if ref := reference(kind, startIn, text); !reflect.DeepEqual(want, ref) {
				t.Fatalf("Split %q, reference %q", want, ref)
			}
		}
		if kind == None && text != "" && (len(want) != 1 || want[0].Text != text) {
			t.Fatalf("None changed the text: %q", want)
		}
	})
}

func TestFinalOpened(t *testing.T) {
	for _, c := range []struct {
		text string
		want bool
	}{
		{"", false},
		{"<|channel|>analysis<|message|>thinking about <|channel|>final", false},
		{"<|channel|>analysis<|message|>x<|end|><|start|>assistant<|channel|>final", false},
		{"<|channel|>analysis<|message|>x<|end|><|start|>assistant<|channel|>final<|message|>", true},
		{"<|channel|>final <|constrain|>json<|message|>{", true},
		{"<|channel|>commentary to=functions.f <|constrain|>json<|message|>{", false},
		{"<|channel|>finally<|message|>", false},
	} {
		if got := FinalOpened(c.text); got != c.want {
			t.Errorf("FinalOpened(%q) = %v, want %v", c.text, got, c.want)
		}
	}
}
