package httpapi

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/julienschmidt/httprouter"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/models"
	"github.com/mlxk/mlxk/mlxk-serve/servecmd/openai"
	"github.com/mlxk/mlxk/shared/mlxkerr"
)

// modelError maps registry errors onto API errors.
func modelError(err error) *openai.Error {
	if errors.Is(err, models.ErrClosed) {
		return openai.Errorf(http.StatusServiceUnavailable, openai.CodeServerShutdown, "", "server is shutting down")
	}
	var e *mlxkerr.Error
	if !errors.As(err, &e) {
		return openai.Errorf(http.StatusInternalServerError, openai.CodeInternal, "", "%v", err)
	}
	switch e.Type {
	case mlxkerr.ModelNotFound, mlxkerr.HashNotFound:
		msg := e.Message
		if len(e.AvailableHashes) > 0 {
			msg += " (cached: " + strings.Join(e.AvailableHashes, ", ") + ")"
		}
		return openai.Errorf(http.StatusNotFound, openai.CodeModelNotFound, "model", "%s", msg)
	case mlxkerr.AmbiguousMatch:
		return openai.Errorf(http.StatusBadRequest, openai.CodeAmbiguousModel, "model", "%s: %s", e.Message, strings.Join(e.Matches, ", "))
	case models.ErrUnhealthy:
		return openai.Errorf(http.StatusBadRequest, openai.CodeModelUnhealthy, "model", "%s", e.Message)
	case models.ErrIncompatible:
		return openai.Errorf(http.StatusBadRequest, openai.CodeModelIncompatible, "model", "%s", e.Message)
	case models.ErrTooLarge:
		return openai.Errorf(http.StatusInsufficientStorage, openai.CodeModelTooLarge, "model", "%s", e.Message)
	case models.ErrLoadFailed:
		return openai.Errorf(http.StatusInternalServerError, openai.CodeModelLoadFailed, "model", "%s", e.Message)
	case mlxkerr.CommandError:
		return openai.Errorf(http.StatusBadRequest, openai.CodeInvalidValue, "model", "%s", e.Message)
	}
	return openai.Errorf(http.StatusInternalServerError, openai.CodeInternal, "", "%s", e.Message)
}

// healthBody is /health's answer.
type healthBody struct {
	Status  string   `json:"status"` // healthy, loading, shutting_down
	Service string   `json:"service"`
	Version string   `json:"version"`
	Loading string   `json:"loading,omitempty"`
	Models  []string `json:"models"`
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	b := healthBody{Status: "healthy", Service: "mlxk-serve", Version: s.cfg.Version, Models: []string{}}
	for _, st := range s.reg.Loaded() {
		if !st.Loading {
			b.Models = append(b.Models, st.ID)
		}
	}
	status := http.StatusOK
	switch s.state.Load() {
	case stateStarting:
		b.Status, status = "loading", http.StatusServiceUnavailable
		b.Loading, _ = s.preload.Load().(string)
	case stateDraining:
		b.Status, status = "shutting_down", http.StatusServiceUnavailable
	}
	if status != http.StatusOK {
		w.Header().Set("Retry-After", "1")
	}
	s.writeJSON(w, r, status, b)
}

func toModel(l models.Listed) openai.Model {
	m := openai.Model{ID: l.ID, Object: openai.ObjectModel, Created: l.Created.Unix(), OwnedBy: owner(l.ID),
		Capabilities: l.Info.Capabilities, SizeBytes: l.Info.SizeBytes, Loaded: l.Loaded}
	if l.ContextLength > 0 {
		n := l.ContextLength
		m.ContextLength = &n
	}
	if m.Capabilities == nil {
		m.Capabilities = []string{}
	}
	return m
}

// owner is the organization part of a repo id ("workspace" for folders).
func owner(id string) string {
	if strings.HasPrefix(id, "/") {
		return "workspace"
	}
	if org, _, ok := strings.Cut(id, "/"); ok {
		return org
	}
	return "mlxk"
}

func (s *Server) listModels(w http.ResponseWriter, r *http.Request) {
	list, ok := s.cachedModels(w, r)
	if !ok {
		return
	}
	if info(r).anthropic {
		out := openai.AnthropicModelList{Data: make([]openai.AnthropicModel, 0, len(list))}
		for _, l := range list {
			out.Data = append(out.Data, toAnthropicModel(l))
		}
		if len(list) > 0 {
			first, last := list[0].ID, list[len(list)-1].ID
			out.FirstID, out.LastID = &first, &last
		}
		s.writeJSON(w, r, http.StatusOK, out)
		return
	}
	out := openai.ModelList{Object: openai.ObjectList, Data: make([]openai.Model, 0, len(list))}
	for _, l := range list {
		out.Data = append(out.Data, toModel(l))
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// toAnthropicModel is a listed model in Anthropic's models API shape.
func toAnthropicModel(l models.Listed) openai.AnthropicModel {
	return openai.AnthropicModel{Type: "model", ID: l.ID, DisplayName: l.ID, CreatedAt: l.Created.UTC().Format(time.RFC3339)}
}

// getModel answers /v1/models/{id}: the listed model with that exact id.
func (s *Server) getModel(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(httprouter.ParamsFromContext(r.Context()).ByName("model"), "/")
	l, ok := s.listedModel(w, r, id, false)
	switch {
	case !ok:
	case info(r).anthropic:
		s.writeJSON(w, r, http.StatusOK, toAnthropicModel(l))
	default:
		s.writeJSON(w, r, http.StatusOK, toModel(l))
	}
}

// cachedModels is the registry's list of the models clients can ask for;
// ok is false when it answered the error instead.
func (s *Server) cachedModels(w http.ResponseWriter, r *http.Request) ([]models.Listed, bool) {
	list, err := s.reg.List()
	if err != nil {
		s.fail(w, r, openai.Errorf(http.StatusInternalServerError, openai.CodeInternal, "", "%v", err))
		return nil, false
	}
	return list, true
}

// listedModel finds one model of that list by its id or, with resolve, by
// any name the registry resolves to it (ollama's clients send short
// names); ok is false when it answered the error (404) instead.
func (s *Server) listedModel(w http.ResponseWriter, r *http.Request, name string, resolve bool) (models.Listed, bool) {
	list, ok := s.cachedModels(w, r)
	if !ok {
		return models.Listed{}, false
	}
	dir := ""
	if resolve {
		t, err := s.reg.Resolve(name, false)
		if err != nil {
			s.fail(w, r, modelError(err))
			return models.Listed{}, false
		}
		dir = t.Dir()
	}
	for _, l := range list {
		if l.ID == name || l.ID == "/"+name || (dir != "" && l.Dir == dir) {
			return l, true
		}
	}
	s.fail(w, r, openai.Errorf(http.StatusNotFound, openai.CodeModelNotFound, "model", "model %q is not available", name))
	return models.Listed{}, false
}

// psModel is one loaded model in /api/ps (after ollama's ps; name, size,
// size_vram and details are ollama's fields, for its clients).
type psModel struct {
	Name          string  `json:"name"`
	Model         string  `json:"model"`
	Size          int64   `json:"size"`
	SizeVRAM      int64   `json:"size_vram"`
	Details       any     `json:"details"`
	Path          string  `json:"path"`
	Status        string  `json:"status"` // loading, busy, idle
	SizeBytes     int64   `json:"size_bytes"`
	MemoryBytes   int64   `json:"memory_bytes"`
	ContextLength int     `json:"context_length"`
	LoadedAt      *string `json:"loaded_at"`
	ExpiresAt     *string `json:"expires_at"`
	KeepAlive     string  `json:"keep_alive"`
	Requests      int     `json:"requests"`
	Running       int     `json:"running"`
	Queued        int     `json:"queued"`
	PromptCache   struct {
		Entries int   `json:"entries"`
		Bytes   int64 `json:"bytes"`
	} `json:"prompt_cache"`
}

func (s *Server) ps(w http.ResponseWriter, r *http.Request) {
	out := struct {
		Models []psModel `json:"models"`
	}{Models: []psModel{}}
	for _, st := range s.reg.Loaded() {
		p := psModel{Name: st.ID, Model: st.ID, Size: st.MemoryBytes, Details: ollamaDetails(metadataOf(st.Dir)), Path: st.Dir, SizeBytes: st.SizeBytes, MemoryBytes: st.MemoryBytes,
			ContextLength: st.ContextLength, Requests: st.Active, Running: st.Batch.Active, Queued: st.Batch.Queued,
			KeepAlive: keepAliveString(st.KeepAlive)}
		p.PromptCache.Entries, p.PromptCache.Bytes = st.Batch.PromptCacheEntries, st.Batch.PromptCacheBytes
		switch {
		case st.Loading:
			p.Status = "loading"
		case st.Active > 0:
			p.Status = "busy"
		default:
			p.Status = "idle"
		}
		if !st.LoadedAt.IsZero() {
			t := st.LoadedAt.UTC().Format(time.RFC3339)
			p.LoadedAt = &t
		}
		if !st.ExpiresAt.IsZero() {
			t := st.ExpiresAt.UTC().Format(time.RFC3339)
			p.ExpiresAt = &t
		}
		out.Models = append(out.Models, p)
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func keepAliveString(d time.Duration) string {
	if d < 0 {
		return "forever"
	}
	return d.String()
}

// unload answers DELETE /api/ps/{model}: the model leaves memory now when
// idle, or when its running requests end.
func (s *Server) unload(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(httprouter.ParamsFromContext(r.Context()).ByName("model"), "/")
	id, now, ok := s.reg.Unload(name)
	if !ok {
		id, now, ok = s.reg.Unload("/" + name) // a workspace folder
	}
	if !ok {
		s.fail(w, r, openai.Errorf(http.StatusNotFound, openai.CodeModelNotFound, "model", "model %q is not loaded", name))
		return
	}
	status := "unloaded"
	if !now {
		status = "unloading" // when its running requests end
	}
	s.writeJSON(w, r, http.StatusOK, map[string]string{"model": id, "status": status})
}
