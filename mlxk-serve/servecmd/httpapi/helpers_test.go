package httpapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/internal/servetest"
	"github.com/mlxk/mlxk/mlxk-serve/servecmd/models"
	"github.com/mlxk/mlxk/shared/engine"
	"github.com/mlxk/mlxk/shared/hubcache"
)

// env is a server on a real loopback port over a fresh hub cache.
type env struct {
	t   *testing.T
	hub string
	reg *models.Registry
	srv *Server
	ts  *httptest.Server
}

type envOptions struct {
	backend  engine.Backend
	batch    engine.BatcherOptions
	registry func(*models.Config)
	server   func(*Config)
}

// newEnv starts a server; models are added with addModel.
func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	hub := filepath.Join(t.TempDir(), "hub")
	if o.backend == nil {
		o.backend = engine.Native{}
	}
	if o.batch.MaxBatch == 0 {
		o.batch = engine.BatcherOptions{MaxBatch: 4, MaxQueue: 8}
	}
	e := &env{t: t, hub: hub}
	rc := models.Config{Cache: hubcache.Cache{Dir: hub}, Backend: o.backend, Batch: o.batch, Threads: 1,
		KeepAlive: -1, MaxLoaded: 2,
		OnLoad: func(id string, took time.Duration, err error) { e.srv.OnLoad(id, took, err) }}
	if o.registry != nil {
		o.registry(&rc)
	}
	e.reg = models.New(rc)
	sc := Config{Registry: e.reg, Version: "test"}
	if o.server != nil {
		o.server(&sc)
	}
	e.srv = New(sc)
	e.ts = httptest.NewServer(e.srv.Handler())
	t.Cleanup(func() {
		e.ts.Close()
		e.srv.Abort()
		e.reg.Close()
	})
	return e
}

// addModel caches a test model as repo with the template.
func (e *env) addModel(repo, spec, template string) string {
	e.t.Helper()
	return e.addModelWith(repo, spec, template, servetest.ByteTokenizer())
}

// addModelWith is addModel with the given tokenizer.json.
func (e *env) addModelWith(repo, spec, template string, tokenizerJSON []byte) string {
	e.t.Helper()
	src := filepath.Join(e.t.TempDir(), "src")
	if err := servetest.WriteModelWith(src, spec, template, tokenizerJSON); err != nil {
		e.t.Fatal(err)
	}
	dir, err := servetest.AddToCache(e.hub, repo, src)
	if err != nil {
		e.t.Fatal(err)
	}
	return dir
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("body is not JSON (%v): %s", err, r.body)
	}
	return v
}

func (e *env) do(method, path string, body any, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// events splits an SSE body into its data payloads.
func events(t *testing.T, body []byte) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, ":") { // blank lines and comments (keep-alives)
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("SSE line without data: %q", line)
		}
		out = append(out, data)
	}
	return out
}

// get walks a decoded JSON value: get(v, "choices", 0, "message").
func get(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%v: not an object at %q", v, k)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("%v: no index %d", v, k)
			}
			v = l[k]
		}
	}
	return v
}

func chatBody(model, user string, extra map[string]any) map[string]any {
	b := map[string]any{"model": model, "messages": []any{map[string]any{"role": "user", "content": user}},
		"temperature": 0, "max_tokens": 8}
	for k, v := range extra {
		b[k] = v
	}
	return b
}
