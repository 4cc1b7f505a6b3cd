package hubtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// hubError is an error answer in the Hub's shape: the status, the
// X-Error-Code / X-Error-Message headers clients classify errors by
// (hf-protocol §2.7), and {"error": message} as the body.
type hubError struct {
	status  int
	code    string // X-Error-Code; "" for none
	message string
	commit  string // X-Repo-Commit, sent with EntryNotFound on resolve
}

func (e *hubError) write(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Content-Type", "application/json; charset=utf-8")
	if e.code != "" {
		hd.Set("X-Error-Code", e.code)
	}
	hd.Set("X-Error-Message", e.message)
	if e.commit != "" {
		hd.Set("X-Repo-Commit", e.commit)
	}
	w.WriteHeader(e.status)
	json.NewEncoder(w).Encode(map[string]string{"error": e.message})
}

const msgInvalidCredentials = "Invalid credentials in Authorization header"

// caller is who sent a request: anonymous when token is "".
type caller struct {
	token, user string
}

// authenticate reads the bearer token. A token the hub does not know is
// an error on every route, as on the Hub, rather than a silent downgrade
// to anonymous: clients must surface it.
func (h *Hub) authenticate(r *http.Request) (caller, *hubError) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return caller{}, nil
	}
	token, ok := strings.CutPrefix(auth, "Bearer ")
	h.mu.RLock()
	user, known := h.tokens[token]
	h.mu.RUnlock()
	if !ok || !known {
		return caller{}, &hubError{status: http.StatusUnauthorized, message: msgInvalidCredentials}
	}
	return caller{token: token, user: user}, nil
}

// need says what a request wants from a repo: gating guards content only.
type need int

const (
	needMetadata need = iota
	needContent
)

// lookupRepo finds a repo and applies the §2.7 visibility table. A repo the
// caller may not see is indistinguishable from a missing one.
func (h *Hub) lookupRepo(c caller, id string, n need) (*repo, *hubError) {
	h.mu.RLock()
	rp := h.repos[id]
	h.mu.RUnlock()
	member := rp != nil && (c.user != "" && c.user == strings.Split(id, "/")[0] ||
		c.token != "" && slices.Contains(rp.opts.ApprovedTokens, c.token))
	if rp == nil || rp.opts.Private && !member {
		if c.token == "" {
			return nil, &hubError{status: http.StatusUnauthorized, code: "RepoNotFound", message: "Invalid username or password."}
		}
		return nil, &hubError{status: http.StatusNotFound, code: "RepoNotFound", message: "Repository not found"}
	}
	if rp.opts.Disabled {
		return nil, &hubError{status: http.StatusForbidden, message: "Access to this resource is disabled."}
	}
	if rp.opts.Gated && !member && (n == needContent || h.opts.StrictGated) {
		if c.token == "" {
			return nil, &hubError{status: http.StatusUnauthorized, code: "GatedRepo",
				message: fmt.Sprintf("Access to model %s is restricted. You must have access to it and be authenticated to access it. Please log in.", id)}
		}
		return nil, &hubError{status: http.StatusForbidden, code: "GatedRepo",
			message: fmt.Sprintf("Access to model %s is restricted and you are not in the authorized list. Visit %s/%s to ask for access.", id, h.URL, id)}
	}
	return rp, nil
}

// resolveRev finds the commit of a revision or answers RevisionNotFound.
// lookupCommit finds the repo and the commit a request names, checking
// access; on failure it writes the Hub's error and returns false.
func (h *Hub) lookupCommit(w http.ResponseWriter, c caller, rt route, n need) (*repo, *commit, bool) {
	rp, herr := h.lookupRepo(c, rt.repoID, n)
	if herr == nil {
		var cm *commit
		if cm, herr = resolveRev(rp, rt.rev); herr == nil {
			return rp, cm, true
		}
	}
	herr.write(w)
	return nil, nil, false
}

func resolveRev(rp *repo, rev string) (*commit, *hubError) {
	if c := rp.resolve(rev); c != nil {
		return c, nil
	}
	return nil, &hubError{status: http.StatusNotFound, code: "RevisionNotFound", message: "Invalid rev id: " + rev}
}

func entryNotFound(p, rev, commit string) *hubError {
	return &hubError{status: http.StatusNotFound, code: "EntryNotFound",
		message: fmt.Sprintf("%s does not exist on %q", p, rev), commit: commit}
}
