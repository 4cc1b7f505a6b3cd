package httpapi

import (
	"net/http"
	"time"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/metrics"
	"github.com/mlxk/mlxk/mlxk-serve/servecmd/models"
)

// Bucket bounds in seconds.
var (
	latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}
	tokenBuckets   = []float64{0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1}
	loadBuckets    = []float64{0.1, 0.5, 1, 2, 5, 10, 30, 60, 120}
)

// serverMetrics are the series the server records.
type serverMetrics struct {
	requests          metrics.Counter   // method, route, status
	requestSeconds    metrics.Histogram // route
	generations       metrics.Counter   // model, endpoint, outcome
	promptTokens      metrics.Counter   // model
	cachedTokens      metrics.Counter   // model
	completionTokens  metrics.Counter   // model
	draftTokens       metrics.Counter   // model
	acceptedDrafts    metrics.Counter   // model
	queueRejections   metrics.Counter   // model
	firstTokenSeconds metrics.Histogram // model
	perTokenSeconds   metrics.Histogram // model
	generationSeconds metrics.Histogram // model
	loadSeconds       metrics.Histogram // model
	loadFailures      metrics.Counter   // model
}

func newServerMetrics(r *metrics.Registry, s *Server) serverMetrics {
	m := serverMetrics{
		requests: r.NewCounter("mlxk_http_requests_total", "HTTP requests by method, route and status.",
			"method", "route", "status"),
		requestSeconds: r.NewHistogram("mlxk_http_request_duration_seconds", "HTTP request latency (whole response, streams included).",
			latencyBuckets, "route"),
		generations: r.NewCounter("mlxk_generations_total", "Finished generations by outcome (stop, length, tool_calls, cancelled, error, shutdown).",
			"model", "endpoint", "outcome"),
		promptTokens:     r.NewCounter("mlxk_prompt_tokens_total", "Prompt tokens processed, cached ones included.", "model"),
		cachedTokens:     r.NewCounter("mlxk_prompt_cached_tokens_total", "Prompt tokens served from the prefix cache.", "model"),
		completionTokens: r.NewCounter("mlxk_completion_tokens_total", "Tokens generated.", "model"),
		draftTokens:      r.NewCounter("mlxk_draft_tokens_total", "Prompt-lookup draft tokens fed with a decode step (--lookahead).", "model"),
		acceptedDrafts: r.NewCounter("mlxk_draft_tokens_accepted_total",
			"Draft tokens the sampler picked itself, each a forward pass saved.", "model"),
		queueRejections: r.NewCounter("mlxk_queue_rejections_total", "Requests refused with 429 because the model's queue was full.", "model"),
		firstTokenSeconds: r.NewHistogram("mlxk_time_to_first_token_seconds", "Time from request arrival to the first generated token.",
			latencyBuckets, "model"),
		perTokenSeconds: r.NewHistogram("mlxk_time_per_output_token_seconds", "Mean decode time per generated token, per request.",
			tokenBuckets, "model"),
		generationSeconds: r.NewHistogram("mlxk_generation_duration_seconds", "Time from request arrival to the last token.",
			latencyBuckets, "model"),
		loadSeconds:  r.NewHistogram("mlxk_model_load_duration_seconds", "Model load time.", loadBuckets, "model"),
		loadFailures: r.NewCounter("mlxk_model_load_failures_total", "Model loads that failed.", "model"),
	}
	r.NewGaugeFunc("mlxk_models_loaded", "Models resident (loading ones included).", nil, func() []metrics.Sample {
		return []metrics.Sample{{Value: float64(len(s.reg.Loaded()))}}
	})
	perModel := func(f func(st models.Status) float64) func() []metrics.Sample {
		return func() []metrics.Sample {
			var out []metrics.Sample
			for _, st := range s.reg.Loaded() {
				out = append(out, metrics.Sample{Labels: []string{st.ID}, Value: f(st)})
			}
			return out
		}
	}
	r.NewGaugeFunc("mlxk_requests_running", "Sequences being generated in the model's batch.", []string{"model"},
		perModel(func(st models.Status) float64 { return float64(st.Batch.Active) }))
	r.NewGaugeFunc("mlxk_queue_depth", "Requests waiting for a batch slot.", []string{"model"},
		perModel(func(st models.Status) float64 { return float64(st.Batch.Queued) }))
	r.NewGaugeFunc("mlxk_model_memory_bytes", "Estimated memory of a loaded model (weights and one context of up to 8192 tokens).", []string{"model"},
		perModel(func(st models.Status) float64 { return float64(st.MemoryBytes) }))
	r.NewGaugeFunc("mlxk_prompt_cache_entries", "Finished sequences kept for prefix reuse.", []string{"model"},
		perModel(func(st models.Status) float64 { return float64(st.Batch.PromptCacheEntries) }))
	r.NewGaugeFunc("mlxk_prompt_cache_bytes", "Memory of the prefix cache.", []string{"model"},
		perModel(func(st models.Status) float64 { return float64(st.Batch.PromptCacheBytes) }))
	start := float64(time.Now().UnixNano()) / 1e9
	r.NewGaugeFunc("process_start_time_seconds", "Start time of the process since the Unix epoch.", nil,
		func() []metrics.Sample { return []metrics.Sample{{Value: start}} })
	r.NewGaugeFunc("mlxk_build_info", "Version of mlxk-serve (value 1).", []string{"version"},
		func() []metrics.Sample { return []metrics.Sample{{Labels: []string{s.cfg.Version}, Value: 1}} })
	return m
}

// OnLoad records a model load (models.Config.OnLoad).
func (s *Server) OnLoad(id string, took time.Duration, err error) {
	s.met.loadSeconds.Observe(took.Seconds(), id)
	if err != nil {
		s.met.loadFailures.Inc(id)
	}
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", metrics.ContentType)
	if err := s.metrics.WriteText(w); err != nil {
		s.log.Debug("write metrics", "error", err)
	}
}
