package toolcall

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// feed pushes text in chunks of n bytes and flushes.
func feed(f Format, text string, n int) (string, []Call) {
	p := NewParser(f)
	var out strings.Builder
	var calls []Call
	for i := 0; i < len(text); i += n {
		s, c := p.Push(text[i:min(i+n, len(text))])
		out.WriteString(s)
		calls = append(calls, c...)
	}
	s, c := p.Flush()
	out.WriteString(s)
	return out.String(), append(calls, c...)
}

func TestParsers(t *testing.T) {
	paris := Call{Name: "get_weather", Arguments: `{"city":"Paris"}`}
	rome := Call{Name: "get_weather", Arguments: `{"city":"Rome"}`}
	cases := []struct {
		name  string
		f     Format
		in    string
		text  string
		calls []Call
	}{
		{"hermes two calls", Hermes, "Checking.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n<tool_call>{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Rome\"}}</tool_call>",
			"Checking.\n\n", []Call{paris, rome}},
		{"hermes string arguments", Hermes, `<tool_call>{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}</tool_call>`, "", []Call{paris}},
		{"hermes no arguments", Hermes, `<tool_call>{"name":"now"}</tool_call>`, "", []Call{{Name: "now", Arguments: "{}"}}},
		{"hermes unterminated but whole", Hermes, `<tool_call>{"name":"get_weather","arguments":{"city":"Paris"}}`, "", []Call{paris}},
		{"hermes broken json is text", Hermes, `<tool_call>{"name": oops}</tool_call> after`, `<tool_call>{"name": oops}</tool_call> after`, nil},
		{"hermes unterminated broken", Hermes, `hi <tool_call>{"name"`, `hi <tool_call>{"name"`, nil},
		{"hermes marker lookalike", Hermes, "a <tool_ca b < c", "a <tool_ca b < c", nil},
		{"plain text", Hermes, "Just an answer.", "Just an answer.", nil},
		{"mistral array", Mistral, `[TOOL_CALLS][{"name":"get_weather","arguments":{"city":"Paris"}},{"name":"get_weather","arguments":{"city":"Rome"}}]`, "", []Call{paris, rome}},
		{"mistral args form", Mistral, `[TOOL_CALLS]get_weather[ARGS]{"city":"Paris"}[TOOL_CALLS]get_weather[ARGS]{"city":"Rome"}`, "", []Call{paris, rome}},
		{"mistral broken", Mistral, `Sure [TOOL_CALLS][{"name":`, `Sure [TOOL_CALLS][{"name":`, nil},
		{"llama3 json", Llama3, ` {"name": "get_weather", "parameters": {"city": "Paris"}}`, "", []Call{paris}},
		{"llama3 python tag", Llama3, `<|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris"}}; {"name": "get_weather", "parameters": {"city": "Rome"}}`, "", []Call{paris, rome}},
		{"llama3 text", Llama3, "The weather is fine {not json}", "The weather is fine {not json}", nil},
		{"llama3 json that is not a call", Llama3, `{"answer": 42}`, `{"answer": 42}`, nil},
		{"hermes arguments kept as written", Hermes, `<tool_call>{"name":"f","arguments":{"z": 1, "a": 12345678901234567890, "s": "<&>"}}</tool_call>`, "",
			[]Call{{Name: "f", Arguments: `{"z":1,"a":12345678901234567890,"s":"<&>"}`}}},
		{"hermes non-object arguments are text", Hermes, `<tool_call>{"name":"f","arguments":[1,2]}</tool_call>`, `<tool_call>{"name":"f","arguments":[1,2]}</tool_call>`, nil},
		{"mistral non-object arguments", Mistral, `[TOOL_CALLS]f[ARGS]"str"`, `[TOOL_CALLS]f[ARGS]"str"`, nil},
		{"none passes through", None, `<tool_call>{"name":"x"}</tool_call>`, `<tool_call>{"name":"x"}</tool_call>`, nil},
	}
	for _, c := range cases {
		for _, n := range []int{1, 3, 7, 1000} {
			text, calls := feed(c.f, c.in, n)
			if text != c.text || !reflect.DeepEqual(calls, c.calls) {
				t.Errorf("%s (chunks of %d): text %q calls %v; want %q %v", c.name, n, text, calls, c.text, c.calls)
			}
		}
	}
}

func TestStreamsTextEarly(t *testing.T) {
	// Text before a call goes out as it comes, holding back only what may
	// start the marker.
	p := NewParser(Hermes)
	if s, _ := p.Push("Hello <tool"); s != "Hello " {
		t.Errorf("got %q", s)
	}
	if s, _ := p.Push("s are"); s != "<tools are" {
		t.Errorf("got %q", s)
	}
}

func TestDetect(t *testing.T) {
	cases := map[string]Format{
		"{{ messages }}":                          None,
		"{% if tools %}<tool_call>{% endif %}":    Hermes,
		"{% if tools %}[TOOL_CALLS]{% endif %}":   Mistral,
		"{% if tools %}<|python_tag|>{% endif %}": Llama3,
		"{% for t in tools %}{{ t }}{% endfor %}": Unknown,
	}
	for src, want := range cases {
		if got := Detect(src, false); got != want {
			t.Errorf("%q: %v, want %v", src, got, want)
		}
	}
	if Detect("", true) != Harmony || !Harmony.Supported() || Unknown.Supported() {
		t.Error("harmony")
	}
}

// FuzzParser checks that no input panics, that text and calls together
// account for the input (nothing the model wrote is lost), and that every
// call's arguments are JSON.
func FuzzParser(f *testing.F) {
	f.Add(`a<tool_call>{"name":"f","arguments":{"x":1}}</tool_call>b`, uint8(3), uint8(0))
	f.Add(`[TOOL_CALLS][{"name":"f","arguments":{}}]`, uint8(2), uint8(1))
	f.Add(`<|python_tag|>{"name":"f","parameters":{}}`, uint8(5), uint8(2))
	f.Fuzz(func(t *testing.T, in string, chunk, which uint8) {
		formats := []Format{Hermes, Mistral, Llama3}
		f := formats[int(which)%len(formats)]
		text, calls := feed(f, in, int(chunk%16)+1)
		if len(calls) == 0 && text != in {
			t.Fatalf("no calls but text %q != input %q", text, in)
		}
		for _, c := range calls {
			if c.Name == "" || !json.Valid([]byte(c.Arguments)) || !strings.HasPrefix(c.Arguments, "{") {
				t.Fatalf("bad call %+v", c)
			}
		}
		// Where a token boundary falls changes nothing: the same input
		// whole gives the same text and calls.
		if wholeText, wholeCalls := feed(f, in, len(in)+1); wholeText != text || !reflect.DeepEqual(wholeCalls, calls) {
			t.Fatalf("chunks of %d: %q %v; whole: %q %v", int(chunk%16)+1, text, calls, wholeText, wholeCalls)
		}
		if utf8.ValidString(in) && !utf8.ValidString(text) {
			t.Fatalf("valid input gave invalid text %q", text)
		}
	})
}

// BenchmarkStreamLongCall streams a 10 KB Hermes call 4 bytes at a time,
// as a model writes one: the parser's work should grow with the call, not
// with its square.
func BenchmarkStreamLongCall(b *testing.B) {
	call := `<tool_call>{"name":"write","arguments":{"text":"` + strings.Repeat("lorem ipsum ", 850) + `"}}</tool_call>`
	b.ReportAllocs()
	for b.Loop() {
		_, calls := feed(Hermes, call, 4)
		if len(calls) != 1 {
			b.Fatal("no call")
		}
	}
}
