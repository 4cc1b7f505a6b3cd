package jsonscan

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

var seeds = []string{
	`{"chat_template":"{{ x }}","added_tokens_decoder":{"1":{"content":"<s>"}}}`,
	`{"chat_template":[{"name":"default","template":"t"}]}`,
	`{"a":1,"chat_template":"first","chat_template":"second"}`,
	`{"chat_template":null}`,
	`{"x":[1,-2.5e+3,true,false,null,{"y":[]}]}`,
	`{"chat_\u0074emplate":"escaped key"}`,
	`[1,2,3]`,
	`"just a string"`,
	`{"a":1}garbage`,
	`{"a":01}`,
	`{"a":1.}`,
	`{"a":"\ud800"}`,
	`{"a":"tab	inside"}`,
	`{}`,
	``,
	`   `,
	`{"a":{"b":{"c":[[[[]]]]}}}`,
}

// reference is what TopLevel must agree with.
func reference(b []byte, key string) (raw []byte, found bool, err error) {
	if !json.Valid(b) {
		return nil, false, ErrSyntax
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(b, &top) != nil || top == nil {
		return nil, false, ErrNotObject
	}
	v, found := top[key]
	return v, found, nil
}

func TestTopLevelMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range seeds {
		compare(t, []byte(s), "chat_template")
	}
}

func TestStringValues(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]int{
		`{"a":"x","b":"y","c":"x"}`: 2,
		`{"a":"x","a":"y"}`:         1,
		`{"a":1,"a":"y"}`:           1,
		`{"a":"y","a":1}`:           -1,
		`{}`:                        0,
		`[]`:                        -1,
		`{"a":"x"} extra`:           -1,
	} {
		m, ok := StringValues([]byte(raw))
		switch {
		case want < 0 && ok:
			t.Errorf("StringValues(%s) = %v, want not ok", raw, m)
		case want >= 0 && (!ok || len(m) != want):
			t.Errorf("StringValues(%s) = %v, %v, want %d values", raw, m, ok, want)
		}
	}
}

func FuzzTopLevel(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		compare(t, b, "chat_template")
		compare(t, b, "a")
	})
}

func compare(t *testing.T, b []byte, key string) {
	t.Helper()
	raw, found, err := TopLevel(b, key)
	wraw, wfound, werr := reference(b, key)
	if err != werr || found != wfound {
		t.Fatalf("%q: (found %v, err %v), encoding/json (found %v, err %v)", b, found, err, wfound, werr)
	}
	if !found {
		return
	}
	if !utf8.Valid(raw) {
		return // encoding/json keeps raw bytes too; nothing more to compare
	}
	var got, want any
	if json.Unmarshal(raw, &got) != nil || json.Unmarshal(wraw, &want) != nil {
		t.Fatalf("%q: raw values do not decode: %q vs %q", b, raw, wraw)
	}
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if !bytes.Equal(gb, wb) {
		t.Fatalf("%q: value %s, encoding/json %s", b, gb, wb)
	}
}
