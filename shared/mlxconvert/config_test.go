package mlxconvert

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestPyFloat(t *testing.T) {
	cases := map[float64]string{
		1e-5: "1e-05", 1e-6: "1e-06", 10000: "10000.0", 1e6: "1000000.0", 0.5: "0.5",
		0.0001: "0.0001", 1e16: "1e+16", 1e15: "1000000000000000.0", -2.5e-7: "-2.5e-07",
		1.2345678901234568e+17: "1.2345678901234568e+17", 0: "0.0", 0.1: "0.1", 3: "3.0",
	}
	for f, want := range cases {
		if got, err := pyFloat(f); err != nil || got != want {
			t.Errorf("pyFloat(%v) = %q, %v; want %q", f, got, err, want)
		}
	}
}

func TestConfigRoundTripKeepsOrderAndNumbers(t *testing.T) {
	src := `{"z": 1, "a": {"y": 1.0e-6, "b": [1, 2.50, "é"]}, "m": null, "e": [], "o": {}, "t": true}`
	c, err := ParseConfig([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Keys(); !slices.Equal(got, []string{"z", "a", "m", "e", "o", "t"}) {
		t.Errorf("keys %v", got)
	}
	c.Set("quantization", 4) // unsorted source: goes before the first larger key ("z")
	c.Set("z", 2)            // replaced in place
	b, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `{
    "quantization": 4,
    "z": 2,
    "a": {
        "y": 1.0e-6,
        "b": [
            1,
            2.50,
            "\u00e9"
        ]
    },
    "m": null,
    "e": [],
    "o": {},
    "t": true
}`
	if string(b) != want {
		t.Errorf("marshal:\n%s\nwant:\n%s", b, want)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Errorf("output is not JSON: %v", err)
	}
	// A sorted object stays sorted.
	s := NewConfig()
	for _, k := range []string{"a", "c", "q", "r"} {
		s.Set(k, 1)
	}
	s.Set("quantization_config", 1)
	s.Set("quantization", 1)
	if got := s.Keys(); !slices.Equal(got, []string{"a", "c", "q", "quantization", "quantization_config", "r"}) {
		t.Errorf("sorted insert %v", got)
	}
	s.Delete("c")
	if s.Has("c") || len(s.Keys()) != 5 {
		t.Errorf("delete %v", s.Keys())
	}
}

func TestParseConfigRejects(t *testing.T) {
	for _, bad := range []string{"", "[]", "{", `{"a":1} x`, `{"a":}`, strings.Repeat("[", 100) + strings.Repeat("]", 100)} {
		if _, err := ParseConfig([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	deep := `{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`
	if _, err := ParseConfig([]byte(deep)); err == nil {
		t.Error("deep nesting accepted")
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"model_type":"qwen2","quantization":{"group_size":64,"bits":4,"lm_head":false},"x":[1,2.5,null]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b)
		if err != nil {
			return
		}
		out, err := c.Marshal()
		if err != nil {
			t.Fatalf("marshal of parsed config: %v", err)
		}
		c2, err := ParseConfig(out)
		if err != nil {
			t.Fatalf("output does not parse: %v\n%s", err, out)
		}
		out2, _ := c2.Marshal()
		if string(out) != string(out2) {
			t.Fatalf("not stable:\n%s\n%s", out, out2)
		}
	})
}
