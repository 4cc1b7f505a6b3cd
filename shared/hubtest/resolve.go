package hubtest

import (
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// serveResolve answers HEAD/GET /{org}/{name}/resolve/{rev}/{path}
// (hf-protocol §2.3, §6.2 row 1). Regular files are served here with their
// git sha1 as ETag; LFS files redirect to the CDN, and their metadata is in
// the redirect itself (X-Linked-Etag, X-Linked-Size), because the CDN's
// answer carries none of the X-* headers.
func (h *Hub) serveResolve(w http.ResponseWriter, r *http.Request, c caller, rt route, m match) {
	_, cm, ok := h.lookupCommit(w, c, rt, needContent)
	if !ok {
		return
	}
	f := cm.files[rt.path]
	if f == nil {
		entryNotFound(rt.path, rt.rev, cm.id).write(w)
		return
	}
	hd := w.Header()
	hd.Set("X-Repo-Commit", cm.id)
	hd.Set("Accept-Ranges", "bytes")
	if !f.lfs && !rt.cached && h.relativeRedirects() {
		// As the Hub does since 2025: a relative redirect whose target
		// carries the file's headers; clients must follow it by path.
		loc := "/api/resolve-cache/models/" + rt.repoID + "/" + cm.id + "/" + escapePath(f.path) +
			"?%2F" + url.QueryEscape(rt.repoID+"/resolve/"+rt.rev+"/"+f.path) + "=&etag=" + url.QueryEscape(strconv.Quote(f.blobID))
		hd.Del("X-Repo-Commit")
		hd.Set("Location", loc)
		w = h.headerFaults(w, m)
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	if !f.lfs {
		hd.Set("ETag", strconv.Quote(f.blobID))
		hd.Set("Content-Type", contentType(f.path))
		h.serveBody(w, r, m, path.Base(f.path), f.content, true)
		return
	}
	loc := h.presign(f.sha256)
	// The ETag of the redirect is the pointer's git sha1: deliberately not
	// the content hash, so a client that names blobs by it is caught.
	hd.Set("ETag", strconv.Quote(f.blobID))
	hd.Set("X-Linked-Etag", strconv.Quote(f.sha256))
	hd.Set("X-Linked-Size", strconv.Itoa(len(f.content)))
	hd.Set("Location", loc)
	hd.Set("Content-Type", "text/plain; charset=utf-8")
	body := fmt.Sprintf("Found. Redirecting to %s", loc)
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w = h.headerFaults(w, m)
	w.WriteHeader(http.StatusFound)
	if r.Method == http.MethodGet {
		w.Write([]byte(body))
	}
}

// contentType is what the Hub sends for small text files.
func contentType(p string) string {
	switch path.Ext(p) {
	case ".json":
		return "application/json; charset=utf-8"
	case ".md", ".txt", ".jinja", ".py", ".yaml", ".yml", ".gitattributes", "":
		return "text/plain; charset=utf-8"
	}
	return "application/octet-stream"
}

// escapePath escapes each segment of a file path, keeping the slashes.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}
