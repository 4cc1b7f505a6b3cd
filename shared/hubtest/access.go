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
	commit  string         // X-Repo-Commit, sent with EntryNotFound on resolve
	extra   map[string]any // more body fields, e.g. the url of a 409 on create
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
	body := map[string]any{"error": e.message}
	for k, v := range e.extra {
		body[k] = v
	}
	json.NewEncoder(w).Encode(body)
}

const msgInvalidCredentials = "Invalid credentials in Authorization header"

// caller is who sent a request: anonymous when token is "".
type caller struct {
	token, user string
}

// authenticate reads the bearer token. A token the hub does not know is
// an error on every route, as on the Hub, rather than a silent downgrade
// to anonymous: clients must surface it. basic also accepts HTTP Basic
// with the token as password, which git-lfs and older huggingface_hub
// send to the Git LFS routes (batch, verify).
func (h *Hub) authenticate(r *http.Request, basic bool) (caller, *hubError) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return caller{}, nil
	}
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok && basic {
		_, token, ok = r.BasicAuth()
	}
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
	member := rp != nil && (h.inNamespace(c.user, namespace(id)) ||
		c.token != "" && slices.Contains(rp.opts.ApprovedTokens, c.token))
	h.mu.RUnlock()
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

// resolveRev finds the commit of a revision or answers RevisionNotFound.
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

// namespace is the org (or user) part of a repo id.
func namespace(id string) string {
	ns, _, _ := strings.Cut(id, "/")
	return ns
}

// inNamespace reports whether user owns namespace ns: it is the user's
// name or one of the user's orgs. h.mu must be held (read).
func (h *Hub) inNamespace(user, ns string) bool {
	return user != "" && (user == ns || slices.Contains(h.orgs[user], ns))
}

// msgAnonymous is what the Hub says to a write without a token; it is the
// line users who forgot to log in see in huggingface_hub's errors.
const msgAnonymous = "Invalid username or password."

// canWrite checks that c may write in namespace ns: 401 without a token,
// 403 "You don't have the rights…" for another user's namespace or a
// read-only token (hf-protocol §2.7, §6.2 row 7).
func (h *Hub) canWrite(c caller, ns string) *hubError {
	if c.token == "" {
		return &hubError{status: http.StatusUnauthorized, message: msgAnonymous}
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.readOnly[c.token] {
		return &hubError{status: http.StatusForbidden,
			message: fmt.Sprintf("You don't have the rights to write to namespace %q: this token has the read role", ns)}
	}
	if !h.inNamespace(c.user, ns) {
		return &hubError{status: http.StatusForbidden,
			message: fmt.Sprintf("You don't have the rights to write to namespace %q", ns)}
	}
	return nil
}

// writableRepo finds a repo the caller writes to. An anonymous write
// answers 401 RepoNotFound "Invalid username or password.", as the Hub
// does to a push without a token; a repo the caller cannot see answers as
// lookupRepo does; a visible repo outside the caller's namespaces 403.
func (h *Hub) writableRepo(c caller, id string) (*repo, *hubError) {
	if c.token == "" {
		return nil, &hubError{status: http.StatusUnauthorized, code: "RepoNotFound", message: msgAnonymous}
	}
	rp, herr := h.lookupRepo(c, id, needMetadata)
	if herr != nil {
		return nil, herr
	}
	if herr := h.canWrite(c, namespace(id)); herr != nil {
		return nil, herr
	}
	return rp, nil
}
