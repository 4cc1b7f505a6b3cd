package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/openai"
	"github.com/mlxk/mlxk/shared/textgen"
)

// completions answers POST /v1/completions: the prompt goes to the model
// as it is, without a chat template.
func (s *Server) completions(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	req, m, ok := s.begin(w, r, openai.DecodeCompletion)
	if !ok {
		return
	}
	defer s.reg.Release(m, req.KeepAlive)
	j := &job{req: req, m: m, start: start}
	prompt := req.Prompt
	if req.PromptIDs != nil {
		vocab := m.Text.Engine.Info().Vocab
		ids := make([]int, len(req.PromptIDs))
		for i, id := range req.PromptIDs {
			if int(id) >= vocab {
				s.fail(w, r, openai.Errorf(http.StatusBadRequest, openai.CodeInvalidValue, "prompt",
					"prompt token %d is outside the vocabulary of %d", id, vocab))
				return
			}
			ids[i] = int(id)
		}
		j.ids = req.PromptIDs
		prompt = m.Text.Tok.Decode(ids, false)
	} else {
		j.ids = m.Text.Encode(textgen.Raw(req.Prompt))
	}
	if e := s.prepare(j); e != nil {
		s.fail(w, r, e)
		return
	}
	tc := &textCompletion{id: newID("cmpl-"), created: s.cfg.Now().Unix(), model: m.ID, j: j}
	if req.Echo {
		tc.text.WriteString(prompt)
		tc.offset = len(prompt)
		tc.echo = prompt
	}
	if req.Stream {
		tc.stream = newSSE(w)
		defer tc.stream.keepAlive(s.sseKeepAlive())()
	}
	o := s.run(r.Context(), j, tc)
	finish, ok := s.conclude(w, r, j, "completions", o, tc.stream)
	switch {
	case !ok:
	case tc.stream != nil:
		tc.end(finish, o)
	default:
		s.writeJSON(w, r, http.StatusOK, tc.whole(finish, o))
	}
}

// textCompletion assembles a text completion, streamed or whole.
type textCompletion struct {
	id      string
	created int64
	model   string
	j       *job
	stream  *sse
	echo    string // prompt text still to stream (echo)

	text     strings.Builder
	offset   int // text offset of the next token (logprobs)
	logprobs openai.CompletionLogprobs
}

func (t *textCompletion) chunk(text string, lp *openai.CompletionLogprobs, finish *string) openai.Completion {
	return openai.Completion{ID: t.id, Object: openai.ObjectCompletion, Created: t.created, Model: t.model,
		Choices: []openai.CompletionChoice{{Text: text, Index: 0, Logprobs: lp, FinishReason: finish}}}
}

// flushEcho streams the echoed prompt once, before anything else.
func (t *textCompletion) flushEcho() error {
	if t.echo == "" {
		return nil
	}
	e := t.echo
	t.echo = ""
	return t.stream.event(t.chunk(e, nil, nil))
}

func (t *textCompletion) piece(p piece) error {
	var lp *openai.CompletionLogprobs
	if len(p.logprobs) > 0 {
		lp = &openai.CompletionLogprobs{}
		t.addLogprobs(lp, p.logprobs)
		t.addLogprobs(&t.logprobs, p.logprobs)
		t.offset += tokenTextLen(p.logprobs)
	}
	if t.stream == nil {
		t.text.WriteString(p.content)
		return nil
	}
	if err := t.flushEcho(); err != nil {
		return err
	}
	return t.stream.event(t.chunk(p.content, lp, nil))
}

func tokenTextLen(lps []tokenLogprob) int {
	n := 0
	for _, lp := range lps {
		n += len(lp.text)
	}
	return n
}

// addLogprobs appends tokens in the legacy completions shape.
func (t *textCompletion) addLogprobs(dst *openai.CompletionLogprobs, lps []tokenLogprob) {
	tok := t.j.m.Text.Tok
	off := t.offset
	for _, lp := range lps {
		dst.Tokens = append(dst.Tokens, lp.text)
		dst.TokenLogprobs = append(dst.TokenLogprobs, lp.logprob)
		dst.TextOffset = append(dst.TextOffset, off)
		top := map[string]float64{}
		for _, alt := range lp.top {
			top[tok.Decode([]int{int(alt.Token)}, false)] = finiteLogprob(alt.Logprob)
		}
		dst.TopLogprobs = append(dst.TopLogprobs, top)
		off += len(lp.text)
	}
}

// end writes the end of a stream: the echo if nothing came after it, the
// finish chunk, the usage chunk when asked for, and [DONE].
func (t *textCompletion) end(finish string, o outcome) {
	if t.flushEcho() != nil || t.stream.event(t.chunk("", nil, &finish)) != nil {
		return
	}
	if t.j.req.IncludeUsage {
		c := openai.Completion{ID: t.id, Object: openai.ObjectCompletion, Created: t.created, Model: t.model,
			Choices: []openai.CompletionChoice{}, Usage: usage(o.res)}
		if t.stream.event(c) != nil {
			return
		}
	}
	_ = t.stream.done()
}

// whole is the non-streamed answer.
func (t *textCompletion) whole(finish string, o outcome) openai.Completion {
	c := t.chunk(t.text.String(), nil, &finish)
	if t.j.req.Logprobs {
		lp := t.logprobs
		if lp.Tokens == nil {
			lp = openai.CompletionLogprobs{Tokens: []string{}, TokenLogprobs: []float64{},
				TopLogprobs: []map[string]float64{}, TextOffset: []int{}}
		}
		c.Choices[0].Logprobs = &lp
	}
	c.Usage = usage(o.res)
	return c
}
