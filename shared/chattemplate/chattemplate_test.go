package chattemplate

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestFind(t *testing.T) {
	named := `{"chat_template": [{"name": "default", "template": "DEFAULT"}, {"name": "tool_use", "template": "TOOLS"}, {"name": "rag", "template": "RAG"}]}`
	cases := []struct {
		name      string
		files     map[string]string
		withTools bool
		want      string
		noTpl     bool
		otherErr  bool
	}{
		{name: "jinja file", files: map[string]string{"chat_template.jinja": "JINJA {{ x }}\n"}, want: "JINJA {{ x }}\n"},
		{name: "jinja file wins over config", files: map[string]string{"chat_template.jinja": "JINJA", "tokenizer_config.json": `{"chat_template": "CONFIG"}`}, want: "JINJA"},
		{name: "config string", files: map[string]string{"tokenizer_config.json": `{"bos_token": "<s>", "chat_template": "{{ bos_token }}\u00e9"}`}, want: "{{ bos_token }}é"},
		{name: "named default", files: map[string]string{"tokenizer_config.json": named}, want: "DEFAULT"},
		{name: "named tool_use with tools", files: map[string]string{"tokenizer_config.json": named}, withTools: true, want: "TOOLS"},
		{name: "named no tool_use falls back to default", files: map[string]string{"tokenizer_config.json": `{"chat_template": [{"name": "default", "template": "D"}]}`}, withTools: true, want: "D"},
		{name: "named without default", files: map[string]string{"tokenizer_config.json": `{"chat_template": [{"name": "rag", "template": "R"}]}`}, noTpl: true},
		{name: "named without default but tool_use with tools", files: map[string]string{"tokenizer_config.json": `{"chat_template": [{"name": "tool_use", "template": "T"}]}`}, withTools: true, want: "T"},
		{name: "additional_chat_templates tool_use", files: map[string]string{"chat_template.jinja": "BASE", "additional_chat_templates/tool_use.jinja": "EXTRA"}, withTools: true, want: "EXTRA"},
		{name: "additional_chat_templates without tools", files: map[string]string{"chat_template.jinja": "BASE", "additional_chat_templates/tool_use.jinja": "EXTRA"}, want: "BASE"},
		{name: "no files", files: map[string]string{"config.json": "{}"}, noTpl: true},
		{name: "config without template", files: map[string]string{"tokenizer_config.json": `{"bos_token": "<s>"}`}, noTpl: true},
		{name: "config null template", files: map[string]string{"tokenizer_config.json": `{"chat_template": null}`}, noTpl: true},
		{name: "config blank template", files: map[string]string{"tokenizer_config.json": `{"chat_template": "  \n"}`}, noTpl: true},
		{name: "blank jinja file", files: map[string]string{"chat_template.jinja": "\n"}, noTpl: true},
		{name: "invalid config", files: map[string]string{"tokenizer_config.json": `{"chat_template": `}, otherErr: true},
		{name: "template of wrong type", files: map[string]string{"tokenizer_config.json": `{"chat_template": 7}`}, otherErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Find(writeFiles(t, c.files), c.withTools)
			switch {
			case c.noTpl:
				if !errors.Is(err, ErrNoTemplate) {
					t.Fatalf("got %q, %v; want ErrNoTemplate", got, err)
				}
			case c.otherErr:
				if err == nil || errors.Is(err, ErrNoTemplate) {
					t.Fatalf("got %q, %v; want an error other than ErrNoTemplate", got, err)
				}
			default:
				if err != nil || got != c.want {
					t.Fatalf("got %q, %v; want %q", got, err, c.want)
				}
			}
		})
	}
	if _, err := Find(filepath.Join(t.TempDir(), "missing"), false); !errors.Is(err, ErrNoTemplate) {
		t.Fatalf("missing folder: %v, want ErrNoTemplate", err)
	}
}

// render is a test helper: parse src and render messages with req defaults.
func render(t *testing.T, src string, req Request) (string, error) {
	t.Helper()
	tpl, err := Parse(src)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return tpl.Render(req)
}

func mustRender(t *testing.T, src string, req Request) string {
	t.Helper()
	out, err := render(t, src, req)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return out
}

func TestMassaging(t *testing.T) {
	const src = `{% for m in messages %}[{{ m.role }}|{{ m.content is string }}|{{ m.content }}|{% for c in m.tool_calls or [] %}{{ c.function.arguments is mapping }}:{{ c.function.arguments|tojson }};{% endfor %}]{% endfor %}`
	msgs := `[
		{"role": "system", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
		{"role": "user", "content": null},
		{"role": "assistant"},
		{"role": "assistant", "content": "", "tool_calls": [
			{"function": {"name": "f", "arguments": "{\"z\": 1, \"a\": [1.5, \"x\"], \"m\": {\"k\": null}}"}},
			{"function": {"name": "g", "arguments": {"already": "object"}}},
			{"function": {"name": "h", "arguments": ""}}
		]}
	]`
	got := mustRender(t, src, Request{Messages: json.RawMessage(msgs)})
	want := `[system|True|ab|]` +
		`[user|True||]` +
		`[assistant|True||]` +
		`[assistant|True||True:{"z": 1, "a": [1.5, "x"], "m": {"k": null}};True:{"already": "object"};False:"";]`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}

	for name, bad := range map[string]string{
		"image part":      `[{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image_url", "image_url": {"url": "x"}}]}]`,
		"part no text":    `[{"role": "user", "content": [{"type": "text"}]}]`,
		"part not object": `[{"role": "user", "content": ["a"]}]`,
		"bad arguments":   `[{"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "f", "arguments": "{not json"}}]}]`,
		"not an array":    `{"role": "user"}`,
		"message string":  `["hello"]`,
		"invalid json":    `[{"role": "user", "content": "x"}`,
		"trailing data":   `[] []`,
	} {
		if _, err := render(t, "x", Request{Messages: json.RawMessage(bad)}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestDecodeJSONOrderAndNumbers(t *testing.T) {
	v, err := decodeJSON([]byte(`{"zeta": 1, "alpha": 2.0, "mid": -3, "big": 12345678901234567890, "e": 1e2, "dup": 1, "list": [], "obj": {}, "dup": 2}`))
	if err != nil {
		t.Fatal(err)
	}
	d := v.AsDict()
	if got := strings.Join(d.Keys, ","); got != "zeta,alpha,mid,big,e,dup,list,obj" {
		t.Fatalf("key order %s", got)
	}
	check := func(k string, ok bool) {
		if !ok {
			t.Errorf("%s: wrong kind: %s", k, d.Data[k].String())
		}
	}
	check("zeta", d.Data["zeta"].IsInt() && d.Data["zeta"].AsInt() == 1)
	check("alpha", d.Data["alpha"].IsFloat())
	check("mid", d.Data["mid"].IsInt() && d.Data["mid"].AsInt() == -3)
	check("big", d.Data["big"].IsFloat())
	check("e", d.Data["e"].IsFloat() && d.Data["e"].AsFloat() == 100)
	check("dup", d.Data["dup"].AsInt() == 2)
	check("list", d.Data["list"].IsList() && d.Data["list"].AsList().Len() == 0)
	s, err := pyJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"zeta": 1, "alpha": 2.0, "mid": -3, "big": 1.2345678901234567e+19, "e": 100.0, "dup": 2, "list": [], "obj": {}}`; s != want {
		t.Fatalf("round trip\n got %s\nwant %s", s, want)
	}
}

func TestTojsonPython(t *testing.T) {
	// Expected strings are Python 3 json.dumps outputs.
	data := json.RawMessage(`{"b": [1, {"x": []}, {}], "a": "é\u2028<>&\u0001\u007f🚀"}`)
	cases := []struct{ expr, want string }{
		{`v|tojson`, `{"b": [1, {"x": []}, {}], "a": "é` + "\u2028" + `<>&\u0001` + "\x7f" + `🚀"}`},
		{`v|tojson(indent=2)`, "{\n  \"b\": [\n    1,\n    {\n      \"x\": []\n    },\n    {}\n  ],\n  \"a\": \"é\u2028<>&\\u0001\x7f🚀\"\n}"},
		{`v|tojson(ensure_ascii=true, sort_keys=true)`, `{"a": "\u00e9\u2028<>&\u0001\u007f\ud83d\ude80", "b": [1, {"x": []}, {}]}`},
		{`[1, [2]]|tojson(indent=0)`, "[\n1,\n[\n2\n]\n]"},
		{`{"a": 1, "b": [1, 2]}|tojson(separators=[",", ":"])`, `{"a":1,"b":[1,2]}`},
		{`{"a": 1, "b": [1, 2]}|tojson(indent="\t")`, "{\n\t\"a\": 1,\n\t\"b\": [\n\t\t1,\n\t\t2\n\t]\n}"},
		{`"x"|tojson`, `"x"`},
		{`none|tojson`, `null`},
		{`true|tojson`, `true`},
		{`[]|tojson(indent=4)`, `[]`},
	}
	for _, c := range cases {
		got, err := render(t, "{{ "+c.expr+" }}", Request{Messages: json.RawMessage(`[]`), Kwargs: map[string]json.RawMessage{"v": data}})
		if err != nil || got != c.want {
			t.Errorf("%s:\n got %q, %v\nwant %q", c.expr, got, err, c.want)
		}
	}
	if _, err := render(t, "{{ nothing|tojson }}", Request{Messages: json.RawMessage(`[]`)}); err == nil {
		t.Error("tojson of an undefined value: no error (Python raises)")
	}
}

func TestPyFloatRepr(t *testing.T) {
	// Python 3 repr(float) / json.dumps.
	cases := map[float64]string{
		0: "0.0", 1: "1.0", 0.5: "0.5", 22.5: "22.5", 1e-4: "0.0001", 1e-5: "1e-05",
		1.5e-7: "1.5e-07", 123456789: "123456789.0", 1e15: "1000000000000000.0", 1e16: "1e+16",
		1.2345678901234567e16: "1.2345678901234568e+16", 1e21: "1e+21", -2.5e-10: "-2.5e-10",
		0.1: "0.1", 1.0 / 3: "0.3333333333333333", 9007199254740992: "9007199254740992.0",
		5e-324: "5e-324", 1.7976931348623157e308: "1.7976931348623157e+308",
	}
	for f, want := range cases {
		if got := pyFloatRepr(f); got != want {
			t.Errorf("pyFloatRepr(%v) = %s, want %s", f, got, want)
		}
	}
	if got := pyFloatRepr(math.Copysign(0, -1)); got != "-0.0" {
		t.Errorf("pyFloatRepr(-0) = %s, want -0.0", got)
	}
	if got := pyFloatRepr(math.Inf(-1)) + pyFloatRepr(math.NaN()); got != "-InfinityNaN" {
		t.Errorf("pyFloatRepr(-Inf)+pyFloatRepr(NaN) = %s", got)
	}
}

func TestStrftime(t *testing.T) {
	tm := time.Date(2025, 6, 5, 21, 7, 3, 0, time.UTC)
	cases := map[string]string{
		"%Y-%m-%d":          "2025-06-05",
		"%d %b %Y":          "05 Jun 2025",
		"%-d %B %Y":         "5 June 2025",
		"%A %a %H:%M:%S":    "Thursday Thu 21:07:03",
		"%I %p %j %y %e|%%": "09 PM 156 25  5|%",
		"%F %T %D":          "2025-06-05 21:07:03 06/05/25",
		"%Z%z|%Q":           "|%Q",
		"100%":              "100%",
	}
	for f, want := range cases {
		if got := strftime(tm, f); got != want {
			t.Errorf("strftime(%q) = %q, want %q", f, got, want)
		}
	}
	got := mustRender(t, `{{ strftime_now("%d %b %Y") }}`, Request{Messages: json.RawMessage(`[]`), Now: func() time.Time { return tm }})
	if got != "05 Jun 2025" {
		t.Fatalf("strftime_now = %q", got)
	}
	// Without Now, the real clock is used.
	before := time.Now().Format("2006")
	got = mustRender(t, `{{ strftime_now("%Y") }}`, Request{Messages: json.RawMessage(`[]`)})
	if after := time.Now().Format("2006"); got != before && got != after {
		t.Fatalf("strftime_now(%%Y) = %q, want %s", got, before)
	}
}

func TestRewriteFilter(t *testing.T) {
	cases := map[string]string{
		`{{ x|tojson }}`:                         `{{ x|T }}`,
		`{{- x | tojson(indent=4) -}}`:           `{{- x | T(indent=4) -}}`,
		`{% set y = a|tojson %}`:                 `{% set y = a|T %}`,
		`{{ "|tojson" ~ '| tojson' }}`:           `{{ "|tojson" ~ '| tojson' }}`,
		`{{ x|tojsonish }} {{ tojson }}`:         `{{ x|tojsonish }} {{ tojson }}`,
		`{# x|tojson #} text |tojson`:            `{# x|tojson #} text |tojson`,
		`{{ 'a}}b'|tojson }}|tojson{{x|tojson}}`: `{{ 'a}}b'|T }}|tojson{{x|T}}`,
		`{{ "\"|tojson"|tojson }}`:               `{{ "\"|tojson"|T }}`,
		`{{ x|tojson`:                            `{{ x|T`,
	}
	for in, want := range cases {
		if got := rewriteFilters(in, map[string]string{"tojson": "T"}); got != want {
			t.Errorf("rewriteFilter(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRenderEnvironment(t *testing.T) {
	base := Request{Messages: json.RawMessage(`[{"role": "user", "content": "hi"}]`)}

	// tools: None when absent or null, the list otherwise; documents None.
	const tools = `{{ tools is none }}|{{ tools is defined }}|{{ documents is none }}|{{ tools|length if tools is not none else '-' }}`
	for raw, want := range map[string]string{"": "True|True|True|-", "null": "True|True|True|-", "[]": "False|True|True|0", `[{"a": 1}]`: "False|True|True|1"} {
		req := base
		if raw != "" {
			req.Tools = json.RawMessage(raw)
		}
		if got := mustRender(t, tools, req); got != want {
			t.Errorf("tools %q: got %q want %q", raw, got, want)
		}
	}

	// Empty special tokens stay undefined; kwargs override tokens.
	req := base
	req.BOSToken, req.EOSToken = "<s>", "</s>"
	req.Kwargs = map[string]json.RawMessage{"eos_token": json.RawMessage(`"<eos>"`), "enable_thinking": json.RawMessage(`false`), "n": json.RawMessage(`3`)}
	got := mustRender(t, `{{ bos_token }}{{ eos_token }}{{ unk_token is defined }}{{ pad_token is defined }}{{ enable_thinking is false }}{{ n + 1 }}{{ add_generation_prompt }}`, req)
	if got != "<s><eos>FalseFalseTrue4False" {
		t.Errorf("tokens/kwargs: %q", got)
	}
	for _, k := range []string{"messages", "tools", "documents", "add_generation_prompt"} {
		req := base
		req.Kwargs = map[string]json.RawMessage{k: json.RawMessage(`1`)}
		if _, err := render(t, "x", req); err == nil {
			t.Errorf("kwarg %q accepted", k)
		}
	}
	req = base
	req.Kwargs = map[string]json.RawMessage{"bad": json.RawMessage(`{`)}
	if _, err := render(t, "x", req); err == nil {
		t.Error("invalid kwarg JSON accepted")
	}

	// trim_blocks / lstrip_blocks, loop controls, generation tag.
	src := "{% for m in messages %}\n    {% if loop.first %}{% continue %}{% endif %}\n{{ m.content }}\n{% generation %}G{% endgeneration %}{% break %}\n{% endfor %}"
	req = base
	req.Messages = json.RawMessage(`[{"role": "user", "content": "a"}, {"role": "user", "content": "b"}, {"role": "user", "content": "c"}]`)
	if got := mustRender(t, src, req); got != "b\nG" {
		t.Errorf("whitespace/loop controls: %q", got)
	}

	// raise_exception surfaces as a *TemplateError.
	_, err := render(t, `{{ raise_exception("Only user and assistant roles are supported!") }}`, base)
	var te *TemplateError
	if !errors.As(err, &te) || te.Message != "Only user and assistant roles are supported!" {
		t.Errorf("raise_exception: %v", err)
	}

	if _, err := Parse("{% if %}"); err == nil {
		t.Error("Parse accepted a broken template")
	}
	tpl, err := Parse("{{ 1 }}")
	if err != nil || tpl.Source() != "{{ 1 }}" {
		t.Errorf("Source: %v", err)
	}
}

func TestPlain(t *testing.T) {
	cases := []struct{ msgs, want string }{
		{`[{"role": "user", "content": "test input"}]`, "Human: test input\n\nAssistant: "},
		{`[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}, {"role": "tool", "content": "dropped"}, {"role": "user", "content": [{"type": "text", "text": "Again"}, {"type": "text", "text": "?"}]}]`,
			"System: Be brief.\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Again?\n\nAssistant: "},
		{`[{"role": "assistant", "content": null}, {"role": "developer", "content": "x"}, {"content": "no role"}]`, "Assistant: \n\nAssistant: "},
		{`[{"role": "user", "content": {"k": [1, 2.0]}}]`, "Human: {\"k\": [1, 2.0]}\n\nAssistant: "},
		{`[]`, "\n\nAssistant: "},
	}
	for _, c := range cases {
		got, err := Plain(json.RawMessage(c.msgs))
		if err != nil || got != c.want {
			t.Errorf("Plain(%s) = %q, %v; want %q", c.msgs, got, err, c.want)
		}
	}
	for _, bad := range []string{`{}`, `[1]`, `[{"role": "user", "content": [{"type": "image"}]}]`, `nope`} {
		if _, err := Plain(json.RawMessage(bad)); err == nil {
			t.Errorf("Plain(%s): no error", bad)
		}
	}
}

// FuzzRender feeds arbitrary message (and tools/kwargs) JSON to the Qwen3
// template: Render must never panic, only render or return an error.
func FuzzRender(f *testing.F) {
	src, err := os.ReadFile(filepath.Join("testdata", "templates", "qwen3.jinja"))
	if err != nil {
		f.Fatal(err)
	}
	tpl, err := Parse(string(src))
	if err != nil {
		f.Fatal(err)
	}
	convs := loadConversations(f)
	for _, c := range convs {
		f.Add([]byte(c.Messages), []byte(c.Tools), true)
	}
	f.Add([]byte(`[{"role": "assistant", "content": "</think>"}]`), []byte(nil), false)
	f.Add([]byte(`[{"role": "tool"}, {"role": "tool", "content": 5}]`), []byte(`{}`), true)
	f.Add([]byte(`[{"role": "assistant", "tool_calls": [null, {"function": {"arguments": 5}}, {"function": "x"}]}]`), []byte(`[null]`), true)
	f.Add([]byte(`[]`), []byte(`"tools"`), true)
	f.Add([]byte(`[{"role": ["user"], "content": [{"type": "text", "text": 1}]}]`), []byte(nil), true)
	f.Fuzz(func(t *testing.T, messages, tools []byte, agp bool) {
		req := Request{
			Messages:            messages,
			Tools:               tools,
			AddGenerationPrompt: agp,
			Kwargs:              map[string]json.RawMessage{"enable_thinking": json.RawMessage(`false`)},
			Now:                 func() time.Time { return fixedNow },
		}
		out, err := tpl.Render(req)
		if errors.Is(err, errEnginePanic) {
			t.Fatalf("messages %q tools %q: %v", messages, tools, err)
		}
		if err == nil && !json.Valid(messages) {
			t.Fatalf("rendered invalid JSON messages %q: %q", messages, out)
		}
		_, _ = Plain(messages)
	})
}

// TestStringAndFormatFilters pins the string and format filters to Python
// Jinja2 3.1 outputs (computed with testdata/gen/check_python.py's env).
func TestStringAndFormatFilters(t *testing.T) {
	kwargs := map[string]json.RawMessage{
		"f": json.RawMessage(`1.0`),
		"n": json.RawMessage(`null`),
		"l": json.RawMessage(`["a", "b's", 2.5, null, {"k": [true]}]`),
		"d": json.RawMessage(`{"a": 1, "b's": [1.5, null, true]}`),
		"u": json.RawMessage(`"tab\t nl\n nbsp\u00a0 zwj\u200d é 🚀 \u0007"`),
	}
	cases := []struct{ src, want string }{
		{`{{ n|string }}`, "None"},
		{`{{ f|string }}`, "1.0"},
		{`{{ l|string }}`, "['a', \"b's\", 2.5, None, {'k': [True]}]"},
		{`{{ d|string }}`, "{'a': 1, \"b's\": [1.5, None, True]}"},
		{`{{ true|string }}`, "True"},
		{`{{ 3|string }}`, "3"},
		{`{{ nope|string }}`, ""},
		{`{{ u|string }}`, "tab\t nl\n nbsp  zwj‍ é 🚀 \u0007"},
		{`{{ 'it\'s'|string }}`, "it's"},
		{`{{ ["it's", 'say "hi"', 'both \' "']|string }}`, "[\"it's\", 'say \"hi\"', 'both \\' \"']"},
		{`{{ (f|string) + 'x' }}`, "1.0x"},
		{`{{ '%c'|format(65) }}`, "A"},
		{`{{ '%s and %s'|format('a', n) }}`, "a and None"},
		{`{{ '%d|%5d|%-5d|%05d'|format(3, 4, 5, 6) }}`, "3|    4|5    |00006"},
		{`{{ '%.2f|%f|%8.3f'|format(3.14159, 2, 1.5) }}`, "3.14|2.000000|   1.500"},
		{`{{ '%x|%X|%o|%%'|format(255, 255, 8) }}`, "ff|FF|10|%"},
		{`{{ '%(a)s=%(b)d'|format(a='k', b=2) }}`, "k=2"},
		{`{{ '%r'|format('q') }}`, "'q'"},
		{`{{ '%5s|%-5s|%.2s'|format('ab', 'cd', 'xyz') }}`, "   ab|cd   |xy"},
		{`{{ '%e|%g|%g'|format(12345.678, 0.00001, 1234567) }}`, "1.234568e+04|1e-05|1.23457e+06"},
		{`{{ '%s'|format(l) }}`, "['a', \"b's\", 2.5, None, {'k': [True]}]"},
		{`{{ '%c'|format('z') }}`, "z"},
	}
	for _, c := range cases {
		got, err := render(t, c.src, Request{Messages: json.RawMessage(`[]`), Kwargs: kwargs})
		if err != nil || got != c.want {
			t.Errorf("%s:\n got %q, %v\nwant %q", c.src, got, err, c.want)
		}
	}
	for _, bad := range []string{`{{ '%d'|format('x') }}`, `{{ '%s %s'|format(1) }}`, `{{ '%s'|format(1, 2) }}`, `{{ '%(k)s'|format(j=1) }}`, `{{ '%y'|format(1) }}`, `{{ 5|format(1) }}`} {
		if _, err := render(t, bad, Request{Messages: json.RawMessage(`[]`)}); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// TestConcurrentRender renders one parsed template from many goroutines
// (run with -race): a Template must be safe for concurrent use.
func TestConcurrentRender(t *testing.T) {
	manifest := loadManifest(t)
	tpl := loadTemplate(t, "gpt-oss")
	convs := loadConversations(t)
	want := make([]string, len(convs))
	for i, c := range convs {
		want[i], _ = tpl.Render(c.request(manifest["gpt-oss"]))
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range convs {
				c := convs[(i+g)%len(convs)]
				got, _ := tpl.Render(c.request(manifest["gpt-oss"]))
				if got != want[(i+g)%len(convs)] {
					t.Errorf("%s: concurrent render differs", c.Name)
				}
			}
		}()
	}
	wg.Wait()
}
