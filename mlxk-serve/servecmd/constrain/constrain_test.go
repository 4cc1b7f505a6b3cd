package constrain

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// run feeds text byte by byte; it reports whether every byte was taken
// and whether the output may end there.
func run(g *Grammar, text string) (ok, accepting bool) {
	s := g.Start()
	for i := 0; i < len(text); i++ {
		if !s.Advance(text[i]) {
			return false, false
		}
	}
	return true, s.Accepting()
}

func mustCompile(t *testing.T, schema string) *Grammar {
	t.Helper()
	g, err := Compile(json.RawMessage(schema))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestJSONObject(t *testing.T) {
	g := JSONObject()
	for _, c := range []struct {
		in            string
		ok, accepting bool
	}{
		{`{}`, true, true},
		{`{"a": [1, -2.5e+3, "x\"\u00e9", true, null, {"b": {}}], "c": false}`, true, true},
		{"{\n  \"a\": 1\n}\n", true, true},
		{`{"a": 1`, true, false},
		{`[1]`, false, false},               // json_object wants an object
		{`{"a": 01}`, false, false},         // no leading zeros
		{`{"a": 1.}`, false, false},         // a fraction needs digits
		{`{"a": tru}`, false, false},        // not a literal
		{`{"a" 1}`, false, false},           // colon missing
		{`{"a": 1,}`, false, false},         // trailing comma
		{`{"a": "x` + "\n", false, false},   // control character in a string
		{`{} x`, false, false},              // nothing after the value
		{`{"a": "\q"}`, false, false},       // bad escape
		{"{\"a\": \"\xc3\"}", false, false}, // a broken UTF-8 character
		{"{\"\xc3\xa9\": \"\xe2\x82\xac\"}", true, true},
	} {
		ok, acc := run(g, c.in)
		if ok != c.ok || acc != c.accepting {
			t.Errorf("%q: ok %v accepting %v, want %v %v", c.in, ok, acc, c.ok, c.accepting)
		}
	}
	// Whitespace is a space, or a line break and an indent; no padding.
	for in, want := range map[string]bool{"{ }": true, "{\n\t\t}": true, "{\n" + strings.Repeat(" ", maxIndent) + "}": true,
		"{  }": false, "{\n\n}": false, "{ \n}": false, "{\r\n}": false, "{\n" + strings.Repeat(" ", maxIndent+1) + "}": false} {
		if ok, _ := run(g, in); ok != want {
			t.Errorf("%q: %v, want %v", in, ok, want)
		}
	}
}

func TestSchema(t *testing.T) {
	g := mustCompile(t, `{"type":"object","properties":{
		"name":{"type":"string"},
		"age":{"type":"integer"},
		"tags":{"type":"array","items":{"enum":["a","b"]},"minItems":1,"maxItems":2},
		"kind":{"const":"person"},
		"spouse":{"anyOf":[{"$ref":"#/$defs/ref"},{"type":"null"}]}},
		"required":["name","age"],"additionalProperties":false,
		"$defs":{"ref":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"],"additionalProperties":false}}}`)
	for _, c := range []struct {
		in            string
		ok, accepting bool
	}{
		{`{"name": "Ann", "age": 30}`, true, true},
		{`{"age": 30, "name": "Ann", "tags": ["a", "b"], "kind": "person"}`, true, true},
		{`{"name": "Ann", "age": 30, "spouse": {"name": "Bob"}}`, true, true},
		{`{"name": "Ann", "age": 30, "spouse": null}`, true, true},
		{`{"name": "Ann"}`, false, false},             // age is required
		{`{"name": "Ann", "age": 3.5}`, false, false}, // an integer
		{`{"name": "Ann", "age": 30, "x": 1}`, false, false},
		{`{"name": "Ann", "age": 30, "tags": []}`, false, false},
		{`{"name": "Ann", "age": 30, "tags": ["a","b","a"]}`, false, false},
		{`{"name": "Ann", "age": 30, "tags": ["c"]}`, false, false},
		{`{"name": "Ann", "age": 30, "kind": "robot"}`, false, false},
		{`{"name": "Ann", "name": "Bo"}`, false, false}, // a key twice
		{`{"name": "Ann", "age": 30, "spouse": {"age": 1}}`, false, false},
	} {
		ok, acc := run(g, c.in)
		if ok != c.ok || acc != c.accepting {
			t.Errorf("%s: ok %v accepting %v, want %v %v", c.in, ok, acc, c.ok, c.accepting)
		}
	}

	// Open objects accept other keys with the declared ones checked.
	g = mustCompile(t, `{"properties":{"n":{"type":"number"}},"additionalProperties":{"type":"boolean"}}`)
	for in, want := range map[string]bool{`{"n": 1, "x": true}`: true, `{"x": 1}`: false, `{"n": "1"}`: false, `{"nn": false}`: true} {
		if ok, acc := run(g, in); (ok && acc) != want {
			t.Errorf("%s: %v, want %v", in, ok && acc, want)
		}
	}
	// A number at the root ends at the end of the output.
	g = mustCompile(t, `{"type":["number","string"]}`)
	if ok, acc := run(g, `-12.5`); !ok || !acc {
		t.Error("root number")
	}
	if ok, acc := run(g, `"x"`); !ok || !acc {
		t.Error("root string")
	}
	// Recursive definitions.
	g = mustCompile(t, `{"$ref":"#/definitions/tree","definitions":{"tree":{"type":"object","properties":{"kids":{"type":"array","items":{"$ref":"#/definitions/tree"}}},"additionalProperties":false}}}`)
	if ok, acc := run(g, `{"kids":[{"kids":[]},{}]}`); !ok || !acc {
		t.Error("recursive schema")
	}
}

func TestUnsupported(t *testing.T) {
	for schema, feature := range map[string]string{
		`{"type":"string","pattern":"^a"}`:                                "keyword pattern",
		`{"type":"string","format":"date"}`:                               "keyword format",
		`{"allOf":[{}]}`:                                                  "keyword allOf",
		`{"anyOf":[{"type":"object"},{"type":"object","properties":{}}]}`: "alternatives 0 and 1",
		`{"$ref":"http://example.com/s.json"}`:                            "$ref",
		`{"type":"date"}`:                                                 `type "date"`,
		`[1]`:                                                             "not a JSON object",
		`{"type":"object","required":["x"]}`:                              "required property",
		`{"type":"array","minItems":3,"maxItems":1}`:                      "maxItems below minItems",
	} {
		_, err := Compile(json.RawMessage(schema))
		var ue *UnsupportedError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), feature) {
			t.Errorf("%s: %v, want an error naming %s", schema, err, feature)
		}
	}
}

// FuzzAutomaton: the automaton accepts exactly the JSON objects
// encoding/json accepts (within the whitespace bound), and never panics.
func FuzzAutomaton(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,2.5e3,{"b":null}],"c":"\u00e9"}`, `{"a":-0}`, `{"a":"x\\"}`, `[1]`, `{"a":1e}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ok, acc := run(JSONObject(), in)
		var v map[string]any
		valid := json.Unmarshal([]byte(in), &v) == nil && v != nil
		if ok && acc && !valid {
			t.Fatalf("accepted invalid %q", in)
		}
		if valid && !(ok && acc) && plainSpace(in) && utf8.ValidString(in) {
			t.Fatalf("refused valid %q", in)
		}
	})
}

// plainSpace reports whether every whitespace run outside strings is one
// the grammar allows (a space or tab, or a line break and an indent).
func plainSpace(s string) bool {
	inStr, esc := false, false
	run := ""
	for i := 0; i <= len(s); i++ {
		if i < len(s) && !inStr && isSpace(s[i]) {
			run += s[i : i+1]
			continue
		}
		if run != "" {
			ok := run == " " || run == "\t" ||
				run[0] == '\n' && len(run) <= maxIndent+1 && strings.Trim(run[1:], " \t") == ""
			if !ok {
				return false
			}
			run = ""
		}
		if i == len(s) {
			break
		}
		switch c := s[i]; {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		}
	}
	return true
}
