package health

import (
	"encoding/json"
	"maps"
	"testing"
	"unicode/utf8"
)

// reference decodes an index with encoding/json: the behaviour
// weightMapFiles must reproduce.
func reference(b []byte) (map[string]bool, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil || top == nil {
		return nil, errIndex // not JSON, or not an object (a bare null)
	}
	raw, found := top["weight_map"]
	if !found {
		return nil, errWeightMap
	}
	var wm map[string]any
	if json.Unmarshal(raw, &wm) != nil || len(wm) == 0 {
		return nil, errWeightMap
	}
	out := map[string]bool{}
	for _, v := range wm {
		s, isStr := v.(string)
		if !isStr {
			return nil, errWeightMap
		}
		out[s] = true
	}
	return out, nil
}

var weightMapSeeds = []string{
	`{"metadata":{"total_size":12},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors","c":"model-00001-of-00002.safetensors"}}`,
	`{"weight_map":{}}`,
	`{"weight_map":{"a":1}}`,
	`{"weight_map":[]}`,
	`{"weight_map":null}`,
	`{"other":[1,2.5e-3,true,false,null,{"x":"y"}]}`,
	`{"weight_map":{"a":"x"},"weight_map":{"b":"y"}}`,
	`{"weight_map":{"a":"\u0078\n.safetensors"}}`,
	`{"weight_map":{"a":"x"}} trailing`,
	`{"weight_map":{"a":"x",}}`,
	`{"weight_map":{"a":"x"}`,
	`{"weight_\u006dap":{"a":"y"}}`,
	`[1,2]`,
	`{"n":-0.5E+10,"m":01}`,
	` { "weight_map" : { "a" : "b" } } `,
	"{\"weight_map\":{\"a\":\"tab\there\"}}",
	`{"weight_map":{"a":"bad \x escape"}}`,
	`{"weight_map":{"a":1,"a":"x"}}`,
	`{"weight_map":{"a":"x","a":1}}`,
	`{"weight_map":{"a":"x","\u0061":"y"}}`,
}

func TestWeightMapFilesMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, seed := range weightMapSeeds {
		compareWithReference(t, []byte(seed))
	}
}

func FuzzWeightMapFiles(f *testing.F) {
	for _, s := range weightMapSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !utf8.Valid(b) {
			// encoding/json replaces invalid UTF-8 inside strings; file
			// names keep their bytes. Validity is still compared.
			_, got := weightMapFiles(b)
			_, want := reference(b)
			if (got == nil) != (want == nil) {
				t.Fatalf("%q: error %v, encoding/json %v", b, got, want)
			}
			return
		}
		compareWithReference(t, b)
	})
}

func compareWithReference(t *testing.T, b []byte) {
	t.Helper()
	got, gotErr := weightMapFiles(b)
	want, wantErr := reference(b)
	if gotErr != wantErr {
		t.Fatalf("%q: error %v, encoding/json gives %v", b, gotErr, wantErr)
	}
	if !maps.Equal(got, want) {
		t.Fatalf("%q: files %v, encoding/json gives %v", b, got, want)
	}
}
