package httpapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/internal/servetest"
)

func TestAPIKey(t *testing.T) {
	e := newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: "ok"},
		server: func(c *Config) { c.APIKeys = []string{"k1", "k2"} }})
	e.addModel("org/Tiny", "llama-q4", servetest.ChatTemplate)
	for _, c := range []struct {
		path, auth string
		status     int
	}{
		{"/v1/models", "", 401},
		{"/v1/models", "Bearer nope", 401},
		{"/v1/models", "Basic azE=", 401},
		{"/v1/models", "Bearer k2", 200},
		{"/metrics", "", 401},
		{"/api/ps", "Bearer k1", 200},
		{"/health", "", 200}, // probes need no key
	} {
		var h []string
		if c.auth != "" {
			h = []string{"Authorization", c.auth}
		}
		r := e.do("GET", c.path, nil, h...)
		if r.status != c.status {
			t.Errorf("%s %q: %d, want %d", c.path, c.auth, r.status, c.status)
		}
		if r.status == 401 && (get(t, r.json(t), "error", "code") != "invalid_api_key" || r.header.Get("WWW-Authenticate") == "") {
			t.Errorf("401 body %s headers %v", r.body, r.header)
		}
	}
	r := e.do("POST", "/v1/chat/completions", chatBody("org/Tiny", "hi", nil), "Authorization", "Bearer k1")
	if r.status != 200 {
		t.Errorf("chat with key: %d %s", r.status, r.body)
	}
}

func TestCORS(t *testing.T) {
	e := newEnv(t, envOptions{server: func(c *Config) { c.CORSOrigins = []string{"https://app.example"}; c.APIKeys = []string{"k"} }})
	// A preflight needs no key and gets the allowed methods and headers.
	r := e.do("OPTIONS", "/v1/chat/completions", nil, "Origin", "https://app.example",
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization, content-type")
	if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		!strings.Contains(r.header.Get("Access-Control-Allow-Methods"), "POST") ||
		r.header.Get("Access-Control-Allow-Headers") != "authorization, content-type" {
		t.Errorf("preflight %d %v", r.status, r.header)
	}
	r = e.do("GET", "/v1/models", nil, "Origin", "https://app.example", "Authorization", "Bearer k")
	if r.header.Get("Access-Control-Allow-Origin") != "https://app.example" || !strings.Contains(r.header.Get("Access-Control-Expose-Headers"), "X-Request-ID") {
		t.Errorf("simple request headers %v", r.header)
	}
	// Other origins get no CORS headers, so browsers refuse the answer.
	r = e.do("OPTIONS", "/v1/models", nil, "Origin", "https://evil.example", "Access-Control-Request-Method", "GET")
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("foreign origin allowed: %v", r.header)
	}
	// Without --cors-origins there are none at all.
	plain := newEnv(t, envOptions{})
	if r := plain.do("GET", "/health", nil, "Origin", "https://app.example"); r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS header without configuration: %v", r.header)
	}
	star := newEnv(t, envOptions{server: func(c *Config) { c.CORSOrigins = []string{"*"} }})
	if r := star.do("GET", "/health", nil, "Origin", "https://any.example"); r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("* not honoured: %v", r.header)
	}
}

func TestRequestID(t *testing.T) {
	e := newEnv(t, envOptions{})
	a := e.do("GET", "/health", nil).header.Get("X-Request-ID")
	b := e.do("GET", "/health", nil).header.Get("X-Request-ID")
	if a == b || !strings.HasPrefix(a, "req_") {
		t.Errorf("ids %q %q", a, b)
	}
	// A caller's plain id is kept (tracing through proxies), junk is not.
	if got := e.do("GET", "/health", nil, "X-Request-ID", "trace-1234abcd").header.Get("X-Request-ID"); got != "trace-1234abcd" {
		t.Errorf("inbound id replaced: %q", got)
	}
	if got := e.do("GET", "/health", nil, "X-Request-ID", "x\"><script>").header.Get("X-Request-ID"); !strings.HasPrefix(got, "req_") {
		t.Errorf("junk id kept: %q", got)
	}
}

func TestModelsEndpointsAndUnload(t *testing.T) {
	e := newEnv(t, envOptions{backend: servetest.ScriptBackend{Reply: "ok"}})
	e.addModel("org/B", "llama-q4", servetest.ChatTemplate)
	e.addModel("org/A", "llama-q4", servetest.ChatTemplate)
	v := e.do("GET", "/v1/models", nil).json(t)
	if get(t, v, "object") != "list" || get(t, v, "data", 0, "id") != "org/A" || get(t, v, "data", 1, "id") != "org/B" ||
		get(t, v, "data", 0, "owned_by") != "org" || get(t, v, "data", 0, "loaded") != false {
		t.Errorf("list %v", v)
	}
	e.do("POST", "/v1/chat/completions", chatBody("org/B", "hi", nil))
	v = e.do("GET", "/v1/models", nil).json(t)
	if get(t, v, "data", 0, "id") != "org/B" || get(t, v, "data", 0, "loaded") != true {
		t.Errorf("loaded model not first: %v", v)
	}
	if r := e.do("GET", "/v1/models/org/B", nil); r.status != 200 || get(t, r.json(t), "id") != "org/B" {
		t.Errorf("retrieve: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/v1/models/org/Z", nil); r.status != 404 {
		t.Errorf("retrieve missing: %d", r.status)
	}
	ps := e.do("GET", "/api/ps", nil).json(t)
	if get(t, ps, "models", 0, "model") != "org/B" || get(t, ps, "models", 0, "status") != "idle" {
		t.Errorf("ps %v", ps)
	}
	if r := e.do("DELETE", "/api/ps/org/B", nil); r.status != 200 || get(t, r.json(t), "status") != "unloaded" {
		t.Errorf("unload: %d %s", r.status, r.body)
	}
	if r := e.do("DELETE", "/api/ps/org/B", nil); r.status != 404 {
		t.Errorf("second unload: %d", r.status)
	}
	if got := e.do("GET", "/api/ps", nil).json(t)["models"].([]any); len(got) != 0 {
		t.Errorf("still loaded: %v", got)
	}
	// keep_alive 0 on a request unloads the model after it.
	e.do("POST", "/v1/chat/completions", chatBody("org/A", "hi", map[string]any{"keep_alive": 0}))
	if got := e.do("GET", "/api/ps", nil).json(t)["models"].([]any); len(got) != 0 {
		t.Errorf("keep_alive 0 left %v", got)
	}
	h := e.do("GET", "/health", nil)
	if h.status != 200 || get(t, h.json(t), "status") != "healthy" {
		t.Errorf("health %d %s", h.status, h.body)
	}
	e.srv.Drain()
	if r := e.do("POST", "/v1/chat/completions", chatBody("org/A", "hi", nil)); r.status != http.StatusServiceUnavailable ||
		get(t, r.json(t), "error", "code") != "server_shutdown" {
		t.Errorf("draining: %d %s", r.status, r.body)
	}
	if h := e.do("GET", "/health", nil); h.status != 503 || get(t, h.json(t), "status") != "shutting_down" {
		t.Errorf("health while draining: %d %s", h.status, h.body)
	}
}
