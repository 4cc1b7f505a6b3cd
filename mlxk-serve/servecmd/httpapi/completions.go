package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/models"
	"github.com/mlxk/mlxk/mlxk-serve/servecmd/openai"
	"github.com/mlxk/mlxk/shared/textgen"
)

// completions answers POST /v1/completions: the prompt goes to the model
// as it is, without a chat template; with a suffix, prompt and suffix go in
// the model's fill-in-the-middle layout and the answer is the middle.
func (s *Server) completions(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	req, m, ok := s.begin(w, r, openai.DecodeCompletion)
	if !ok {
		return
	}
	defer s.reg.Release(m, req.KeepAlive)
	prompt := req.Prompt
	var ids, end []int32
	if req.PromptIDs != nil {
		if e := checkVocab(m, "prompt", req.PromptIDs); e != nil {
			s.fail(w, r, e)
			return
		}
		toks := make([]int, len(req.PromptIDs))
		for i, id := range req.PromptIDs {
			toks[i] = int(id)
		}
		ids = req.PromptIDs
		prompt = m.Text.Tok.Decode(toks, false)
	} else if req.Suffix != "" {
		var e *openai.Error
		if ids, end, e = fillInMiddle(req, m); e != nil {
			s.fail(w, r, e)
			return
		}
	} else {
		ids = m.Text.Encode(textgen.Raw(req.Prompt))
	}
	id, created := newID("cmpl-"), s.cfg.Now().Unix()
	choices := make([]*textCompletion, req.N)
	for i := range choices {
		j := &job{req: req, m: m, start: start, ids: ids, choice: i, end: end}
		if e := s.prepare(j); e != nil {
			s.fail(w, r, e)
			return
		}
		tc := &textCompletion{choiceBase: choiceBase{id: id, created: created, model: m.ID, j: j}}
		if req.Echo {
			tc.text.WriteString(prompt)
			tc.offset = len(prompt)
			tc.echo = prompt
		}
		choices[i] = tc
	}
	respond(s, w, r, "completions", choices, endCompletion, wholeCompletion)
}

// checkVocab refuses token ids the model's vocabulary does not have (the
// decoders already refused negative ones); param names the field.
func checkVocab(m *models.Model, param string, inputs ...[]int32) *openai.Error {
	vocab := m.Text.Engine.Info().Vocab
	for _, ids := range inputs {
		for _, id := range ids {
			if int(id) >= vocab {
				return openai.Errorf(http.StatusBadRequest, openai.CodeInvalidValue, param,
					"%s token %d is outside the vocabulary of %d", param, id, vocab)
			}
		}
	}
	return nil
}

// fillInMiddle lays out a request with a suffix in the model's
// fill-in-the-middle tokens: the prompt's ids and the tokens that end the
// middle.
func fillInMiddle(req *openai.Request, m *models.Model) (ids, end []int32, e *openai.Error) {
	fim, ok := textgen.FIMOf(m.Text.Tok)
	if !ok {
		return nil, nil, openai.Errorf(http.StatusBadRequest, openai.CodeUnsupportedValue, "suffix",
			"model %s has no fill-in-the-middle tokens (known: Qwen2.5-Coder/CodeGemma, StarCoder, DeepSeek-Coder layouts)", m.ID)
	}
	return fim.Encode(m.Text.Tok, req.Prompt, req.Suffix), fim.End, nil
}

// textCompletion assembles a text completion, streamed or whole.
type textCompletion struct {
	choiceBase
	echo string // prompt text still to stream (echo)

	text     strings.Builder
	offset   int // text offset of the next token (logprobs)
	logprobs openai.CompletionLogprobs
}

func (t *textCompletion) base() *choiceBase { return &t.choiceBase }

func (t *textCompletion) chunk(text string, lp *openai.CompletionLogprobs, finish *string) openai.Completion {
	return openai.Completion{ID: t.id, Object: openai.ObjectCompletion, Created: t.created, Model: t.model,
		Choices: []openai.CompletionChoice{{Text: text, Index: t.j.choice, Logprobs: lp, FinishReason: finish}}}
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
	var lp *openai.CompletionLogprobs // this chunk's, when streaming
	if len(p.logprobs) > 0 {
		dst := &t.logprobs // the whole answer's
		if t.stream != nil {
			lp = &openai.CompletionLogprobs{}
			dst = lp
		}
		t.addLogprobs(dst, p.logprobs)
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

// endCompletion writes the end of a stream: each choice's echo if nothing
// came after it and its finish chunk, the usage chunk when asked for, and
// [DONE].
func endCompletion(choices []*textCompletion, finishes []string, outs []outcome) {
	for i, t := range choices {
		if t.flushEcho() != nil || t.stream.event(t.chunk("", nil, &finishes[i])) != nil {
			return
		}
	}
	t := choices[0]
	if t.j.req.IncludeUsage {
		c := openai.Completion{ID: t.id, Object: openai.ObjectCompletion, Created: t.created, Model: t.model,
			Choices: []openai.CompletionChoice{}, Usage: usageAll(outs)}
		if t.stream.event(c) != nil {
			return
		}
	}
	_ = t.stream.done()
}

// wholeCompletion is the non-streamed answer with every choice.
func wholeCompletion(choices []*textCompletion, finishes []string, outs []outcome) any {
	resp := choices[0].whole(finishes[0], outs[0])
	for i, c := range choices[1:] {
		resp.Choices = append(resp.Choices, c.whole(finishes[i+1], outs[i+1]).Choices...)
	}
	resp.Usage = usageAll(outs)
	return resp
}

// whole is one choice's non-streamed answer.
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
