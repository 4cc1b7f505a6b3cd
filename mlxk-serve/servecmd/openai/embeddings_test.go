package openai

import "testing"

// TestDecodeEmbeddings: every input form, the formats, and typed 400s.
func TestDecodeEmbeddings(t *testing.T) {
	for body, check := range map[string]func(*EmbeddingRequest) bool{
		`{"model":"m","input":"a"}`:                                  func(r *EmbeddingRequest) bool { return len(r.Texts) == 1 && !r.Base64 },
		`{"model":"m","input":["a","b"],"encoding_format":"base64"}`: func(r *EmbeddingRequest) bool { return len(r.Texts) == 2 && r.Base64 },
		`{"model":"m","input":[1,2,3],"dimensions":8}`:               func(r *EmbeddingRequest) bool { return len(r.IDs) == 1 && len(r.IDs[0]) == 3 && r.Dimensions == 8 },
		`{"model":"m","input":[[1],[2,3]],"user":"u"}`:               func(r *EmbeddingRequest) bool { return len(r.IDs) == 2 },
	} {
		r, e := DecodeEmbeddings([]byte(body))
		if e != nil || !check(r) {
			t.Errorf("%s: %+v %v", body, r, e)
		}
	}
	for body, param := range map[string]string{
		`{"input":"a"}`:                                   "model",
		`{"model":"m"}`:                                   "input",
		`{"model":"m","input":""}`:                        "input",
		`{"model":"m","input":[]}`:                        "input",
		`{"model":"m","input":["a",[1]]}`:                 "input",
		`{"model":"m","input":[-1]}`:                      "input",
		`{"model":"m","input":"a","encoding_format":"x"}`: "encoding_format",
		`{"model":"m","input":"a","dimensions":0}`:        "dimensions",
		`{"model":"m","input":"a","frobnicate":1}`:        "frobnicate",
	} {
		if _, e := DecodeEmbeddings([]byte(body)); e == nil || e.Param != param {
			t.Errorf("%s: %+v, want param %s", body, e, param)
		}
	}
	if got := EncodeFloats([]float32{1, -2}); got != "AACAPwAAAMA=" {
		t.Errorf("base64 %s", got)
	}
}

// FuzzDecodeEmbeddings: any body gives a request or a typed 400.
func FuzzDecodeEmbeddings(f *testing.F) {
	f.Add([]byte(`{"model":"m","input":["a","b"],"encoding_format":"base64","dimensions":4}`))
	f.Add([]byte(`{"model":"m","input":[[1,2],[3]]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, e := DecodeEmbeddings(body)
		if e != nil {
			if r != nil || e.Status != 400 || e.Code == "" {
				t.Fatalf("bad error %+v", e)
			}
			return
		}
		n := len(r.Texts) + len(r.IDs)
		if r.Model == "" || n == 0 || n > MaxEmbeddingInputs || (r.Texts != nil && r.IDs != nil) || r.Dimensions < 0 {
			t.Fatalf("accepted bad request %+v", r)
		}
		for _, s := range r.Texts {
			if s == "" {
				t.Fatal("empty input accepted")
			}
		}
	})
}
