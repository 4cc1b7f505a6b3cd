package httpapi

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/openai"
	"github.com/mlxk/mlxk/mlxk-serve/servecmd/toolcall"
	"github.com/mlxk/mlxk/shared/chattemplate"
	"github.com/mlxk/mlxk/shared/engine/reasoning"
	"github.com/mlxk/mlxk/shared/modelinfo"
	"github.com/mlxk/mlxk/shared/snapfiles"
	"github.com/mlxk/mlxk/shared/textgen"
)

// ollama's native API, for clients that speak it (Open WebUI, editor
// plugins, the ollama libraries): /api/chat and /api/generate run the
// chat and completion pipelines and answer in ollama's shapes, streamed
// as JSON lines; /api/embed, /api/tags, /api/show and /api/version answer
// from the same models. Errors are ollama's {"error": message}.

// ollamaTime is ollama's timestamp format.
const ollamaTime = time.RFC3339Nano

// ollamaChat answers POST /api/chat.
func (s *Server) ollamaChat(w http.ResponseWriter, r *http.Request) {
	j, release, ok := s.beginSingleChat(w, r, openai.DecodeOllamaChat)
	if !ok {
		return
	}
	defer release()
	a := &ollamaAnswer{choiceBase: choiceBase{model: j.m.ID, j: j}, chat: true}
	respond(s, w, r, "ollama_chat", []*ollamaAnswer{a}, endOllama, wholeOllama)
}

// ollamaGenerate answers POST /api/generate: the prompt through the chat
// template (DecodeOllamaGenerate made it a conversation), as it is with
// raw, or with a suffix in the model's fill-in-the-middle layout.
func (s *Server) ollamaGenerate(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	req, m, ok := s.begin(w, r, openai.DecodeOllamaGenerate)
	if !ok {
		return
	}
	defer s.reg.Release(m, req.KeepAlive)
	if req.Prompt == "" && req.Suffix == "" { // ollama loads the model and answers done
		s.writeJSON(w, r, http.StatusOK, map[string]any{"model": m.ID, "created_at": s.cfg.Now().UTC().Format(ollamaTime),
			"response": "", "done": true, "done_reason": "load"})
		return
	}
	j := &job{req: req, m: m, start: start}
	var e *openai.Error
	switch {
	case req.Chat:
		var turn *chatTurn
		if turn, e = newChatTurn(req, m); e == nil {
			j = turn.job(start, 0)
		}
	case req.Suffix != "":
		j.ids, j.end, e = fillInMiddle(req, m)
	default:
		j.ids = m.Text.Encode(textgen.Raw(req.Prompt))
	}
	if e == nil {
		e = s.prepare(j)
	}
	if e != nil {
		s.fail(w, r, e)
		return
	}
	a := &ollamaAnswer{choiceBase: choiceBase{model: m.ID, j: j}}
	respond(s, w, r, "ollama_generate", []*ollamaAnswer{a}, endOllama, wholeOllama)
}

// ollamaAnswer assembles a chat or generate answer, whole or as JSON lines.
type ollamaAnswer struct {
	choiceBase
	chat bool

	content, thinking strings.Builder
	calls             []map[string]any
}

func (a *ollamaAnswer) base() *choiceBase { return &a.choiceBase }

func (a *ollamaAnswer) framing() framing { return framingLines }

// line is one answer object: the text so far (streamed: this piece's).
func (a *ollamaAnswer) line(content, thinking string, calls []map[string]any) map[string]any {
	l := map[string]any{"model": a.model, "created_at": time.Now().UTC().Format(ollamaTime), "done": false}
	if a.chat {
		msg := map[string]any{"role": "assistant", "content": content}
		if thinking != "" {
			msg["thinking"] = thinking
		}
		if len(calls) > 0 {
			msg["tool_calls"] = calls
		}
		l["message"] = msg
	} else {
		l["response"] = content
		if thinking != "" {
			l["thinking"] = thinking
		}
	}
	return l
}

func (a *ollamaAnswer) piece(p piece) error {
	var calls []map[string]any
	for _, c := range p.calls {
		calls = append(calls, map[string]any{"function": map[string]any{"name": c.Name, "arguments": callInput(c)}})
	}
	if a.stream == nil {
		a.content.WriteString(p.content)
		a.thinking.WriteString(p.reasoning)
		a.calls = append(a.calls, calls...)
		return nil
	}
	return a.stream.named("", a.line(p.content, p.reasoning, calls))
}

// final is the last object: done, the reason and ollama's counters
// (durations in nanoseconds).
func (a *ollamaAnswer) final(l map[string]any, finish string, o outcome) map[string]any {
	res := o.res
	reason := "stop"
	if finish == "length" {
		reason = "length"
	}
	l["done"], l["done_reason"] = true, reason
	l["total_duration"] = time.Since(a.j.start).Nanoseconds()
	l["load_duration"] = 0
	l["prompt_eval_count"], l["prompt_eval_duration"] = res.PromptTokens, res.Prefill.Nanoseconds()
	l["eval_count"], l["eval_duration"] = res.GeneratedTokens, res.Decode.Nanoseconds()
	if !a.chat {
		l["context"] = []int{}
	}
	return l
}

func endOllama(answers []*ollamaAnswer, finishes []string, outs []outcome) {
	a := answers[0]
	if a.stream.named("", a.final(a.line("", "", nil), finishes[0], outs[0])) != nil {
		return
	}
	_ = a.stream.done()
}

func wholeOllama(answers []*ollamaAnswer, finishes []string, outs []outcome) any {
	a := answers[0]
	return a.final(a.line(a.content.String(), a.thinking.String(), a.calls), finishes[0], outs[0])
}

// ollamaEmbed answers POST /api/embed, and the older POST /api/embeddings
// (one vector, under "embedding").
func (s *Server) ollamaEmbed(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	req, ok := decodeBody(s, w, r, openai.DecodeOllamaEmbed)
	if !ok {
		return
	}
	res, ok := s.embed(w, r, req)
	if !ok {
		return
	}
	if r.URL.Path == "/api/embeddings" {
		s.writeJSON(w, r, http.StatusOK, map[string]any{"embedding": res.vecs[0]})
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"model": res.model, "embeddings": res.vecs,
		"total_duration": time.Since(start).Nanoseconds(), "load_duration": 0, "prompt_eval_count": res.tokens})
}

// ollamaModel is one model of /api/tags.
type ollamaModel struct {
	Name       string         `json:"name"`
	Model      string         `json:"model"`
	ModifiedAt string         `json:"modified_at"`
	Size       int64          `json:"size"`
	Digest     string         `json:"digest"`
	Details    map[string]any `json:"details"`
}

// ollamaDetails describes a model the way ollama's details do, from the
// config.json summary mlxk show prints (model type, bits).
func ollamaDetails(md *modelinfo.Metadata) map[string]any {
	d := map[string]any{"parent_model": "", "format": "safetensors", "family": "", "families": []string{},
		"parameter_size": "", "quantization_level": ""}
	if md != nil {
		if family, ok := md.ModelType.(string); ok {
			d["family"], d["families"] = family, []string{family}
		}
		d["quantization_level"] = md.Quantization
	}
	return d
}

// metadataOf reads the config.json summary of a model folder.
func metadataOf(dir string) *modelinfo.Metadata {
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil
	}
	cfg, _, _ := snapfiles.ParseJSONObject(b)
	return modelinfo.ExtractMetadata(cfg)
}

// ollamaTags answers GET /api/tags: the models /v1/models lists.
func (s *Server) ollamaTags(w http.ResponseWriter, r *http.Request) {
	list, ok := s.cachedModels(w, r)
	if !ok {
		return
	}
	out := make([]ollamaModel, 0, len(list))
	for _, l := range list {
		digest := ""
		if l.Info.Hash != nil {
			digest = *l.Info.Hash
		}
		out = append(out, ollamaModel{Name: l.ID, Model: l.ID, ModifiedAt: l.Created.UTC().Format(ollamaTime),
			Size: l.Info.SizeBytes, Digest: digest, Details: ollamaDetails(l.Meta)})
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"models": out})
}

// ollamaShow answers POST /api/show: a model's details, template and
// capabilities, without loading it.
func (s *Server) ollamaShow(w http.ResponseWriter, r *http.Request) {
	name, ok := decodeBody(s, w, r, openai.DecodeOllamaShow)
	if !ok {
		return
	}
	l, ok := s.listedModel(w, r, name, true)
	if !ok {
		return
	}
	var caps []string
	template := ""
	if src, err := chattemplate.Find(l.Dir, false); err == nil {
		template = src
	}
	for _, c := range l.Info.Capabilities {
		switch c {
		case "text-generation":
			caps = append(caps, "completion")
			kind := reasoning.Detect(template, nil) // by the template alone: the model is not loaded
			if toolcall.Detect(template, kind == reasoning.Harmony).Supported() {
				caps = append(caps, "tools")
			}
			if kind != reasoning.None {
				caps = append(caps, "thinking")
			}
		case "embeddings":
			caps = append(caps, "embedding")
		}
	}
	details := ollamaDetails(l.Meta)
	s.writeJSON(w, r, http.StatusOK, map[string]any{"license": "", "modelfile": "", "parameters": "", "template": template,
		"details": details, "model_info": map[string]any{"general.architecture": details["family"],
			details["family"].(string) + ".context_length": l.ContextLength},
		"capabilities": caps, "modified_at": l.Created.UTC().Format(ollamaTime)})
}

// ollamaVersion answers GET /api/version.
func (s *Server) ollamaVersion(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, r, http.StatusOK, map[string]string{"version": s.cfg.Version})
}
