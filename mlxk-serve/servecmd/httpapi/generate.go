package httpapi

import (
	"context"
	"errors"
	"io"
	"maps"
	"math"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/constrain"
	"github.com/mlxk/mlxk/mlxk-serve/servecmd/models"
	"github.com/mlxk/mlxk/mlxk-serve/servecmd/openai"
	"github.com/mlxk/mlxk/mlxk-serve/servecmd/toolcall"
	"github.com/mlxk/mlxk/shared/engine"
	"github.com/mlxk/mlxk/shared/engine/reasoning"
	"github.com/mlxk/mlxk/shared/engine/sample"
	"github.com/mlxk/mlxk/shared/textgen"
)

// job is one generation, prepared by the chat or completions handler.
type job struct {
	req       *openai.Request
	m         *models.Model
	ids       []int32
	maxTokens int
	sampler   engine.TokenSampler
	logprobs  *logprobRecorder // nil unless logprobs were asked for
	// chat: split reasoning and tool calls out of the text.
	reasoning *reasoning.Parser
	tools     *toolcall.Parser
	harmony   *toolcall.Call     // a harmony tool call being received
	grammar   *constrain.Grammar // response_format: the JSON the answer must be
	gate      func(int32) bool   // holds the grammar off until reasoning ends
	callsSent int                // tool calls delivered (finish reason tool_calls when any)
	start     time.Time
	// choice is the job's index among the request's n choices; a seeded
	// request seeds choice i with seed+i, so the choices differ.
	choice int
	// end are tokens that end this job besides the model's EOS (a fill's).
	end []int32
}

// piece is what one step adds to the answer.
type piece struct {
	content, reasoning string
	calls              []toolcall.Call
	logprobs           []tokenLogprob
}

func (p *piece) empty() bool {
	return p.content == "" && p.reasoning == "" && len(p.calls) == 0 && len(p.logprobs) == 0
}

// tokenLogprob is a generated token's log-probability and alternatives.
type tokenLogprob struct {
	id      int32
	text    string
	logprob float64
	top     []sample.TokenLogprob
}

// sink receives the answer as it is generated.
type sink interface {
	piece(p piece) error
}

// readBody reads a request body within the size limit.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *openai.Error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, openai.Errorf(http.StatusRequestEntityTooLarge, openai.CodeRequestTooLarge, "",
				"the request body is larger than %d bytes", tooBig.Limit)
		}
		return nil, openai.Errorf(http.StatusBadRequest, openai.CodeInvalidJSON, "", "reading the request body: %v", err)
	}
	return b, nil
}

// decodeBody reads and decodes a request body; on failure it has answered
// and ok is false.
func decodeBody[T any](s *Server, w http.ResponseWriter, r *http.Request, decode func([]byte) (T, *openai.Error)) (v T, ok bool) {
	body, e := s.readBody(w, r)
	if e == nil {
		v, e = decode(body)
	}
	if e != nil {
		s.fail(w, r, e)
		return v, false
	}
	return v, true
}

// begin reads and decodes a request and acquires its model, refusing new
// work while draining. On failure it has answered; otherwise the caller
// releases the model.
func (s *Server) begin(w http.ResponseWriter, r *http.Request, decode func([]byte) (*openai.Request, *openai.Error)) (*openai.Request, *models.Model, bool) {
	req, ok := decodeBody(s, w, r, decode)
	if !ok {
		return nil, nil, false
	}
	m, ok := s.acquire(w, r, req.Model, models.Generate)
	if !ok {
		return nil, nil, false
	}
	return req, m, true
}

// acquire gets the request's model for use, refusing new work while
// draining; ok is false when it answered an error instead (or the client
// left). The caller releases the model.
func (s *Server) acquire(w http.ResponseWriter, r *http.Request, name string, use models.Purpose) (*models.Model, bool) {
	if s.state.Load() == stateDraining {
		s.fail(w, r, modelError(models.ErrClosed))
		return nil, false
	}
	m, err := s.reg.Acquire(r.Context(), name, use)
	if err != nil {
		if r.Context().Err() == nil { // a client that left needs no answer
			s.fail(w, r, modelError(err))
		}
		return nil, false
	}
	info(r).model = m.ID
	return m, true
}

// prepare finishes a job: limits and the sampler.
func (s *Server) prepare(j *job) *openai.Error {
	ctxLen := j.m.Text.ContextLength
	room := ctxLen - len(j.ids)
	if room <= 0 {
		return openai.Errorf(http.StatusBadRequest, openai.CodeContextExceeded, "messages",
			"the prompt has %d tokens; model %s has a context of %d", len(j.ids), j.m.ID, ctxLen)
	}
	j.maxTokens = room
	if s.cfg.MaxTokens > 0 {
		j.maxTokens = min(j.maxTokens, s.cfg.MaxTokens)
	}
	if j.req.MaxTokens > 0 {
		j.maxTokens = min(j.req.MaxTokens, room)
	}
	if e := checkVocab(j.m, "logit_bias", slices.Collect(maps.Keys(j.req.Params.LogitBias))); e != nil {
		return e
	}
	params := j.req.Params
	if params.Seed != nil && j.choice > 0 {
		seed := *params.Seed + uint64(j.choice)
		params.Seed = &seed
	}
	smp, err := sample.NewSampler(params)
	if err != nil {
		return openai.Errorf(http.StatusBadRequest, openai.CodeInvalidValue, "", "%v", err)
	}
	j.sampler = smp
	if j.grammar != nil {
		j.sampler = constrain.NewSampler(smp, j.m.Vocab(), j.grammar, j.m.Text.EOS, j.gate)
	}
	if j.req.Logprobs {
		j.logprobs = &logprobRecorder{sampler: j.sampler, smp: smp, top: j.req.TopLogprobs}
		j.sampler = j.logprobs
	}
	return nil
}

// outcome is how a generation ended.
type outcome struct {
	res      engine.Result
	err      error
	firstTok time.Duration // 0: no token
}

// run generates j into out. It returns the engine's result; err is the
// generation's error (the caller tells cancellations from failures).
func (s *Server) run(ctx context.Context, j *job, out sink) outcome {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.hardStop, cancel)
	defer stop()

	var o outcome
	tok := j.m.Text.Tok
	deliver := func(p piece) error {
		if p.empty() {
			return nil
		}
		if err := out.piece(p); err != nil {
			return clientGone{err}
		}
		return nil
	}
	emit := func(t engine.Token) error {
		var p piece
		if t.ID >= 0 {
			if o.firstTok == 0 {
				o.firstTok = time.Since(j.start)
			}
			if j.logprobs != nil {
				p.logprobs = append(p.logprobs, j.logprobs.next(t, tok.Decode([]int{int(t.ID)}, false)))
			}
		}
		j.split(&p, t.Text, false)
		return deliver(p)
	}
	engReq := j.m.Text.EngineRequest(textgen.Request{Prompt: j.ids, MaxTokens: j.maxTokens, Sampler: j.sampler, Stop: j.req.Stop, End: j.end,
		Lookahead: s.cfg.Lookahead})
	o.res, o.err = j.m.Batcher.Generate(ctx, engReq, emit)
	if o.err == nil {
		var p piece
		j.split(&p, "", true)
		o.err = deliver(p)
	}
	return o
}

// choiceBase is what every choice of a response shares with the others
// (id, creation time, model, stream) and its own job.
type choiceBase struct {
	id      string
	created int64
	model   string
	j       *job // its choice index among the request's is j.choice
	stream  *sse // nil: collect for one response; shared by the choices
}

// dialected is a choice whose stream is not framed as OpenAI's chat and
// text completions (see framing): Anthropic's Messages, OpenAI's
// Responses and ollama's answers.
type dialected interface {
	framing() framing
}

// ownErrorEvent is a dialected choice whose error event after the start
// is not its API's error body (errorBody): the Responses API's numbered
// "error" event.
type ownErrorEvent interface {
	errorEvent(e *openai.Error) []byte
}

// choice is one answer of a chat or text completion.
type choice interface {
	sink
	base() *choiceBase
}

// respond runs a request's choices together and answers: a stream (when
// asked for) that end finishes, or one JSON body that whole builds.
func respond[C choice](s *Server, w http.ResponseWriter, r *http.Request, endpoint string, choices []C,
	end func([]C, []string, []outcome), whole func([]C, []string, []outcome) any) {
	jobs := make([]*job, len(choices))
	sinks := make([]sink, len(choices))
	for i, c := range choices {
		jobs[i], sinks[i] = c.base().j, c
	}
	var stream *sse
	if jobs[0].req.Stream {
		stream = newSSE(w)
		if d, ok := any(choices[0]).(dialected); ok {
			stream.framing = d.framing()
		}
		if d, ok := any(choices[0]).(ownErrorEvent); ok {
			stream.errorEvent = d.errorEvent
		}
		defer stream.keepAlive(s.sseKeepAlive())()
		for _, c := range choices {
			c.base().stream = stream
		}
	}
	outs := s.runAll(r.Context(), jobs, sinks)
	finishes, ok := s.concludeAll(w, r, jobs, endpoint, outs, stream)
	switch {
	case !ok:
	case stream != nil:
		end(choices, finishes, outs)
	default:
		s.writeJSON(w, r, http.StatusOK, whole(choices, finishes, outs))
	}
}

// runAll runs the jobs of one request's choices together (the Batcher
// puts them in the same forward passes); when one fails the others stop.
func (s *Server) runAll(ctx context.Context, jobs []*job, sinks []sink) []outcome {
	if len(jobs) == 1 {
		return []outcome{s.run(ctx, jobs[0], sinks[0])}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	outs := make([]outcome, len(jobs))
	var wg sync.WaitGroup
	for i := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i] = s.run(ctx, jobs[i], sinks[i])
			if outs[i].err != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	return outs
}

// concludeAll books the choices' generations and answers the first
// failure, if any (a choice stopped because another failed is not one);
// otherwise it returns each choice's finish reason.
func (s *Server) concludeAll(w http.ResponseWriter, r *http.Request, jobs []*job, endpoint string, outs []outcome, stream *sse) ([]string, bool) {
	failed := -1
	for pass := 0; pass < 2 && failed < 0; pass++ {
		for i, o := range outs {
			if o.err != nil && (pass == 1 || !errors.Is(o.err, context.Canceled)) {
				failed = i
				break
			}
		}
	}
	if failed >= 0 {
		for i := range outs {
			if i != failed {
				s.record(r, jobs[i], endpoint, outs[i], "cancelled")
			}
		}
		s.conclude(w, r, jobs[failed], endpoint, outs[failed], stream)
		return nil, false
	}
	finishes := make([]string, len(outs))
	for i := range outs {
		finishes[i], _ = s.conclude(w, r, jobs[i], endpoint, outs[i], stream)
	}
	if len(outs) > 1 {
		info(r).completionTokens = usageAll(outs).CompletionTokens
	}
	return finishes, true
}

// clientGone wraps a failed write to the client: the connection is gone,
// so the generation ends as cancelled, not as a failure.
type clientGone struct{ err error }

func (c clientGone) Error() string { return "writing to the client: " + c.err.Error() }
func (c clientGone) Unwrap() error { return c.err }

// split runs text through the reasoning and tool-call parsers into p;
// final flushes them.
func (j *job) split(p *piece, text string, final bool) {
	if j.reasoning == nil {
		p.content += text
		return
	}
	var segs []reasoning.Segment
	if final {
		segs = j.reasoning.Flush()
	} else {
		segs = j.reasoning.Push(text)
	}
	answer := func(t string, flush bool) {
		if j.tools == nil {
			p.content += t
			return
		}
		var c string
		var calls []toolcall.Call
		if flush {
			c, calls = j.tools.Flush()
		} else {
			c, calls = j.tools.Push(t)
		}
		p.content += c
		p.calls = append(p.calls, calls...)
	}
	for _, seg := range segs {
		switch seg.Kind {
		case reasoning.Reasoning:
			p.reasoning += seg.Text
		case reasoning.ToolCall:
			if len(j.req.Tools) == 0 {
				answer(seg.Text, false)
				break
			}
			// harmony: a message to functions.NAME, streamed in pieces.
			if j.harmony != nil && j.harmony.Name != harmonyFunction(seg.Recipient) {
				p.calls = append(p.calls, *j.harmony)
				j.harmony = nil
			}
			if j.harmony == nil {
				j.harmony = &toolcall.Call{Name: harmonyFunction(seg.Recipient)}
			}
			j.harmony.Arguments += seg.Text
		default:
			answer(seg.Text, false)
		}
		if seg.Kind != reasoning.ToolCall && j.harmony != nil {
			p.calls = append(p.calls, *j.harmony)
			j.harmony = nil
		}
	}
	if final {
		answer("", true)
		if j.harmony != nil {
			p.calls = append(p.calls, *j.harmony)
			j.harmony = nil
		}
	}
	if !j.req.ParallelToolCalls {
		// One call per answer: later ones are dropped.
		p.calls = p.calls[:min(len(p.calls), max(0, 1-j.callsSent))]
	}
	j.callsSent += len(p.calls)
}

func harmonyFunction(recipient string) string {
	const prefix = "functions."
	if len(recipient) > len(prefix) && recipient[:len(prefix)] == prefix {
		return recipient[len(prefix):]
	}
	return recipient
}

// record books a finished generation into the metrics and the log.
func (s *Server) record(r *http.Request, j *job, endpoint string, o outcome, finish string) {
	ri := info(r)
	res := o.res
	ri.promptTokens, ri.cachedTokens, ri.completionTokens, ri.finish = res.PromptTokens, res.CachedTokens, res.GeneratedTokens, finish
	id := j.m.ID
	s.met.generations.Inc(id, endpoint, finish)
	s.met.promptTokens.Add(float64(res.PromptTokens), id)
	s.met.cachedTokens.Add(float64(res.CachedTokens), id)
	s.met.completionTokens.Add(float64(res.GeneratedTokens), id)
	if res.DraftTokens > 0 {
		s.met.draftTokens.Add(float64(res.DraftTokens), id)
		s.met.acceptedDrafts.Add(float64(res.AcceptedTokens), id)
	}
	if o.firstTok > 0 {
		s.met.firstTokenSeconds.Observe(o.firstTok.Seconds(), id)
		s.met.generationSeconds.Observe(time.Since(j.start).Seconds(), id)
	}
	if res.GeneratedTokens > 1 && res.Decode > 0 {
		s.met.perTokenSeconds.Observe(res.Decode.Seconds()/float64(res.GeneratedTokens), id)
	}
}

// conclude books a finished generation and answers its error (as a JSON
// error, or an error event on a started stream). It returns the finish
// reason, or ok false when there is nothing more to send.
func (s *Server) conclude(w http.ResponseWriter, r *http.Request, j *job, endpoint string, o outcome, stream *sse) (finish string, ok bool) {
	if o.err != nil {
		e, outcome := s.generationError(r, j, o.err)
		s.record(r, j, endpoint, o, outcome)
		switch {
		case e == nil:
		case stream != nil:
			stream.fail(s, r, e)
		default:
			s.fail(w, r, e)
		}
		return "", false
	}
	finish = finishReason(j, o)
	s.record(r, j, endpoint, o, finish)
	return finish, true
}

// finishReason is the OpenAI finish reason of a generation.
func finishReason(j *job, o outcome) string {
	if j.callsSent > 0 {
		return openai.FinishToolCalls
	}
	if o.res.FinishReason == "" {
		return engine.FinishStop
	}
	return o.res.FinishReason
}

// generationError classifies a failed generation: nil when the client
// went away (nothing to answer), otherwise the error to send.
func (s *Server) generationError(r *http.Request, j *job, err error) (*openai.Error, string) {
	switch {
	case errors.Is(err, engine.ErrQueueFull):
		s.met.queueRejections.Inc(j.m.ID)
		e := openai.Errorf(http.StatusTooManyRequests, openai.CodeQueueFull, "",
			"model %s is busy: its request queue is full; retry shortly", j.m.ID)
		e.RetryAfter = 1
		return e, "rejected"
	case errors.Is(err, engine.ErrClosed) || s.hardStop.Err() != nil:
		return modelError(models.ErrClosed), "shutdown"
	case r.Context().Err() != nil || errors.As(err, new(clientGone)):
		return nil, "cancelled"
	}
	s.log.Error("generation failed", "request_id", info(r).id, "model", j.m.ID, "error", err)
	return openai.Errorf(http.StatusInternalServerError, openai.CodeInternal, "", "generation failed: %v", err), "error"
}

// usageAll is the usage of a request's choices: the prompt once, the
// completions of all.
func usageAll(outs []outcome) *openai.Usage {
	u := usage(outs[0].res)
	for _, o := range outs[1:] {
		u.CompletionTokens += o.res.GeneratedTokens
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return u
}

// usage builds the usage object of a finished generation.
func usage(res engine.Result) *openai.Usage {
	return &openai.Usage{PromptTokens: res.PromptTokens, CompletionTokens: res.GeneratedTokens,
		TotalTokens:         res.PromptTokens + res.GeneratedTokens,
		PromptTokensDetails: openai.PromptTokensDetails{CachedTokens: res.CachedTokens}}
}

// logprobRecorder wraps the sampler to keep each draw's top alternatives,
// which the sampler only holds until its next draw. The engine samples
// in its own goroutine and emits in the caller's, in the same order, so a
// queue pairs them up.
type logprobRecorder struct {
	sampler engine.TokenSampler // what draws the token
	smp     *sample.Sampler     // whose last draw has the alternatives
	top     int
	mu      sync.Mutex
	queue   [][]sample.TokenLogprob
}

// Sample implements engine.TokenSampler.
func (l *logprobRecorder) Sample(logits []float32, history []int32) (int32, float32, error) {
	id, lp, err := l.sampler.Sample(logits, history)
	if err == nil {
		tops := l.smp.TopLogprobs(nil, l.top)
		l.mu.Lock()
		l.queue = append(l.queue, tops)
		l.mu.Unlock()
	}
	return id, lp, err
}

func (l *logprobRecorder) next(t engine.Token, text string) tokenLogprob {
	l.mu.Lock()
	var tops []sample.TokenLogprob
	if len(l.queue) > 0 {
		tops, l.queue = l.queue[0], l.queue[1:]
	}
	l.mu.Unlock()
	return tokenLogprob{id: t.ID, text: text, logprob: finiteLogprob(t.Logprob), top: tops}
}

// finiteLogprob keeps JSON encodable values: -Inf (a banned token) is
// reported as -9999, as OpenAI does.
func finiteLogprob(v float32) float64 {
	f := float64(v)
	if math.IsInf(f, -1) || math.IsNaN(f) || f < -9999 {
		return -9999
	}
	return f
}
