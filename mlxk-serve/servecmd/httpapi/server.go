// Package httpapi is mlxk-serve's HTTP surface: the OpenAI-compatible
// endpoints (/v1/models, /v1/chat/completions, /v1/completions), health,
// loaded models (/api/ps), Prometheus metrics, and the middleware around
// them (request ids, API keys, CORS, body limits, access logs).
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/julienschmidt/httprouter"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/metrics"
	"github.com/mlxk/mlxk/mlxk-serve/servecmd/models"
	"github.com/mlxk/mlxk/mlxk-serve/servecmd/openai"
)

// DefaultMaxBody bounds request bodies (long conversations fit easily).
const DefaultMaxBody = 16 << 20

// Config sets up a Server.
type Config struct {
	Registry *models.Registry
	Log      *slog.Logger
	Now      func() time.Time
	// APIKeys, when not empty, are the bearer tokens every endpoint but
	// /health requires.
	APIKeys []string
	// CORSOrigins are the browser origins allowed to call the API; "*"
	// allows any. Empty: no CORS headers at all.
	CORSOrigins []string
	// MaxTokens is the default generation limit (0: the rest of the
	// model's context).
	MaxTokens int
	// Lookahead drafts up to this many prompt-lookup tokens for a request
	// decoding alone (engine.Request.Lookahead; 0: off).
	Lookahead int
	// MaxBody bounds request bodies in bytes (0: DefaultMaxBody).
	MaxBody int64
	// SSEKeepAlive is how long a stream may stay silent before a
	// keep-alive comment goes out (0: DefaultSSEKeepAlive; negative: never).
	SSEKeepAlive time.Duration
	Version      string
}

// Server state for /health.
const (
	stateStarting int32 = iota // the --model preload is loading
	stateReady
	stateDraining // shutdown began: no new generations
)

// Server serves the API.
type Server struct {
	cfg     Config
	reg     *models.Registry
	log     *slog.Logger
	metrics *metrics.Registry
	met     serverMetrics

	state   atomic.Int32
	preload atomic.Value // string: the model being preloaded

	// hardStop ends every running generation when the shutdown grace
	// period is over.
	hardStop context.Context
	abort    context.CancelFunc
}

// New returns a server that is ready unless SetLoading is called.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	s := &Server{cfg: cfg, reg: cfg.Registry, log: cfg.Log, metrics: &metrics.Registry{}}
	s.hardStop, s.abort = context.WithCancel(context.Background())
	s.state.Store(stateReady)
	s.met = newServerMetrics(s.metrics, s)
	return s
}

// SetLoading marks the server as loading model (health answers 503).
func (s *Server) SetLoading(model string) {
	s.preload.Store(model)
	s.state.Store(stateStarting)
}

// SetReady marks the preload as done.
func (s *Server) SetReady() { s.state.CompareAndSwap(stateStarting, stateReady) }

// Drain starts the shutdown: /health answers 503 and new generation
// requests are refused; running ones continue.
func (s *Server) Drain() { s.state.Store(stateDraining) }

// Abort ends the running generations: their streams get an error event
// and [DONE], and their handlers return.
func (s *Server) Abort() { s.abort() }

// Metrics exposes the metric registry (for tests and embedding).
func (s *Server) Metrics() *metrics.Registry { return s.metrics }

// Handler is the whole API with its middleware.
func (s *Server) Handler() http.Handler {
	r := httprouter.New()
	r.RedirectTrailingSlash = false
	r.HandleMethodNotAllowed = true
	r.HandleOPTIONS = true
	r.GlobalOPTIONS = http.HandlerFunc(s.preflight)
	r.NotFound = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		s.fail(w, req, openai.Errorf(http.StatusNotFound, openai.CodeNotFound, "", "no route %s %s", req.Method, req.URL.Path))
	})
	r.MethodNotAllowed = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		s.fail(w, req, openai.Errorf(http.StatusMethodNotAllowed, openai.CodeMethodNotAllowed, "", "%s is not allowed on %s", req.Method, req.URL.Path))
	})
	route := func(method, path string, h http.HandlerFunc) {
		r.Handler(method, path, s.named(path, h))
	}
	route(http.MethodGet, "/health", s.health)
	route(http.MethodHead, "/health", s.health)
	route(http.MethodGet, "/v1/models", s.listModels)
	route(http.MethodGet, "/v1/models/*model", s.getModel)
	route(http.MethodPost, "/v1/chat/completions", s.chat)
	route(http.MethodPost, "/v1/completions", s.completions)
	route(http.MethodPost, "/v1/responses", s.responses)
	route(http.MethodPost, "/v1/embeddings", s.embeddings)
	route(http.MethodPost, "/v1/messages", s.messages)
	route(http.MethodPost, "/v1/messages/count_tokens", s.countTokens)
	route(http.MethodPost, "/api/chat", s.ollamaChat)
	route(http.MethodPost, "/api/generate", s.ollamaGenerate)
	route(http.MethodPost, "/api/embed", s.ollamaEmbed)
	route(http.MethodPost, "/api/embeddings", s.ollamaEmbed)
	route(http.MethodGet, "/api/tags", s.ollamaTags)
	route(http.MethodPost, "/api/show", s.ollamaShow)
	route(http.MethodGet, "/api/version", s.ollamaVersion)
	route(http.MethodGet, "/api/ps", s.ps)
	route(http.MethodDelete, "/api/ps/*model", s.unload)
	route(http.MethodGet, "/metrics", s.serveMetrics)
	return s.middleware(r)
}

// newID returns prefix plus 24 random hex digits.
func newID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported systems
	return prefix + hex.EncodeToString(b[:])
}
