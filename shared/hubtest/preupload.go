package hubtest

import (
	"bytes"
	"encoding/base64"
	"net/http"
)

// preuploadFile is one file a client announces (hf-protocol §4.4).
type preuploadFile struct {
	Path   string `json:"path"`
	Sample string `json:"sample"` // base64 of the first ≤512 bytes
	Size   int64  `json:"size"`
}

// preuploadAnswer is the Hub's verdict on one file; Oid is there only for
// a path that exists at the revision, so clients can skip unchanged files.
type preuploadAnswer struct {
	Path         string `json:"path"`
	UploadMode   string `json:"uploadMode"`
	ShouldIgnore bool   `json:"shouldIgnore"`
	OID          string `json:"oid,omitempty"`
}

// servePreupload answers POST /api/models/{repo}/preupload/{rev}: per file
// "lfs" or "regular", whether .gitignore skips it, and its current oid.
func (h *Hub) servePreupload(w http.ResponseWriter, r *http.Request, c caller, rt route, m match) {
	rp, herr := h.writableRepo(c, rt.repoID)
	if herr != nil {
		herr.write(w)
		return
	}
	cm, herr := resolveRev(rp, rt.rev)
	if herr != nil {
		herr.write(w)
		return
	}
	var req struct {
		Files         []preuploadFile `json:"files"`
		GitIgnore     *string         `json:"gitIgnore"`
		GitAttributes *string         `json:"gitAttributes"` // huggingface.js
	}
	if herr := readJSON(w, r, 16<<20, &req, false); herr != nil {
		herr.write(w)
		return
	}
	// The request's files win over the revision's: they are what the
	// commit will contain.
	attrs, ignore := regularContent(cm, ".gitattributes"), regularContent(cm, ".gitignore")
	if req.GitAttributes != nil {
		attrs = *req.GitAttributes
	}
	if req.GitIgnore != nil {
		ignore = *req.GitIgnore
	}
	out := make([]preuploadAnswer, 0, len(req.Files))
	for _, f := range req.Files {
		if f.Path == "" {
			badRequest("Invalid path %q", f.Path).write(w)
			return
		}
		sample, err := base64.StdEncoding.DecodeString(f.Sample)
		if err != nil {
			badRequest("%s: sample is not base64: %v", f.Path, err).write(w)
			return
		}
		a := preuploadAnswer{Path: f.Path, UploadMode: "regular", ShouldIgnore: gitIgnored(ignore, f.Path)}
		if h.lfsMode(attrs, f, sample) {
			a.UploadMode = "lfs"
		}
		if old := cm.files[f.Path]; old != nil {
			a.OID = old.etag() // sha256 for LFS files, git sha1 for regular ones
		}
		out = append(out, a)
	}
	h.serveJSON(w, r, m, map[string]any{"files": out, "commitOid": cm.id}, nil)
}

// lfsMode is the Hub's observed rule: an empty file is regular (S3 takes
// no empty objects); a file is LFS when .gitattributes tracks it, when it
// looks binary (a NUL byte in the sample) or when it is large.
func (h *Hub) lfsMode(attrs string, f preuploadFile, sample []byte) bool {
	if f.Size == 0 {
		return false
	}
	return lfsTracked(attrs, f.Path) || bytes.IndexByte(sample, 0) >= 0 || f.Size >= h.opts.LFSThreshold
}

// regularContent is the content of a regular file of cm, "" if absent.
func regularContent(cm *commit, p string) string {
	if f := cm.files[p]; f != nil && !f.lfs {
		return string(f.content)
	}
	return ""
}
