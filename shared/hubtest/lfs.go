package hubtest

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"time"
)

// lfsContentType is the media type of the Git LFS batch API.
const lfsContentType = "application/vnd.git-lfs+json"

type lfsObject struct {
	OID  string `json:"oid"`
	Size int64  `json:"size"`
}

type lfsAction struct {
	Href      string            `json:"href"`
	Header    map[string]string `json:"header"`
	ExpiresAt string            `json:"expires_at,omitempty"`
}

type lfsObjectError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// lfsBatchObject is one object of a batch answer: no actions when the Hub
// already has it, upload and verify actions when it needs it, or an error.
type lfsBatchObject struct {
	lfsObject
	Authenticated bool                 `json:"authenticated,omitempty"`
	Actions       map[string]lfsAction `json:"actions,omitempty"`
	Error         *lfsObjectError      `json:"error,omitempty"`
}

func isSHA256(s string) bool { return isLowerHex(s, 64) }

// serveBatch answers POST /{repo}.git/info/lfs/objects/batch for uploads
// (hf-protocol §4.5). The transfer is always "basic", whatever else the
// client offers (multipart, xet): a client must honour the server's
// choice. Each object the Hub lacks gets a presigned PUT to the CDN and a
// verify action; its announced size is what the CDN will accept.
func (h *Hub) serveBatch(w http.ResponseWriter, r *http.Request, c caller, rt route, m match) {
	if _, herr := h.writableRepo(c, rt.repoID); herr != nil {
		herr.write(w)
		return
	}
	var req struct {
		Operation string      `json:"operation"`
		Transfers []string    `json:"transfers"`
		Objects   []lfsObject `json:"objects"`
		HashAlgo  string      `json:"hash_algo"`
	}
	if herr := readJSON(w, r, 16<<20, &req, false); herr != nil {
		herr.write(w)
		return
	}
	if req.Operation != "upload" {
		badRequest("hubtest: only the upload operation is served, not %q", req.Operation).write(w)
		return
	}
	// git-lfs spells it sha256; huggingface.js sends sha_256. Both mean
	// the same object ids.
	if req.HashAlgo != "" && req.HashAlgo != "sha256" && req.HashAlgo != "sha_256" {
		(&hubError{status: http.StatusConflict, message: fmt.Sprintf("Unsupported hash algorithm %q", req.HashAlgo)}).write(w)
		return
	}
	verifyURL := h.URL + "/" + rt.repoID + ".git/info/lfs/objects/verify"
	out := make([]lfsBatchObject, 0, len(req.Objects))
	h.mu.Lock()
	for _, o := range req.Objects {
		bo := lfsBatchObject{lfsObject: o}
		stored := h.objects[o.OID]
		switch {
		case !isSHA256(o.OID):
			bo.Error = &lfsObjectError{Code: http.StatusUnprocessableEntity, Message: "Invalid object id: want 64 lowercase hex digits"}
		case o.Size < 0:
			bo.Error = &lfsObjectError{Code: http.StatusUnprocessableEntity, Message: "Invalid object size"}
		case stored != nil && int64(len(stored.content)) != o.Size:
			bo.Error = &lfsObjectError{Code: http.StatusUnprocessableEntity,
				Message: fmt.Sprintf("Object %s is stored with size %d, not %d", o.OID, len(stored.content), o.Size)}
		case stored != nil:
			// Already stored: no actions, the client skips the upload.
		default:
			h.announced[o.OID] = o.Size
			href, exp := h.presignPath("/upload/" + o.OID)
			bo.Authenticated = true
			bo.Actions = map[string]lfsAction{
				"upload": {Href: href, Header: map[string]string{}, ExpiresAt: exp.UTC().Format(time.RFC3339)},
				// The verify call goes to the hub, with the caller's
				// credentials, as git-lfs servers hand them out.
				"verify": {Href: verifyURL, Header: map[string]string{"Authorization": r.Header.Get("Authorization")},
					ExpiresAt: exp.UTC().Format(time.RFC3339)},
			}
		}
		out = append(out, bo)
	}
	h.mu.Unlock()
	h.serveJSON(w, r, m, map[string]any{"transfer": "basic", "objects": out, "hash_algo": "sha256"},
		http.Header{"Content-Type": {lfsContentType}})
}

// serveVerify answers POST /{repo}.git/info/lfs/objects/verify
// {"oid","size"}: 200 when the Hub holds the object at that size, 404
// otherwise, so a client learns that an upload it thought done was lost.
func (h *Hub) serveVerify(w http.ResponseWriter, r *http.Request, c caller, rt route, m match) {
	if _, herr := h.writableRepo(c, rt.repoID); herr != nil {
		herr.write(w)
		return
	}
	var req lfsObject
	if herr := readJSON(w, r, 1<<20, &req, false); herr != nil {
		herr.write(w)
		return
	}
	h.mu.RLock()
	obj := h.objects[req.OID]
	h.mu.RUnlock()
	if obj == nil || int64(len(obj.content)) != req.Size {
		(&hubError{status: http.StatusNotFound, message: fmt.Sprintf("Object %s of size %d not found", req.OID, req.Size)}).write(w)
		return
	}
	h.serveJSON(w, r, m, map[string]any{}, http.Header{"Content-Type": {lfsContentType}})
}

// serveUpload takes PUT /upload/{sha256} on the CDN, the "basic" transfer
// of an object announced by a batch: like S3 behind a presigned URL it
// refuses Authorization and bad signatures, wants a Content-Length (a
// chunked PUT gets 411), and stores the body only when its size is the
// announced one and it hashes to the sha256 of its URL.
func (h *Hub) serveUpload(w http.ResponseWriter, r *http.Request, sha string) {
	m := match{route: RouteUpload, method: r.Method, paths: []string{sha}}
	if !h.earlyFaults(w, r, m) {
		return
	}
	if r.Method != http.MethodPut {
		w.Header().Set("Allow", "PUT")
		cdnError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	if r.Header.Get("Authorization") != "" {
		cdnError(w, http.StatusBadRequest, msgTwoAuth)
		return
	}
	if !isSHA256(sha) {
		cdnError(w, http.StatusNotFound, "NoSuchKey")
		return
	}
	if !h.checkSignature(w, r, "/upload/"+sha) {
		return
	}
	h.mu.RLock()
	size, announced := h.announced[sha]
	h.mu.RUnlock()
	switch {
	case !announced:
		cdnError(w, http.StatusBadRequest, "hubtest: no batch announced object "+sha)
		return
	case r.ContentLength < 0:
		cdnError(w, http.StatusLengthRequired, "MissingContentLength: You must provide the Content-Length HTTP header.")
		return
	case r.ContentLength != size:
		cdnError(w, http.StatusBadRequest, fmt.Sprintf("hubtest: Content-Length %d, but the batch announced %d bytes", r.ContentLength, size))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, size+1))
	if err != nil {
		cdnError(w, http.StatusBadRequest, "IncompleteBody: "+err.Error())
		return
	}
	if int64(len(body)) != size {
		cdnError(w, http.StatusBadRequest, fmt.Sprintf("IncompleteBody: got %d bytes, want %d", len(body), size))
		return
	}
	if sum := sha256.Sum256(body); hex.EncodeToString(sum[:]) != sha {
		cdnError(w, http.StatusBadRequest, "BadDigest: the body does not hash to "+sha)
		return
	}
	h.mu.Lock()
	if h.objects[sha] == nil {
		h.objects[sha] = &object{sha256: sha, content: body, names: map[string]bool{}}
	}
	h.mu.Unlock()
	h.uploaded.Add(size)
	sum := md5.Sum(body)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}
