package httpapi

import (
	"context"
	"crypto/subtle"
	"fmt"
	"github.com/mlxk/mlxk/shared/httprec"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/openai"
)

// reqInfo is what the middleware and the handler tell each other about
// one request, for the access log and the metrics.
type reqInfo struct {
	id    string
	route string
	model string
	// anthropic: an Anthropic Messages API route, whose errors take
	// Anthropic's shape; ollama: one of ollama's, errors {"error": ...}.
	anthropic, ollama bool
	// Generation figures, when the request generated.
	promptTokens, completionTokens, cachedTokens int
	finish                                       string
}

type ctxKey struct{}

func info(r *http.Request) *reqInfo {
	if ri, ok := r.Context().Value(ctxKey{}).(*reqInfo); ok {
		return ri
	}
	return &reqInfo{}
}

// inboundID accepts a caller's X-Request-ID when it is a plain token, so
// ids stay traceable through proxies; anything else is replaced.
var inboundID = regexp.MustCompile(`^[A-Za-z0-9._:-]{8,128}$`)

// middleware wraps the router: request id, panic recovery, CORS, API
// key, then the access log and request metrics once the handler is done.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &reqInfo{id: r.Header.Get("X-Request-ID"), route: "other", anthropic: anthropicRoute(r), ollama: ollamaRoute(r)}
		if !inboundID.MatchString(ri.id) {
			ri.id = newID("req_")
		}
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, ri))
		sw := &httprec.Writer{ResponseWriter: w}
		sw.Header().Set("X-Request-ID", ri.id)
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic in handler", "request_id", ri.id, "path", r.URL.Path, "panic", fmt.Sprint(p))
				if sw.Status == 0 {
					s.fail(sw, r, openai.Errorf(http.StatusInternalServerError, openai.CodeInternal, "", "internal error"))
				}
			}
			s.finishRequest(r, sw, ri, time.Since(start))
		}()
		s.cors(sw, r)
		if !s.authorized(r) && r.Method != http.MethodOptions && r.URL.Path != "/health" {
			sw.Header().Set("WWW-Authenticate", `Bearer realm="mlxk-serve"`)
			s.fail(sw, r, openai.Errorf(http.StatusUnauthorized, openai.CodeInvalidAPIKey, "",
				"missing or invalid API key: send Authorization: Bearer <key> (or x-api-key: <key>)"))
			return
		}
		next.ServeHTTP(sw, r)
	})
}

// anthropicRoute reports whether r is for Anthropic's API: the Messages
// routes, and the models routes when asked by an Anthropic client (which
// sends anthropic-version on every request).
func anthropicRoute(r *http.Request) bool {
	p := r.URL.Path
	return strings.HasPrefix(p, "/v1/messages") ||
		strings.HasPrefix(p, "/v1/models") && r.Header.Get("Anthropic-Version") != ""
}

// ollamaRoute reports whether r is for ollama's native API (not /api/ps,
// this server's own view of loaded models).
func ollamaRoute(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") && !strings.HasPrefix(r.URL.Path, "/api/ps")
}

// named labels a route for metrics and logs (the pattern, not the path,
// so that model names do not explode the label set).
func (s *Server) named(route string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info(r).route = route
		h(w, r)
	})
}

func (s *Server) finishRequest(r *http.Request, w *httprec.Writer, ri *reqInfo, took time.Duration) {
	status := w.Status
	if status == 0 {
		status = http.StatusOK
	}
	s.met.requests.Inc(r.Method, ri.route, strconv.Itoa(status))
	s.met.requestSeconds.Observe(took.Seconds(), ri.route)
	attrs := []any{"request_id", ri.id, "method", r.Method, "path", r.URL.Path, "status", status,
		"duration_ms", took.Milliseconds()}
	if ri.model != "" {
		attrs = append(attrs, "model", ri.model)
	}
	if ri.finish != "" {
		attrs = append(attrs, "prompt_tokens", ri.promptTokens, "cached_tokens", ri.cachedTokens,
			"completion_tokens", ri.completionTokens, "finish_reason", ri.finish)
	}
	level := slog.LevelInfo
	if ri.route == "/health" || ri.route == "/metrics" {
		level = slog.LevelDebug // probes every few seconds would drown the log
	}
	s.log.Log(r.Context(), level, "request", attrs...)
}

// authorized checks the bearer token (or the x-api-key header Anthropic's
// clients send) against the configured keys in constant time.
func (s *Server) authorized(r *http.Request) bool {
	if len(s.cfg.APIKeys) == 0 {
		return true
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		tok = r.Header.Get("X-Api-Key")
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return false
	}
	match := 0
	for _, k := range s.cfg.APIKeys {
		match |= subtle.ConstantTimeCompare([]byte(tok), []byte(k))
	}
	return match == 1
}

// allowedOrigin returns the Access-Control-Allow-Origin value for the
// request's Origin, or "" when it is not allowed.
func (s *Server) allowedOrigin(r *http.Request) string {
	origin := r.Header.Get("Origin")
	if origin == "" || len(s.cfg.CORSOrigins) == 0 {
		return ""
	}
	if slices.Contains(s.cfg.CORSOrigins, "*") {
		return "*"
	}
	if slices.Contains(s.cfg.CORSOrigins, origin) {
		return origin
	}
	return ""
}

func (s *Server) cors(w http.ResponseWriter, r *http.Request) {
	allow := s.allowedOrigin(r)
	if allow == "" {
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", allow)
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Expose-Headers", "X-Request-ID, Retry-After")
}

// preflight answers CORS OPTIONS requests (no API key needed: browsers
// do not send credentials on preflights).
func (s *Server) preflight(w http.ResponseWriter, r *http.Request) {
	if s.allowedOrigin(r) != "" && r.Header.Get("Access-Control-Request-Method") != "" {
		h := w.Header()
		h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			h.Set("Access-Control-Allow-Headers", req)
		} else {
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Api-Key, Anthropic-Version")
		}
		h.Set("Access-Control-Max-Age", "600")
	}
	w.WriteHeader(http.StatusNoContent)
}

// fail writes an error response in the shape of the request's API.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, e *openai.Error) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	writeJSONBytes(w, e.Status, errorBody(info(r), e))
}

// errorBody is e in the shape of the request's API: Anthropic's on its
// routes, ollama's {"error": message} on ollama's, else OpenAI's. Streams
// that fail after their start send the same body as their error event.
func errorBody(ri *reqInfo, e *openai.Error) []byte {
	switch {
	case ri.anthropic:
		return e.AnthropicBody(ri.id)
	case ri.ollama:
		b, _ := openai.Marshal(map[string]string{"error": e.Message})
		return b
	}
	return e.Body(ri.id)
}

// writeJSON writes v with status.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := openai.Marshal(v)
	if err != nil {
		s.log.Error("encode response", "request_id", info(r).id, "error", err)
		s.fail(w, r, openai.Errorf(http.StatusInternalServerError, openai.CodeInternal, "", "internal error: %v", err))
		return
	}
	writeJSONBytes(w, status, b)
}

func writeJSONBytes(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
