package hubtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Fixture content: one regular file, a small LFS file and a second folder.
var (
	configJSON = []byte(`{"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 8}` + "\n")
	weights    = bytes.Repeat([]byte("0123456789abcdef"), 256) // 4 KiB, LFS by name
)

func fixtureFiles() map[string][]byte {
	return map[string][]byte{
		"config.json":           configJSON,
		"model.safetensors":     weights,
		"tokenizer/vocab.txt":   []byte("a\nb\n"),
		"tokenizer/merges.txt":  []byte("a b\n"),
		"tokenizer/sub/x.model": []byte("spm"),
	}
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// newHub starts a hub closed at the end of the test with org/model public.
func newHub(t *testing.T, opts Options) *Hub {
	t.Helper()
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	if err := h.AddRepo("org/model", Repo{Branches: map[string]Commit{"main": {Files: fixtureFiles()}}}); err != nil {
		t.Fatal(err)
	}
	return h
}

// noRedirect is a client that shows redirects instead of following them,
// as a metadata HEAD must (hf-protocol §2.3).
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

type response struct {
	*http.Response
	body    []byte
	readErr error
}

// do sends a request; hdr is "Name: value" pairs.
func do(t *testing.T, c *http.Client, method, url string, hdr ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range hdr {
		k, v, _ := strings.Cut(kv, ": ")
		req.Header.Set(k, v)
	}
	if c == nil {
		c = noRedirect
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, rerr := io.ReadAll(resp.Body)
	return response{Response: resp, body: b, readErr: rerr}
}

func (r response) wantStatus(t *testing.T, code int) response {
	t.Helper()
	if r.readErr != nil {
		t.Fatalf("%s %s: reading body: %v", r.Request.Method, r.Request.URL, r.readErr)
	}
	if r.StatusCode != code {
		t.Fatalf("%s %s: status %d, want %d (X-Error-Message %q, body %.200s)", r.Request.Method, r.Request.URL,
			r.StatusCode, code, r.Header.Get("X-Error-Message"), r.body)
	}
	return r
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%s: body is not JSON: %v: %.200s", r.Request.URL, err, r.body)
	}
}
