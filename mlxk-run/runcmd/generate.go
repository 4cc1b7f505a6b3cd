package runcmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mlxk/mlxk/shared/cli"
	"github.com/mlxk/mlxk/shared/engine"
	"github.com/mlxk/mlxk/shared/engine/reasoning"
	"github.com/mlxk/mlxk/shared/engine/sample"
	"github.com/mlxk/mlxk/shared/envelope"
	"github.com/mlxk/mlxk/shared/mlxkerr"
	"github.com/mlxk/mlxk/shared/textgen"
)

type runner struct {
	env  cli.Env
	o    *options
	m    *textgen.Model
	spec string
}

// Data is the data of the run envelope: mlx-knife's model, prompt and
// response, then what a script needs to judge the answer.
type Data struct {
	Model        string  `json:"model"`
	Prompt       string  `json:"prompt"`
	Response     string  `json:"response"`
	Reasoning    *string `json:"reasoning"`
	FinishReason string  `json:"finish_reason"`
	Usage        Usage   `json:"usage"`
	Timings      Timings `json:"timings"`
}

// Usage counts tokens as OpenAI does.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Timings are the measured phases in seconds and tokens per second.
type Timings struct {
	LoadS             float64 `json:"load_s"`
	PrefillS          float64 `json:"prefill_s"`
	DecodeS           float64 `json:"decode_s"`
	PrefillTokensPerS float64 `json:"prefill_tokens_per_s"`
	DecodeTokensPerS  float64 `json:"decode_tokens_per_s"`
}

// tokenRecord is one line of --jsonl.
type tokenRecord struct {
	Type    string `json:"type"` // "token"
	ID      int32  `json:"id"`
	Text    string `json:"text"`
	Channel string `json:"channel"` // "answer" or "reasoning"
}

// turn is the outcome of one generation.
type turn struct {
	answer, reasoning strings.Builder
	res               engine.Result
	interrupted       bool
	promptTokens      int
}

// generate renders prompt tokens into an answer, writing it out as it
// comes in streaming modes. Ctrl-C cancels the generation, not the program.
func (r *runner) generate(ctx context.Context, p textgen.Prompt, stream bool) (*turn, error) {
	ids := r.m.Encode(p)
	t := &turn{promptTokens: len(ids)}
	limit := r.m.ContextLength - len(ids)
	if limit <= 0 {
		return t, mlxkerr.New(errExecution, "the prompt has %d tokens; the model's context holds %d", len(ids), r.m.ContextLength)
	}
	maxTokens := limit
	if r.o.maxTokens > 0 {
		maxTokens = r.o.maxTokens
	}
	sampler, err := sample.NewSampler(r.o.params)
	if err != nil {
		return t, mlxkerr.Usagef("%v", err)
	}
	kind := r.reasoningKind()
	parser := reasoning.NewParser(kind, reasoning.PromptOpensReasoning(kind, p.Text))
	w := &output{env: r.env, o: r.o, stream: stream}

	gctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	emit := func(tok engine.Token) error {
		for _, seg := range parser.Push(tok.Text) {
			if err := w.segment(t, tok.ID, seg); err != nil {
				return err
			}
		}
		return nil
	}
	t.res, err = r.m.Generate(gctx, textgen.Request{Prompt: ids, MaxTokens: maxTokens, Sampler: sampler, Stop: r.o.stops, IgnoreEOS: r.o.ignoreEOS,
		Lookahead: r.o.lookahead}, emit)
	for _, seg := range parser.Flush() {
		if werr := w.segment(t, -1, seg); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil && gctx.Err() != nil && ctx.Err() == nil {
		t.interrupted, err = true, nil
	}
	return t, err
}

func (r *runner) reasoningKind() reasoning.Kind {
	src := ""
	if r.m.Template != nil {
		src = r.m.Template.Source()
	}
	return reasoning.Detect(src, func(s string) bool { _, ok := r.m.Tok.TokenID(s); return ok })
}

// output writes answer and reasoning text in the chosen mode.
type output struct {
	env          cli.Env
	o            *options
	stream       bool
	inReasoning  bool
	sawReasoning bool
}

func (w *output) segment(t *turn, id int32, seg reasoning.Segment) error {
	if seg.Text == "" {
		return nil
	}
	isReasoning := seg.Kind == reasoning.Reasoning
	if isReasoning {
		t.reasoning.WriteString(seg.Text)
	} else {
		t.answer.WriteString(seg.Text)
	}
	switch {
	case w.o.mode == cli.JSONL:
		ch := "answer"
		if isReasoning {
			ch = "reasoning"
			if w.o.noReasoning {
				return nil
			}
		}
		return envelope.Write(w.env.Stdout, tokenRecord{Type: "token", ID: id, Text: seg.Text, Channel: ch})
	case w.o.mode == cli.JSON || !w.stream:
		return nil
	}
	if isReasoning && w.o.noReasoning {
		return nil
	}
	var b strings.Builder
	if isReasoning && !w.inReasoning {
		b.WriteString("**[Reasoning]**\n\n")
		w.inReasoning, w.sawReasoning = true, true
	}
	if !isReasoning && w.inReasoning {
		b.WriteString("\n\n---\n\n**[Answer]**\n\n")
		w.inReasoning = false
	}
	b.WriteString(seg.Text)
	_, err := io.WriteString(w.env.Stdout, b.String())
	return err
}

// batchText is the human rendering of a finished turn for --no-stream.
func (r *runner) batchText(t *turn) string {
	answer := strings.TrimSpace(t.answer.String())
	reason := strings.TrimSpace(t.reasoning.String())
	if reason == "" || r.o.noReasoning {
		return answer
	}
	return "**[Reasoning]**\n\n" + reason + "\n\n---\n\n**[Answer]**\n\n" + answer
}

func (r *runner) data(prompt string, t *turn) Data {
	d := Data{Model: r.spec, Prompt: prompt, Response: t.answer.String(), FinishReason: t.res.FinishReason,
		Usage: Usage{PromptTokens: t.promptTokens, CompletionTokens: t.res.GeneratedTokens,
			TotalTokens: t.promptTokens + t.res.GeneratedTokens},
		Timings: timings(r.m.LoadTime, t.res)}
	if t.interrupted {
		d.FinishReason = "interrupted"
	}
	if s := t.reasoning.String(); s != "" && !r.o.noReasoning {
		d.Reasoning = &s
	}
	return d
}

func timings(load time.Duration, res engine.Result) Timings {
	tm := Timings{LoadS: round3(load.Seconds()), PrefillS: round3(res.Prefill.Seconds()), DecodeS: round3(res.Decode.Seconds())}
	if s := res.Prefill.Seconds(); s > 0 {
		tm.PrefillTokensPerS = round3(float64(res.PromptTokens-res.CachedTokens) / s)
	}
	if s := res.Decode.Seconds(); s > 0 {
		tm.DecodeTokensPerS = round3(float64(res.GeneratedTokens) / s)
	}
	return tm
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

// single answers one prompt.
func (r *runner) single(ctx context.Context, prompt string) error {
	p := textgen.Raw(prompt)
	if !r.o.noChatTemplate {
		msgs := messages(r.o.system, nil, prompt)
		var err error
		if p, err = r.m.Chat(msgs, textgen.ChatOptions{}); err != nil {
			return mlxkerr.Wrap(errExecution, err, "render prompt")
		}
	} else if r.o.system != "" {
		p = textgen.Raw(r.o.system + "\n\n" + prompt)
	}
	stream := !r.o.noStream && r.o.mode == cli.Human
	t, err := r.generate(ctx, p, stream)
	if err != nil {
		return mlxkerr.From(err, errExecution)
	}
	if r.o.verbose && r.o.mode != cli.Human {
		r.printStats(t)
	}
	switch r.o.mode {
	case cli.JSON, cli.JSONL:
		if t.interrupted {
			e := mlxkerr.New(errInterrupted, "generation interrupted by user")
			if err := envelope.Write(r.env.Stdout, envelope.Failure("run", e, r.data(prompt, t))); err != nil {
				return err
			}
			return cli.Reported{Code: 1}
		}
		return envelope.Write(r.env.Stdout, envelope.Success("run", r.data(prompt, t)))
	}
	if stream {
		io.WriteString(r.env.Stdout, "\n")
	} else {
		io.WriteString(r.env.Stdout, r.batchText(t)+"\n")
	}
	if r.o.verbose {
		r.printStats(t)
	}
	if t.interrupted {
		fmt.Fprintln(r.env.Stderr, "[Generation interrupted by user]")
		return cli.Reported{Code: 130}
	}
	return nil
}

// messages builds an OpenAI-style messages array.
func messages(system string, history []message, user string) json.RawMessage {
	var all []message
	if system != "" {
		all = append(all, message{Role: "system", Content: system})
	}
	all = append(all, history...)
	all = append(all, message{Role: "user", Content: user})
	b, _ := json.Marshal(all)
	return b
}

type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

func (r *runner) printStats(t *turn) {
	w := r.env.Stderr
	res := t.res
	tm := timings(r.m.LoadTime, res)
	fmt.Fprintf(w, "\nPrompt: %d tokens (%d reused) in %.2fs (%.1f tokens/s)\n", t.promptTokens, res.CachedTokens, tm.PrefillS, tm.PrefillTokensPerS)
	fmt.Fprintf(w, "Generated %d tokens in %.2fs (%.1f tokens/s), finish: %s\n", res.GeneratedTokens, tm.DecodeS, tm.DecodeTokensPerS, finish(t))
	if r.o.lookahead > 0 {
		fmt.Fprintf(w, "Lookahead: %d of %d draft tokens kept\n", res.AcceptedTokens, res.DraftTokens)
	}
	if peak := peakRSS(); peak > 0 {
		fmt.Fprintf(w, "Peak memory: %.1f MB\n", float64(peak)/1e6)
	}
	if n := spelledEOS(r.m, t.answer.String()); n > 1 {
		fmt.Fprintf(w, "WARNING: Multiple EOS tokens detected (%d) - model quality issue\n", n)
	}
}

func finish(t *turn) string {
	switch {
	case t.interrupted:
		return "interrupted"
	case t.res.StopString != "":
		return fmt.Sprintf("stop string %q", t.res.StopString)
	case t.res.EOSToken >= 0:
		return fmt.Sprintf("end token %d", t.res.EOSToken)
	}
	return t.res.FinishReason
}

// spelledEOS counts end-of-turn token texts that appear in the answer:
// generation stops at the first EOS id, so any found here were spelled
// out piece by piece, which MLX Knife flags as a model quality problem.
func spelledEOS(m *textgen.Model, text string) int {
	n := 0
	for _, id := range m.EOS {
		if s, ok := m.Tok.Token(int(id)); ok && s != "" {
			n += strings.Count(text, s)
		}
	}
	return n
}
