package hubtest

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// object is LFS content the CDN serves, with the repo paths it appears
// under (for Content-Disposition and for faults that name a file).
type object struct {
	sha256  string
	content []byte
	names   map[string]bool
}

// addObject registers an LFS file's content; h.mu must be held.
func (h *Hub) addObject(f *file) {
	o := h.objects[f.sha256]
	if o == nil {
		o = &object{sha256: f.sha256, content: f.content, names: map[string]bool{}}
		h.objects[f.sha256] = o
	}
	o.names[f.path] = true
}

// sign is the fake presigned-URL signature: an HMAC of the object path and
// the expiry with a secret only this hub knows.
func (h *Hub) sign(objPath string, expires int64) string {
	mac := hmac.New(sha256.New, h.secret)
	fmt.Fprintf(mac, "%s\n%d", objPath, expires)
	return hex.EncodeToString(mac.Sum(nil))
}

// presign returns the absolute CDN URL a resolve of an LFS file redirects to.
func (h *Hub) presign(sha string) string {
	u, _ := h.presignPath("/lfs/" + sha)
	return u
}

// presignPath signs a CDN path (/lfs/… to download, /upload/… to upload)
// and returns the URL and its expiry.
func (h *Hub) presignPath(p string) (string, time.Time) {
	exp := h.opts.Now().Add(h.opts.URLExpiry)
	return fmt.Sprintf("%s%s?X-Amz-Signature=%s&Expires=%d", h.CDNURL, p, h.sign(p, exp.Unix()), exp.Unix()), exp
}

// checkSignature answers 403 as S3 does to a URL this hub did not sign
// for objPath, or one that has expired; it reports whether the URL is good.
func (h *Hub) checkSignature(w http.ResponseWriter, r *http.Request, objPath string) bool {
	q := r.URL.Query()
	exp, err := strconv.ParseInt(q.Get("Expires"), 10, 64)
	sig := q.Get("X-Amz-Signature")
	if err != nil || !hmac.Equal([]byte(sig), []byte(h.sign(objPath, exp))) {
		cdnError(w, http.StatusForbidden, "SignatureDoesNotMatch")
		return false
	}
	if h.opts.Now().After(time.Unix(exp, 0)) {
		cdnError(w, http.StatusForbidden, "Request has expired")
		return false
	}
	return true
}

// msgTwoAuth is what S3 says when a presigned URL also carries a token.
const msgTwoAuth = "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified"

// cdnError answers in plain text: the CDN is not the Hub and sends none of
// its error headers.
func cdnError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
}

// serveCDN serves LFS content at /lfs/{sha256} like an S3 bucket behind
// presigned URLs: no Authorization allowed, signature required, Range
// honoured (206 with Content-Range, 416 past the end). PUT /upload/{sha256}
// takes uploads (serveUpload).
func (h *Hub) serveCDN(w http.ResponseWriter, r *http.Request) {
	if sha, up := strings.CutPrefix(r.URL.EscapedPath(), "/upload/"); up {
		h.serveUpload(w, r, sha)
		return
	}
	sha, ok := strings.CutPrefix(r.URL.EscapedPath(), "/lfs/")
	h.mu.RLock()
	obj := h.objects[sha]
	var names []string
	if obj != nil {
		names = slices.Sorted(maps.Keys(obj.names))
	}
	h.mu.RUnlock()
	m := match{route: RouteCDN, method: r.Method, hasRange: r.Header.Get("Range") != ""}
	if obj != nil {
		m.paths = append([]string{sha}, names...)
	}
	if !h.earlyFaults(w, r, m) {
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		cdnError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	if r.Header.Get("Authorization") != "" {
		cdnError(w, http.StatusBadRequest, msgTwoAuth)
		return
	}
	if !ok || len(sha) != 64 {
		cdnError(w, http.StatusNotFound, "NoSuchKey")
		return
	}
	if !h.checkSignature(w, r, "/lfs/"+sha) {
		return
	}
	if obj == nil {
		cdnError(w, http.StatusNotFound, "NoSuchKey")
		return
	}
	name := sha
	if len(names) > 0 {
		name = path.Base(names[0])
	}
	w.Header().Set("Content-Type", "binary/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf("inline; filename=%q;", name))
	// Object stores answer with their own ETag (S3: the md5 of a single-part
	// object), never the sha256 the Hub names LFS files by; huggingface.js
	// requires one on the final response.
	sum := md5.Sum(obj.content)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
	h.serveBody(w, r, m, name, obj.content, true)
}
