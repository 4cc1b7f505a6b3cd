package httpapi

import (
	"errors"
	"net/http"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/models"
	"github.com/mlxk/mlxk/mlxk-serve/servecmd/openai"
	"github.com/mlxk/mlxk/shared/textgen"
)

// embeddings answers POST /v1/embeddings: each input's pooled final hidden
// state (textgen.EmbedTokens), from any runnable model (best one trained
// for embeddings, such as Qwen3-Embedding).
func (s *Server) embeddings(w http.ResponseWriter, r *http.Request) {
	req, ok := decodeBody(s, w, r, openai.DecodeEmbeddings)
	if !ok {
		return
	}
	res, ok := s.embed(w, r, req)
	if !ok {
		return
	}
	out := openai.EmbeddingList{Object: openai.ObjectList, Model: res.model, Data: make([]openai.Embedding, len(res.vecs)),
		Usage: openai.EmbeddingsUsage{PromptTokens: res.tokens, TotalTokens: res.tokens}}
	for i, v := range res.vecs {
		out.Data[i] = openai.Embedding{Object: "embedding", Index: i, Embedding: v}
		if req.Base64 {
			out.Data[i].Embedding = openai.EncodeFloats(v)
		}
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// embedded is what an embeddings request computed.
type embedded struct {
	model  string
	vecs   [][]float32
	tokens int
}

// embed acquires the request's model and computes its embeddings; ok is
// false when it answered an error instead.
func (s *Server) embed(w http.ResponseWriter, r *http.Request, req *openai.EmbeddingRequest) (embedded, bool) {
	m, ok := s.acquire(w, r, req.Model, models.Embed)
	if !ok {
		return embedded{}, false
	}
	defer s.reg.Release(m, nil)
	inputs := req.IDs
	if e := checkVocab(m, "input", inputs...); e != nil {
		s.fail(w, r, e)
		return embedded{}, false
	}
	for _, t := range req.Texts {
		inputs = append(inputs, m.Text.EncodeForEmbedding(t))
	}
	tokens := 0
	for _, ids := range inputs {
		tokens += len(ids)
	}
	vecs, err := m.Text.EmbedTokens(r.Context(), inputs, req.Dimensions)
	tooLong := (*textgen.ContextExceededError)(nil)
	switch {
	case errors.As(err, &tooLong):
		s.fail(w, r, openai.Errorf(http.StatusBadRequest, openai.CodeContextExceeded, "input",
			"input %d has %d tokens; model %s has a context of %d", tooLong.Input, tooLong.Tokens, m.ID, tooLong.Limit))
		return embedded{}, false
	case errors.Is(err, textgen.ErrNoEmbeddings):
		s.fail(w, r, openai.Errorf(http.StatusBadRequest, openai.CodeUnsupportedValue, "model", "model %s: %v", m.ID, err))
		return embedded{}, false
	case err != nil && r.Context().Err() != nil:
		return embedded{}, false // the client left
	case err != nil:
		s.fail(w, r, openai.Errorf(http.StatusInternalServerError, openai.CodeInternal, "", "embedding failed: %v", err))
		return embedded{}, false
	}
	s.met.promptTokens.Add(float64(tokens), m.ID)
	info(r).promptTokens = tokens
	return embedded{model: m.ID, vecs: vecs, tokens: tokens}, true
}
