package hubtest

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// serveInfo answers /api/models/{repo}[/revision/{rev}] (hf-protocol §3.1).
func (h *Hub) serveInfo(w http.ResponseWriter, r *http.Request, c caller, rt route, m match) {
	rp, cm, ok := h.lookupCommit(w, c, rt, needMetadata)
	if !ok {
		return
	}
	q := r.URL.Query()
	blobs := q.Get("blobs") == "true" || q.Get("blobs") == "1"
	siblings := make([]map[string]any, 0, len(cm.paths))
	for _, p := range cm.paths {
		f := cm.files[p]
		s := map[string]any{"rfilename": p}
		if blobs {
			s["blobId"] = f.blobID
			s["size"] = len(f.content)
			if f.lfs {
				s["lfs"] = map[string]any{"sha256": f.sha256, "size": len(f.content), "pointerSize": f.pointerSize}
			}
		}
		siblings = append(siblings, s)
	}
	org, _, _ := strings.Cut(rp.id, "/")
	var gated any = false
	if rp.opts.Gated {
		gated = "manual"
	}
	modified := rp.opts.LastModified
	if modified.IsZero() {
		modified = defaultLastModified
	}
	idSum := sha1.Sum([]byte(rp.id))
	info := map[string]any{
		"_id":          hex.EncodeToString(idSum[:12]),
		"id":           rp.id,
		"modelId":      rp.id,
		"author":       org,
		"sha":          cm.id,
		"lastModified": modified.UTC().Format("2006-01-02T15:04:05.000Z"),
		"createdAt":    modified.UTC().Format("2006-01-02T15:04:05.000Z"),
		"private":      rp.opts.Private,
		"gated":        gated,
		"disabled":     rp.opts.Disabled,
		"downloads":    0,
		"likes":        0,
		"tags":         []string{},
		"siblings":     siblings,
	}
	if cfg := configSummary(cm); cfg != nil {
		info["config"] = cfg
	}
	// expand= narrows the answer to the listed properties (plus the ids).
	if props := q["expand"]; len(props) > 0 {
		for k := range info {
			if k != "_id" && k != "id" && !slices.Contains(props, k) {
				delete(info, k)
			}
		}
	}
	h.serveJSON(w, r, m, info, nil)
}

// configSummary is the part of config.json the Hub echoes in model info.
func configSummary(cm *commit) map[string]any {
	f := cm.files["config.json"]
	if f == nil || f.lfs {
		return nil
	}
	var cfg map[string]any
	if json.Unmarshal(f.content, &cfg) != nil {
		return nil
	}
	out := map[string]any{}
	for _, k := range []string{"architectures", "model_type"} {
		if v, ok := cfg[k]; ok {
			out[k] = v
		}
	}
	return out
}

// serveTree answers /api/models/{repo}/tree/{rev}[/{path}] (§3.3), one
// page at a time: the next page is announced in a Link header whose URL
// carries an opaque cursor, as the Hub does.
func (h *Hub) serveTree(w http.ResponseWriter, r *http.Request, c caller, rt route, m match) {
	_, cm, ok := h.lookupCommit(w, c, rt, needMetadata)
	if !ok {
		return
	}
	q := r.URL.Query()
	entries, ok := cm.tree(rt.path, q.Get("recursive") == "true" || q.Get("recursive") == "1")
	if !ok && rt.path != "" {
		entryNotFound(rt.path, rt.rev, "").write(w)
		return
	}
	start := 0
	if cur := q.Get("cursor"); cur != "" {
		n, err := decodeCursor(cur)
		if err != nil || n > len(entries) {
			(&hubError{status: http.StatusBadRequest, message: "Invalid cursor"}).write(w)
			return
		}
		start = n
	}
	h.mu.RLock()
	size := h.pageSize
	h.mu.RUnlock()
	end := min(start+size, len(entries))
	var hdr http.Header
	if end < len(entries) {
		q.Set("cursor", encodeCursor(end))
		next := h.URL + r.URL.EscapedPath() + "?" + q.Encode()
		hdr = http.Header{"Link": {fmt.Sprintf("<%s>; rel=\"next\"", next)}}
	}
	h.serveJSON(w, r, m, entries[start:end], hdr)
}

// Cursors are opaque to clients; the offset inside is a detail of the fake.
func encodeCursor(n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(n)))
}

func decodeCursor(s string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, err
	}
	n, ok := strings.CutPrefix(string(b), "offset:")
	if !ok {
		return 0, fmt.Errorf("cursor %q", s)
	}
	return strconv.Atoi(n)
}

type refJSON struct {
	Name         string `json:"name"`
	Ref          string `json:"ref"`
	TargetCommit string `json:"targetCommit"`
}

// serveRefs answers /api/models/{repo}/refs[?include_prs=1] (§3.5).
func (h *Hub) serveRefs(w http.ResponseWriter, r *http.Request, c caller, rt route, m match) {
	rp, herr := h.lookupRepo(c, rt.repoID, needMetadata)
	if herr != nil {
		herr.write(w)
		return
	}
	branches, tags, prs := []refJSON{}, []refJSON{}, []refJSON{}
	for name, cm := range rp.branches {
		if strings.HasPrefix(name, "refs/pr/") {
			prs = append(prs, refJSON{Name: name, Ref: name, TargetCommit: cm.id})
			continue
		}
		branches = append(branches, refJSON{Name: name, Ref: "refs/heads/" + name, TargetCommit: cm.id})
	}
	for name, cm := range rp.tags {
		tags = append(tags, refJSON{Name: name, Ref: "refs/tags/" + name, TargetCommit: cm.id})
	}
	for _, l := range [][]refJSON{branches, tags, prs} {
		slices.SortFunc(l, func(a, b refJSON) int { return strings.Compare(a.Name, b.Name) })
	}
	out := map[string]any{"branches": branches, "converts": []refJSON{}, "tags": tags}
	if v := r.URL.Query().Get("include_prs"); v == "1" || v == "true" {
		out["pullRequests"] = prs
	}
	h.serveJSON(w, r, m, out, nil)
}

// serveWhoami answers /api/whoami-v2 (§5) for a known token.
func (h *Hub) serveWhoami(w http.ResponseWriter, c caller) {
	if c.user == "" {
		(&hubError{status: http.StatusUnauthorized, message: "Invalid username or password."}).write(w)
		return
	}
	idSum := sha1.Sum([]byte("user:" + c.user))
	// The role says what the token may do: "write" unless it was made
	// read-only; orgs are the namespaces the user writes to besides its own.
	h.mu.RLock()
	role := "write"
	if h.readOnly[c.token] {
		role = "read"
	}
	orgs := []any{}
	for _, o := range h.orgs[c.user] {
		oSum := sha1.Sum([]byte("org:" + o))
		orgs = append(orgs, map[string]any{"type": "org", "id": hex.EncodeToString(oSum[:12]), "name": o, "fullname": o})
	}
	h.mu.RUnlock()
	writeJSON(w, map[string]any{
		"type": "user", "id": hex.EncodeToString(idSum[:12]), "name": c.user, "fullname": c.user,
		"email": c.user + "@example.com", "emailVerified": true, "isPro": false, "canPay": false,
		"avatarUrl": "", "periodEnd": nil, "orgs": orgs,
		"auth": map[string]any{"type": "access_token", "accessToken": map[string]any{
			"displayName": "hubtest", "role": role,
			"createdAt": defaultLastModified.Format(time.RFC3339)}},
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

// serveJSON sends an API answer through the body faults of its route.
func (h *Hub) serveJSON(w http.ResponseWriter, r *http.Request, m match, v any, hdr http.Header) {
	b, err := json.Marshal(v)
	if err != nil {
		(&hubError{status: http.StatusInternalServerError, message: "hubtest: " + err.Error()}).write(w)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	for k, vs := range hdr { // may replace the Content-Type
		w.Header()[k] = vs
	}
	h.serveBody(w, r, m, "", b, false)
}

// pathsEntry is a tree entry with the lastCommit that paths-info adds
// when asked to expand (huggingface.js names snapshots after it).
type pathsEntry struct {
	treeEntry
	LastCommit *lastCommit `json:"lastCommit,omitempty"`
}

type lastCommit struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Date  string `json:"date"`
}

// servePathsInfo answers POST /api/models/{repo}/paths-info/{rev} (§3.4)
// with the entries of the paths that exist. The body is JSON
// ({"paths": [...], "expand": bool}, as huggingface.js sends it) or a form
// (paths=a&paths=b&expand=true, as huggingface_hub does).
func (h *Hub) servePathsInfo(w http.ResponseWriter, r *http.Request, c caller, rt route, m match) {
	rp, cm, ok := h.lookupCommit(w, c, rt, needMetadata)
	if !ok {
		return
	}
	var req struct {
		Paths  []string `json:"paths"`
		Expand bool     `json:"expand"`
	}
	body := http.MaxBytesReader(w, r.Body, 1<<20)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.NewDecoder(body).Decode(&req); err != nil {
			(&hubError{status: http.StatusBadRequest, message: "Invalid JSON body"}).write(w)
			return
		}
	} else {
		r.Body = body
		if err := r.ParseForm(); err != nil {
			(&hubError{status: http.StatusBadRequest, message: "Invalid form body"}).write(w)
			return
		}
		req.Paths = r.PostForm["paths"]
		req.Expand = r.PostForm.Get("expand") == "true"
	}
	all, _ := cm.tree("", true)
	byPath := make(map[string]treeEntry, len(all))
	for _, e := range all {
		byPath[e.Path] = e
	}
	out := []pathsEntry{}
	for _, p := range req.Paths {
		e, found := byPath[strings.Trim(p, "/")]
		if !found {
			continue
		}
		pe := pathsEntry{treeEntry: e}
		if req.Expand {
			title := cm.title
			if title == "" {
				title = "Upload " + e.Path
			}
			pe.LastCommit = &lastCommit{ID: cm.id, Title: title, Date: rp.opts.LastModified.UTC().Format("2006-01-02T15:04:05.000Z")}
		}
		out = append(out, pe)
	}
	h.serveJSON(w, r, m, out, nil)
}
