package hubtest

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// readJSON decodes a JSON request body of at most limit bytes into v; an
// empty body leaves v alone when emptyOK (POST …/branch/{b} may send none).
func readJSON(w http.ResponseWriter, r *http.Request, limit int64, v any, emptyOK bool) *hubError {
	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit)).Decode(v)
	if err == nil || emptyOK && errors.Is(err, io.EOF) {
		return nil
	}
	return &hubError{status: http.StatusBadRequest, message: "Invalid JSON body: " + err.Error()}
}

// repoRef is how create and delete name a repo: the namespace apart, null
// (or absent) for the caller's own.
type repoRef struct {
	Name         string  `json:"name"`
	Organization *string `json:"organization"`
	Type         string  `json:"type"`
}

// id checks the name and the type and returns org/name; the fake serves
// model repos only, so a dataset or space is a 400 rather than a repo
// that downloads could never reach.
func (ref repoRef) id(c caller) (string, *hubError) {
	if ref.Type != "" && ref.Type != "model" {
		return "", &hubError{status: http.StatusBadRequest, message: fmt.Sprintf("hubtest: only model repos are served, not type %q", ref.Type)}
	}
	ns := c.user
	if ref.Organization != nil {
		ns = *ref.Organization
	}
	if ref.Name == "" || strings.Contains(ref.Name, "/") {
		return "", &hubError{status: http.StatusBadRequest, message: fmt.Sprintf("Invalid repo name %q", ref.Name)}
	}
	if ns == "" {
		return "", nil // anonymous: canWrite answers 401
	}
	id := ns + "/" + ref.Name
	if checkRepoID(id) != nil {
		return "", &hubError{status: http.StatusBadRequest, message: fmt.Sprintf("Invalid repo name %q", id)}
	}
	return id, nil
}

// serveCreateRepo answers POST /api/repos/create (hf-protocol §4.2). The
// new repo's main branch holds one commit with the Hub's default
// .gitattributes, so it has a sha at once and preupload sends *.safetensors
// and the like to LFS.
func (h *Hub) serveCreateRepo(w http.ResponseWriter, r *http.Request, c caller, m match) {
	var req struct {
		repoRef
		Private    *bool  `json:"private"`
		Visibility string `json:"visibility"`
	}
	id, ok := h.decodeRepoRequest(w, r, c, &req)
	if !ok {
		return
	}
	// Python >= 1.9 sends visibility, older clients private; both count.
	var opts RepoOptions
	switch req.Visibility {
	case "":
		opts.Private = req.Private != nil && *req.Private
	case "public", "private":
		opts.Private = req.Visibility == "private"
	default:
		(&hubError{status: http.StatusBadRequest, message: fmt.Sprintf("Invalid visibility %q", req.Visibility)}).write(w)
		return
	}
	url := h.URL + "/" + id
	h.mu.Lock()
	if h.repos[id] != nil {
		h.mu.Unlock()
		// The url lets huggingface_hub's exist_ok treat the 409 as success.
		(&hubError{status: http.StatusConflict, message: "You already created this model repo",
			extra: map[string]any{"url": url}}).write(w)
		return
	}
	rp := &repo{id: id, opts: opts, branches: map[string]*commit{}, tags: map[string]*commit{}, commits: map[string]*commit{}}
	gitattributes := makeFile(".gitattributes", []byte(DefaultGitattributes), false)
	cm := newUploadCommit(id, nil, "initial commit", "", map[string]*file{".gitattributes": gitattributes})
	rp.branches["main"], rp.commits[cm.id] = cm, cm
	h.repos[id] = rp
	h.mu.Unlock()
	idSum := sha1.Sum([]byte(id))
	h.serveJSON(w, r, m, map[string]any{"url": url, "name": id, "id": hex.EncodeToString(idSum[:12])}, nil)
}

// serveDeleteRepo answers DELETE /api/repos/delete (§4.2).
func (h *Hub) serveDeleteRepo(w http.ResponseWriter, r *http.Request, c caller, m match) {
	var req repoRef
	id, ok := h.decodeRepoRequest(w, r, c, &req)
	if !ok {
		return
	}
	h.mu.Lock()
	found := h.repos[id] != nil
	delete(h.repos, id)
	h.mu.Unlock()
	if !found {
		(&hubError{status: http.StatusNotFound, code: "RepoNotFound", message: "Repository not found"}).write(w)
		return
	}
	h.serveJSON(w, r, m, map[string]any{}, nil)
}

// updateRepo applies change to a copy of the repo id and serves the copy,
// all under h.mu, so that concurrent writes serialize and readers never
// see a half-made change (see repo).
func (h *Hub) updateRepo(id string, change func(next *repo) *hubError) *hubError {
	h.mu.Lock()
	defer h.mu.Unlock()
	cur := h.repos[id]
	if cur == nil { // deleted since the handler looked it up
		return &hubError{status: http.StatusNotFound, code: "RepoNotFound", message: "Repository not found"}
	}
	next := cur.clone()
	if herr := change(next); herr != nil {
		return herr
	}
	h.repos[id] = next
	return nil
}

// decodeRepoRequest decodes a JSON body naming a repo (repoRef fields) into req
// and checks the caller may write to its namespace; on failure it writes
// the Hub's error and returns false.
func (h *Hub) decodeRepoRequest(w http.ResponseWriter, r *http.Request, c caller, req interface {
	id(caller) (string, *hubError)
}) (string, bool) {
	if herr := readJSON(w, r, 1<<20, req, false); herr != nil {
		herr.write(w)
		return "", false
	}
	id, herr := req.id(c)
	if herr == nil {
		herr = h.canWrite(c, namespace(id))
	}
	if herr != nil {
		herr.write(w)
		return "", false
	}
	return id, true
}
