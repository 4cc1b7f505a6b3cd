package live

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// errJSONL marks output of run --jsonl the suite could not read.
var errJSONL = errors.New("run --jsonl output")

// Options tune the suite.
type Options struct {
	// Mode is "smoke" or "live" (recorded in the report).
	Mode string
	// Prompt is the user message of the chat tests; CompletionPrompt the
	// raw text of /v1/completions.
	Prompt           string
	CompletionPrompt string
	// MaxTokens bounds every generation.
	MaxTokens int
	// CopyLimit is the largest weight file health_damage copies.
	CopyLimit int64
	// Scratch is where test caches are made (default: the system's).
	Scratch string
	// CommandTimeout bounds each mlxk command.
	CommandTimeout time.Duration
	Server         ServerTimeouts
	// ServerSkip, when set, skips the server tests with this reason.
	ServerSkip string
	// Lock is the file whose flock makes live runs exclusive across
	// processes ("" = none).
	Lock string
}

// DefaultOptions are small enough for the smoke run on a shared CI
// machine and meaningful on a real model.
func DefaultOptions() Options {
	return Options{
		Mode:             "live",
		Prompt:           SmokePrompt, // the multi-EOS smoke model's end tokens come from its answer to it
		CompletionPrompt: "Once upon a time",
		MaxTokens:        16,
		CopyLimit:        256 << 20,
		CommandTimeout:   10 * time.Minute,
		Server:           ServerTimeouts{Start: 10 * time.Minute, Stop: 45 * time.Second},
		Lock:             filepath.Join(os.TempDir(), "mlxk-live.lock"),
	}
}

// Suite runs the live tests over a portfolio, one model at a time.
type Suite struct {
	// Tool runs mlxk against the cache under test (its HF_HOME).
	Tool Tool
	// Source is that cache's HF_HOME.
	Source  string
	Opts    Options
	Report  *ReportWriter
	Machine Machine
	RunID   string
	// Progress, when set, gets one line per test as it ends.
	Progress io.Writer
}

// Summary counts the records of a run.
type Summary struct {
	Pass, Fail, Skip int
	// Failures are "model test: reason" lines.
	Failures []string
}

// Discover runs `mlxk list --jsonl` on the cache under test: the
// portfolio comes from the production command, not from a second reading
// of the cache.
func Discover(ctx context.Context, t Tool) ([]Model, error) {
	r, err := t.Run(ctx, "list", "--jsonl")
	if err != nil {
		return nil, err
	}
	if r.ExitCode != 0 {
		return nil, fmt.Errorf("%w: %s", ErrListing, r.Describe())
	}
	return ParseList(bytes.NewReader(r.Stdout))
}

// Run tests every entry the plan runs, strictly one after the other, and
// writes a portfolio record for every entry it skips.
func (s *Suite) Run(ctx context.Context, entries []Entry) (Summary, error) {
	var sum Summary
	if s.Opts.Lock != "" {
		unlock, err := lockExclusive(ctx, s.Opts.Lock)
		if err != nil {
			return sum, err
		}
		defer unlock()
	}
	for _, e := range entries {
		if !e.Run {
			rec := s.record(e, ModelInfo{}, TestPortfolio)
			rec.Status, rec.Reason = StatusSkip, &e.Reason
			if err := s.emit(&sum, rec); err != nil {
				return sum, err
			}
		}
	}
	for _, e := range entries {
		if !e.Run {
			continue
		}
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		for _, rec := range s.model(ctx, e) {
			if err := s.emit(&sum, rec); err != nil {
				return sum, err
			}
		}
	}
	return sum, nil
}

func (s *Suite) emit(sum *Summary, rec Record) error {
	rec.Time = time.Now().UTC().Format(time.RFC3339)
	switch rec.Status {
	case StatusPass:
		sum.Pass++
	case StatusFail:
		sum.Fail++
		sum.Failures = append(sum.Failures, fmt.Sprintf("%s %s: %s", rec.Model.Name, rec.Test, strings.Join(rec.Failures, "; ")))
	default:
		sum.Skip++
	}
	if s.Progress != nil {
		line := fmt.Sprintf("%-4s %-40s %-17s", rec.Status, rec.Model.Name, rec.Test)
		if rec.Reason != nil {
			line += " " + *rec.Reason
		}
		fmt.Fprintln(s.Progress, strings.TrimRight(line, " "))
	}
	if s.Report == nil {
		return nil
	}
	return s.Report.Write(rec)
}

func (s *Suite) record(e Entry, info ModelInfo, test string) Record {
	if info.Name == "" {
		info = ModelInfo{Name: e.Name, Hash: e.Hash, Family: Family(e.Name, ""), SizeBytes: max(e.SizeBytes, 0), RAMNeededBytes: e.Need}
	}
	return Record{SchemaVersion: ReportSchemaVersion, RunID: s.RunID, Mode: s.Opts.Mode, Machine: s.Machine,
		Model: info, Test: test, Status: StatusPass, Failures: []string{}, Findings: []string{}}
}

// check collects the failed checks of one test.
type check struct{ failures []string }

func (c *check) failf(format string, args ...any) {
	c.failures = append(c.failures, fmt.Sprintf(format, args...))
}

// finish sets the record's status from the failures.
func (c *check) finish(rec *Record) {
	if len(c.failures) > 0 {
		rec.Status = StatusFail
		rec.Failures = c.failures
		rec.Reason = &c.failures[0]
	}
}

func skip(rec Record, reason string) Record {
	rec.Status, rec.Reason = StatusSkip, &reason
	return rec
}

// runAnswer is what run --json reported, for the later comparisons.
type runAnswer struct {
	ok        bool
	response  string
	reasoning *string
	stops     []string
}

// model runs every test of one model and returns their records.
func (s *Suite) model(ctx context.Context, e Entry) []Record {
	info := s.describe(ctx, e)
	var recs []Record
	ra, rec := s.runJSON(ctx, e, info)
	recs = append(recs, rec, s.runText(ctx, e, info, ra), s.runStream(ctx, e, info, ra))
	recs = append(recs, s.server(ctx, e, info, ra)...)
	recs = append(recs, s.healthVerify(ctx, e, info), s.healthDamage(ctx, e, info))
	return recs
}

// describe asks `mlxk show` for the architecture and quantization.
func (s *Suite) describe(ctx context.Context, e Entry) ModelInfo {
	info := ModelInfo{Name: e.Name, Hash: e.Hash, SizeBytes: max(e.SizeBytes, 0), RAMNeededBytes: e.Need}
	r, err := s.run(ctx, "show", e.Name, "--json")
	if err == nil && r.ExitCode == 0 {
		var env struct {
			Data struct {
				Metadata struct {
					ModelType    string `json:"model_type"`
					Quantization string `json:"quantization"`
				} `json:"metadata"`
			} `json:"data"`
		}
		if json.Unmarshal(r.Stdout, &env) == nil {
			info.Architecture = env.Data.Metadata.ModelType
			info.Quantization = env.Data.Metadata.Quantization
		}
	}
	if info.Quantization == "" {
		// A float model: its dtype is the "quantization" to report.
		if r, err := s.run(ctx, "show", e.Name, "--config", "--json"); err == nil && r.ExitCode == 0 {
			var env struct {
				Data struct {
					Config struct {
						TorchDType string `json:"torch_dtype"`
						DType      string `json:"dtype"`
					} `json:"config"`
				} `json:"data"`
			}
			if json.Unmarshal(r.Stdout, &env) == nil {
				info.Quantization = env.Data.Config.TorchDType
				if info.Quantization == "" {
					info.Quantization = env.Data.Config.DType
				}
			}
		}
	}
	info.Family = Family(e.Name, info.Architecture)
	info.ParameterSize = ParameterSize(e.Name, info.Quantization, e.SizeBytes)
	return info
}

func (s *Suite) run(ctx context.Context, args ...string) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, s.Opts.CommandTimeout)
	defer cancel()
	return s.Tool.Run(ctx, args...)
}

func (s *Suite) genArgs(e Entry, extra ...string) []string {
	args := []string{"run", e.Name, s.Opts.Prompt, "--temperature", "0", "--max-tokens", fmt.Sprint(s.Opts.MaxTokens)}
	return append(args, extra...)
}

// runData is the data of `mlxk run --json`.
type runData struct {
	Response     string  `json:"response"`
	Reasoning    *string `json:"reasoning"`
	FinishReason string  `json:"finish_reason"`
	Usage        struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
	Timings struct {
		LoadS             float64 `json:"load_s"`
		PrefillS          float64 `json:"prefill_s"`
		PrefillTokensPerS float64 `json:"prefill_tokens_per_s"`
		DecodeTokensPerS  float64 `json:"decode_tokens_per_s"`
	} `json:"timings"`
}

func decodeRunEnvelope(b []byte) (runData, error) {
	var env struct {
		Status string          `json:"status"`
		Data   *runData        `json:"data"`
		Error  json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(b), &env); err != nil {
		return runData{}, fmt.Errorf("not one JSON envelope: %v", err)
	}
	if env.Status != "success" || env.Data == nil {
		return runData{}, fmt.Errorf("status %q, error %s", env.Status, env.Error)
	}
	return *env.Data, nil
}

// runJSON: mlxk run --json --verbose, the reference answer of the model.
func (s *Suite) runJSON(ctx context.Context, e Entry, info ModelInfo) (ra runAnswer, rec Record) {
	rec = s.record(e, info, TestRunJSON)
	var c check
	defer c.finish(&rec)
	r, err := s.run(ctx, s.genArgs(e, "--json", "--verbose")...)
	rec.Metrics.WallSeconds = ptr(r.Wall.Seconds())
	if err != nil || r.ExitCode != 0 {
		c.failf("%v %s", err, r.Describe())
		return runAnswer{}, rec
	}
	d, err := decodeRunEnvelope(r.Stdout)
	if err != nil {
		c.failf("run --json: %v", err)
		return runAnswer{}, rec
	}
	stops, ok := ParseStopTokens(r.Stderr)
	if !ok {
		c.failf("run --verbose printed no 'Stop tokens:' line")
	}
	if len(stops) == 0 {
		c.failf("the model has no stop tokens")
	}
	rec.Metrics = Metrics{
		PromptTokens: ptr(d.Usage.PromptTokens), GeneratedTokens: ptr(d.Usage.CompletionTokens),
		PrefillTokensPerS: ptr(d.Timings.PrefillTokensPerS), DecodeTokensPerS: ptr(d.Timings.DecodeTokensPerS),
		TTFTSeconds: ptr(d.Timings.PrefillS), LoadSeconds: ptr(d.Timings.LoadS), WallSeconds: ptr(r.Wall.Seconds()),
		PeakRSSBytes: ptr(r.PeakRSS), FinishReason: ptr(d.FinishReason),
	}
	s.checkGeneration(&c, &rec, d.FinishReason, d.Usage.CompletionTokens, stops, d.Response, deref(d.Reasoning))
	return runAnswer{ok: true, response: d.Response, reasoning: d.Reasoning, stops: stops}, rec
}

// checkGeneration holds what every generating test checks: a documented
// finish reason and token count, no stop token in any text, no reasoning
// markup in the answer.
func (s *Suite) checkGeneration(c *check, rec *Record, finish string, generated int, stops []string, answer, reasoning string, more ...string) {
	s.checkOutput(c, rec, true, finish, generated, stops, answer, reasoning, more...)
}

// checkOutput is checkGeneration, with the reasoning-markup check only
// when markup is true (a raw completion has no reasoning parser: what the
// model says is the text).
func (s *Suite) checkOutput(c *check, rec *Record, markup bool, finish string, generated int, stops []string, answer, reasoning string, more ...string) {
	switch finish {
	case "length":
		if generated != s.Opts.MaxTokens {
			c.failf("finish_reason length after %d tokens, max %d", generated, s.Opts.MaxTokens)
		}
	case "stop":
		if generated > s.Opts.MaxTokens {
			c.failf("%d tokens generated, max %d", generated, s.Opts.MaxTokens)
		}
	default:
		c.failf("finish_reason %q, want stop or length", finish)
	}
	visible := VisibleStopTokens(stops, append([]string{answer, reasoning}, more...)...)
	rec.StopTokens = &StopTokens{Configured: nonNil(stops), Visible: nonNil(visible)}
	if len(visible) > 0 {
		c.failf("stop tokens visible in the output: %q", visible)
	}
	var leaked []string
	if markup {
		leaked = LeakedReasoningMarkers(answer)
	}
	rec.Reasoning = &Reasoning{Present: reasoning != "", Chars: len(reasoning), Leaked: nonNil(leaked)}
	if len(leaked) > 0 {
		c.failf("reasoning markup in the answer: %q", leaked)
	}
}

// runText: the human output streams the same answer as --json.
func (s *Suite) runText(ctx context.Context, e Entry, info ModelInfo, ra runAnswer) (rec Record) {
	rec = s.record(e, info, TestRunText)
	var c check
	defer c.finish(&rec)
	r, err := s.run(ctx, s.genArgs(e)...)
	rec.Metrics.WallSeconds = ptr(r.Wall.Seconds())
	rec.Metrics.PeakRSSBytes = ptr(r.PeakRSS)
	if err != nil || r.ExitCode != 0 {
		c.failf("%v %s", err, r.Describe())
		return rec
	}
	out := string(r.Stdout)
	visible := VisibleStopTokens(ra.stops, out)
	rec.StopTokens = &StopTokens{Configured: nonNil(ra.stops), Visible: nonNil(visible)}
	if len(visible) > 0 {
		c.failf("stop tokens visible in the output: %q", visible)
	}
	if !ra.ok {
		return skip(rec, "run --json failed; nothing to compare with")
	}
	rec.Parity = &Parity{Compared: []string{"text=json"}}
	if ra.reasoning == nil {
		if m := Mismatch("human output and --json response", out, ra.response+"\n"); m != "" {
			c.failf("%s", m)
		}
	} else if !strings.Contains(out, "**[Reasoning]**") || !strings.Contains(out, *ra.reasoning) || !strings.Contains(out, ra.response) {
		c.failf("human output does not show the reasoning (marked) and the answer of --json: %q", clip(out, 300))
	}
	rec.Parity.Equal = len(c.failures) == 0
	return rec
}

// runStream: --jsonl token events add up to the envelope's answer and
// reasoning, which match --json's.
func (s *Suite) runStream(ctx context.Context, e Entry, info ModelInfo, ra runAnswer) (rec Record) {
	rec = s.record(e, info, TestRunStream)
	var c check
	defer c.finish(&rec)
	r, err := s.run(ctx, s.genArgs(e, "--jsonl")...)
	rec.Metrics.WallSeconds = ptr(r.Wall.Seconds())
	rec.Metrics.PeakRSSBytes = ptr(r.PeakRSS)
	if err != nil || r.ExitCode != 0 {
		c.failf("%v %s", err, r.Describe())
		return rec
	}
	var answer, reasoning strings.Builder
	var last []byte
	tokens := 0
	err = eachJSONLine(bytes.NewReader(r.Stdout), 16<<20, errJSONL, func(_ int, line []byte) error {
		var ev struct {
			Type    string `json:"type"`
			Text    string `json:"text"`
			Channel string `json:"channel"`
		}
		if json.Unmarshal(line, &ev) != nil {
			return fmt.Errorf("%w: a line is not JSON: %q", errJSONL, clip(string(line), 200))
		}
		if ev.Type != "token" {
			last = slices.Clone(line)
			return nil
		}
		tokens++
		switch ev.Channel {
		case "answer":
			answer.WriteString(ev.Text)
		case "reasoning":
			reasoning.WriteString(ev.Text)
		default:
			c.failf("token event with channel %q", ev.Channel)
		}
		return nil
	})
	if err != nil {
		c.failf("%v", err)
		return rec
	}
	d, err := decodeRunEnvelope(last)
	if err != nil {
		c.failf("--jsonl final envelope: %v", err)
		return rec
	}
	rec.Metrics.GeneratedTokens = ptr(d.Usage.CompletionTokens)
	rec.Metrics.PromptTokens = ptr(d.Usage.PromptTokens)
	rec.Metrics.FinishReason = ptr(d.FinishReason)
	s.checkGeneration(&c, &rec, d.FinishReason, d.Usage.CompletionTokens, ra.stops, answer.String(), reasoning.String(), d.Response)
	rec.Parity = &Parity{Compared: []string{"tokens=envelope", "jsonl=json"}}
	n := len(c.failures)
	if m := Mismatch("streamed answer and envelope response", answer.String(), d.Response); m != "" {
		c.failf("%s", m)
	}
	if m := Mismatch("streamed reasoning and envelope reasoning", reasoning.String(), deref(d.Reasoning)); m != "" {
		c.failf("%s", m)
	}
	if ra.ok {
		if m := Mismatch("--jsonl and --json responses", d.Response, ra.response); m != "" {
			c.failf("%s (temperature 0 must be deterministic)", m)
		}
	}
	rec.Parity.Equal = len(c.failures) == n
	return rec
}

// server starts one server for the model, runs the API tests on it, and
// stops it (waiting for the process and the port) before returning.
func (s *Suite) server(ctx context.Context, e Entry, info ModelInfo, ra runAnswer) []Record {
	srec := s.record(e, info, TestServer)
	chat := s.record(e, info, TestServerChat)
	compl := s.record(e, info, TestServerCompl)
	if s.Opts.ServerSkip != "" {
		return []Record{skip(srec, s.Opts.ServerSkip), skip(chat, s.Opts.ServerSkip), skip(compl, s.Opts.ServerSkip)}
	}
	var c check
	srv, err := StartServer(ctx, s.Tool, e.Name, s.Opts.Server)
	if err != nil {
		c.failf("%v", err)
		c.finish(&srec)
		why := "the server did not start"
		return []Record{srec, skip(chat, why), skip(compl, why)}
	}
	srec.Metrics.LoadSeconds = ptr(srv.Ready.Seconds())
	var h struct {
		Status string `json:"status"`
	}
	if code, err := srv.Get(ctx, "/health", &h); err != nil || code != 200 || h.Status != "healthy" {
		c.failf("/health: %d %q %v", code, h.Status, err)
	}
	var models struct {
		Object string `json:"object"`
		Data   []struct {
			ID     string `json:"id"`
			Loaded bool   `json:"loaded"`
		} `json:"data"`
	}
	if code, err := srv.Get(ctx, "/v1/models", &models); err != nil || code != 200 || models.Object != "list" {
		c.failf("/v1/models: %d %v", code, err)
	} else if !slices.ContainsFunc(models.Data, func(m struct {
		ID     string `json:"id"`
		Loaded bool   `json:"loaded"`
	}) bool {
		return (m.ID == e.Name || strings.HasSuffix(e.Name, "/"+m.ID)) && m.Loaded
	}) {
		c.failf("/v1/models does not list %s as loaded: %+v", e.Name, models.Data)
	}
	chat = s.serverGen(ctx, srv, e, chat, ra, true)
	compl = s.serverGen(ctx, srv, e, compl, ra, false)
	if err := srv.Stop(s.Opts.Server.Stop); err != nil {
		c.failf("%v", err)
	} else if srv.ExitCode != 0 {
		c.failf("exit %d after SIGTERM, want 0; stderr: %s", srv.ExitCode, clip(srv.Stderr(), 1000))
	}
	srec.Metrics.PeakRSSBytes = ptr(srv.PeakRSS)
	c.finish(&srec)
	return []Record{srec, chat, compl}
}

// serverGen asks the same question batch and streamed: at temperature 0
// both must give the same text, reasoning, finish reason and usage.
func (s *Suite) serverGen(ctx context.Context, srv *Server, e Entry, in Record, ra runAnswer, chat bool) (rec Record) {
	rec = in
	var c check
	defer c.finish(&rec)
	p := GenParams{Temperature: 0, MaxTokens: s.Opts.MaxTokens}
	model := e.Name
	ask := func(stream bool) (Answer, error) {
		ctx, cancel := context.WithTimeout(ctx, s.Opts.CommandTimeout)
		defer cancel()
		if chat {
			return srv.Chat(ctx, model, s.Opts.Prompt, p, stream)
		}
		return srv.Complete(ctx, model, s.Opts.CompletionPrompt, p, stream)
	}
	// The first request, streamed, meets an empty prompt cache as run
	// does: it gives the measurements and is compared with run. The next
	// two, batch and streamed, both find the prompt cached, so they are
	// compared with each other; a cached answer that differs from the
	// fresh one is a finding.
	fresh, err := ask(true)
	if err != nil {
		c.failf("stream: %v", err)
		return rec
	}
	batch, err := ask(false)
	if err != nil {
		c.failf("batch: %v", err)
		return rec
	}
	stream, err := ask(true)
	if err != nil {
		c.failf("stream: %v", err)
		return rec
	}
	if fresh.Content != batch.Content || fresh.Reasoning != batch.Reasoning {
		rec.Findings = append(rec.Findings, "a prompt-cache hit changed the temperature-0 answer: "+
			Mismatch("fresh and cached answers", fresh.Content+fresh.Reasoning, batch.Content+batch.Reasoning))
	}
	if fresh.Usage == nil || batch.Usage == nil || stream.Usage == nil {
		c.failf("usage missing (batch %v, streams with include_usage %v %v)", batch.Usage != nil, fresh.Usage != nil, stream.Usage != nil)
		return rec
	}
	u := fresh.Usage
	rec.Metrics = Metrics{PromptTokens: ptr(u.PromptTokens), GeneratedTokens: ptr(u.CompletionTokens),
		TTFTSeconds: ptr(fresh.TTFT.Seconds()), WallSeconds: ptr(fresh.Wall.Seconds()), FinishReason: ptr(fresh.FinishReason)}
	if t := fresh.TTFT.Seconds(); t > 0 {
		rec.Metrics.PrefillTokensPerS = ptr(round3(float64(u.PromptTokens) / t))
	}
	if d := fresh.Decode.Seconds(); d > 0 && u.CompletionTokens > 1 {
		rec.Metrics.DecodeTokensPerS = ptr(round3(float64(u.CompletionTokens-1) / d))
	}
	s.checkOutput(&c, &rec, chat, fresh.FinishReason, u.CompletionTokens, ra.stops, fresh.Content, fresh.Reasoning,
		batch.Content, batch.Reasoning, stream.Content, stream.Reasoning)
	if stream.FinishReason != "stop" && stream.FinishReason != "length" {
		c.failf("cached stream: finish_reason %q", stream.FinishReason)
	}
	if !chat && fresh.Reasoning+batch.Reasoning+stream.Reasoning != "" {
		c.failf("a completion carries reasoning")
	}
	rec.Parity = &Parity{Compared: []string{"stream=batch"}}
	n := len(c.failures)
	if chat && ra.ok {
		// Same template, same defaults (repetition penalty 1.1) as run.
		rec.Parity.Compared = append(rec.Parity.Compared, "server=run")
		if m := Mismatch("server chat content and run's response", fresh.Content, ra.response); m != "" {
			c.failf("%s", m)
		}
		if m := Mismatch("server reasoning and run's reasoning", fresh.Reasoning, deref(ra.reasoning)); m != "" {
			c.failf("%s", m)
		}
	}
	if m := Mismatch("streamed and batch content", stream.Content, batch.Content); m != "" {
		c.failf("%s", m)
	}
	if m := Mismatch("streamed and batch reasoning", stream.Reasoning, batch.Reasoning); m != "" {
		c.failf("%s", m)
	}
	if stream.FinishReason != batch.FinishReason {
		c.failf("finish_reason: stream %q, batch %q", stream.FinishReason, batch.FinishReason)
	}
	if *batch.Usage != *stream.Usage {
		c.failf("usage: stream %+v, batch %+v", *stream.Usage, *batch.Usage)
	}
	rec.Parity.Equal = len(c.failures) == n
	return rec
}

// healthEntry is one entry of `mlxk health --json`.
type healthEntry struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Reason string `json:"reason"`
	Verify *struct {
		FilesChecked int   `json:"files_checked"`
		BytesChecked int64 `json:"bytes_checked"`
		Mismatches   []struct {
			File string `json:"file"`
		} `json:"mismatches"`
	} `json:"verify"`
}

func (s *Suite) health(ctx context.Context, t Tool, name string) (healthEntry, Result, error) {
	ctx, cancel := context.WithTimeout(ctx, s.Opts.CommandTimeout)
	defer cancel()
	r, err := t.Run(ctx, "health", name, "--verify", "--json")
	if err != nil {
		return healthEntry{}, r, err
	}
	var env struct {
		Data struct {
			Healthy   []healthEntry `json:"healthy"`
			Unhealthy []healthEntry `json:"unhealthy"`
		} `json:"data"`
	}
	if err := json.Unmarshal(r.Stdout, &env); err != nil {
		return healthEntry{}, r, fmt.Errorf("health --json: %v: %s", err, r.Describe())
	}
	all := append(env.Data.Healthy, env.Data.Unhealthy...)
	if len(all) != 1 {
		return healthEntry{}, r, fmt.Errorf("health --json lists %d models, want 1: %s", len(all), r.Describe())
	}
	return all[0], r, nil
}

// healthVerify: the real files hash to the names of their blobs.
func (s *Suite) healthVerify(ctx context.Context, e Entry, info ModelInfo) (rec Record) {
	rec = s.record(e, info, TestHealth)
	var c check
	defer c.finish(&rec)
	h, r, err := s.health(ctx, s.Tool, e.Name)
	rec.Metrics.WallSeconds = ptr(r.Wall.Seconds())
	rec.Metrics.PeakRSSBytes = ptr(r.PeakRSS)
	switch {
	case err != nil:
		c.failf("%v", err)
	case h.Status != "healthy" || r.ExitCode != 0:
		c.failf("health --verify: %s (%s), exit %d", h.Status, h.Reason, r.ExitCode)
	case h.Verify == nil || h.Verify.FilesChecked == 0:
		c.failf("health --verify checked no files")
	case len(h.Verify.Mismatches) > 0:
		c.failf("files do not match their hashes: %+v", h.Verify.Mismatches)
	}
	return rec
}

// healthDamage: a minimal copy in a test cache verifies, and once one
// byte of its weight file is flipped, verify names that file.
func (s *Suite) healthDamage(ctx context.Context, e Entry, info ModelInfo) (rec Record) {
	rec = s.record(e, info, TestHealthCopy)
	var c check
	defer c.finish(&rec)
	tc, err := NewTestCache(s.Opts.Scratch, s.Source)
	if err != nil {
		c.failf("%v", err)
		return rec
	}
	defer tc.Remove()
	cp, err := tc.CopyMinimal(filepath.Join(s.Source, "hub"), e.Name, e.Hash, s.Opts.CopyLimit)
	if errors.Is(err, ErrTooLargeToCopy) {
		return skip(rec, err.Error())
	}
	if err != nil {
		c.failf("%v", err)
		return rec
	}
	t := s.Tool
	t.Env = ToolEnv(t.Env, tc.Home)
	before, r, err := s.health(ctx, t, e.Name)
	if err != nil {
		c.failf("before damage: %v", err)
		return rec
	}
	if before.Verify == nil || len(before.Verify.Mismatches) > 0 {
		c.failf("the intact copy does not verify: %s", r.Describe())
		return rec
	}
	if err := tc.Damage(filepath.Join(cp.Snapshot, filepath.FromSlash(cp.Weight))); err != nil {
		c.failf("%v", err)
		return rec
	}
	after, r, err := s.health(ctx, t, e.Name)
	rec.Metrics.WallSeconds = ptr(r.Wall.Seconds())
	switch {
	case err != nil:
		c.failf("after damage: %v", err)
	case after.Status != "unhealthy":
		c.failf("a flipped byte in %s left the model %s", cp.Weight, after.Status)
	case after.Verify == nil || !slices.ContainsFunc(after.Verify.Mismatches, func(m struct {
		File string `json:"file"`
	}) bool {
		return m.File == cp.Weight
	}):
		c.failf("verify does not name the damaged %s: %s", cp.Weight, r.Describe())
	case r.ExitCode != 0 && r.ExitCode != 1:
		c.failf("exit %d", r.ExitCode)
	}
	return rec
}

// lockExclusive takes flock(2) on path, waiting for another live run to
// finish: two suites must never load models at the same time.
func lockExclusive(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("live lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("live lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func ptr[T any](v T) *T { return &v }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }
