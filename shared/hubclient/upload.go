package hubclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// postJSON sends a JSON body and decodes a JSON answer; retry says whether
// transient failures may be retried (never for commits: a lost answer
// could duplicate one).
func (c *Client) postJSON(ctx context.Context, method, u, contentType string, body []byte, out any, retry bool) error {
	retries := 0
	if retry {
		retries = c.Retries
	}
	resp, err := c.send(ctx, retries, func() (*http.Request, error) {
		req, err := c.newRequest(ctx, method, u, true)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Accept", "application/json")
		return req, nil
	})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(out)
}

// CreateRepo creates a model repository; exists reports a 409 (the repo
// was already there), which is not an error.
func (c *Client) CreateRepo(ctx context.Context, repo string, private bool) (exists bool, err error) {
	org, name, _ := strings.Cut(repo, "/")
	vis := "public"
	if private {
		vis = "private"
	}
	body, _ := json.Marshal(map[string]any{"name": name, "organization": org, "type": "model", "private": private, "visibility": vis})
	err = c.postJSON(ctx, http.MethodPost, c.Endpoint+"/api/repos/create", "application/json", body, nil, true)
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusConflict {
		return true, nil
	}
	return false, err
}

// CreateBranch creates a branch from the default branch's head; an
// existing branch (409) is fine.
func (c *Client) CreateBranch(ctx context.Context, repo, branch string) error {
	err := c.postJSON(ctx, http.MethodPost, c.Endpoint+"/api/models/"+repo+"/branch/"+escapeRev(branch), "application/json", []byte("{}"), nil, true)
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusConflict {
		return nil
	}
	return err
}

// PreuploadFile describes a file the preupload call classifies.
type PreuploadFile struct {
	Path   string `json:"path"`
	Sample string `json:"sample"` // base64 of the first 512 bytes
	Size   int64  `json:"size"`
}

// PreuploadResult is the Hub's verdict on one file.
type PreuploadResult struct {
	Path         string `json:"path"`
	UploadMode   string `json:"uploadMode"` // "lfs" or "regular"
	ShouldIgnore bool   `json:"shouldIgnore"`
	OID          string `json:"oid"`
}

// Preupload asks how each file must be uploaded (at most 256 per call).
func (c *Client) Preupload(ctx context.Context, repo, rev string, files []PreuploadFile) ([]PreuploadResult, string, error) {
	body, _ := json.Marshal(map[string]any{"files": files})
	var out struct {
		Files     []PreuploadResult `json:"files"`
		CommitOID string            `json:"commitOid"`
	}
	err := c.postJSON(ctx, http.MethodPost, c.Endpoint+"/api/models/"+repo+"/preupload/"+escapeRev(rev), "application/json", body, &out, true)
	return out.Files, out.CommitOID, err
}

// LFSObject is one object of an LFS batch.
type LFSObject struct {
	OID  string `json:"oid"`
	Size int64  `json:"size"`
}

// LFSAction is what the batch API says to do with an object: nothing
// (already stored), or upload and then verify.
type LFSAction struct {
	OID     string
	Size    int64
	Upload  string // presigned PUT URL; "" when the object is already stored
	Verify  string
	VHeader map[string]string
}

// LFSBatch asks where to upload objects (basic transfer only: no Xet, no
// multipart).
func (c *Client) LFSBatch(ctx context.Context, repo, branch string, objs []LFSObject) ([]LFSAction, error) {
	body, _ := json.Marshal(map[string]any{
		"operation": "upload", "transfers": []string{"basic"}, "objects": objs,
		"hash_algo": "sha256", "ref": map[string]string{"name": branch},
	})
	var out struct {
		Transfer string `json:"transfer"`
		Objects  []struct {
			OID     string `json:"oid"`
			Size    int64  `json:"size"`
			Actions *struct {
				Upload *struct {
					Href   string            `json:"href"`
					Header map[string]string `json:"header"`
				} `json:"upload"`
				Verify *struct {
					Href   string            `json:"href"`
					Header map[string]string `json:"header"`
				} `json:"verify"`
			} `json:"actions"`
			Error *struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		} `json:"objects"`
	}
	err := c.postJSON(ctx, http.MethodPost, c.Endpoint+"/"+repo+".git/info/lfs/objects/batch", "application/vnd.git-lfs+json", body, &out, true)
	if err != nil {
		return nil, err
	}
	if out.Transfer != "" && out.Transfer != "basic" {
		return nil, fmt.Errorf("LFS batch chose the %q transfer, which mlxk does not speak", out.Transfer)
	}
	var acts []LFSAction
	for _, o := range out.Objects {
		if o.Error != nil {
			return nil, fmt.Errorf("LFS batch refused %s: %s (%d)", o.OID, o.Error.Message, o.Error.Code)
		}
		a := LFSAction{OID: o.OID, Size: o.Size}
		if o.Actions != nil && o.Actions.Upload != nil {
			if _, multi := o.Actions.Upload.Header["chunk_size"]; multi {
				return nil, fmt.Errorf("LFS batch asked for a multipart upload of %s", o.OID)
			}
			a.Upload = o.Actions.Upload.Href
		}
		if o.Actions != nil && o.Actions.Verify != nil {
			a.Verify, a.VHeader = o.Actions.Verify.Href, o.Actions.Verify.Header
		}
		acts = append(acts, a)
	}
	return acts, nil
}

// PutObject uploads a file's bytes to a presigned URL: no Authorization
// (object stores reject a second credential), retried on transient
// failures with the file read again from the start.
func (c *Client) PutObject(ctx context.Context, href, path string, size int64) error {
	var f *os.File
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	resp, err := c.send(ctx, c.Retries, func() (*http.Request, error) {
		if f != nil {
			f.Close()
		}
		var err error
		if f, err = os.Open(path); err != nil {
			return nil, err
		}
		req, err := c.newRequest(ctx, http.MethodPut, href, false)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(f)
		req.ContentLength = size
		return req, nil
	})
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// VerifyObject asks the Hub to confirm an uploaded object.
func (c *Client) VerifyObject(ctx context.Context, href string, obj LFSObject) error {
	body, _ := json.Marshal(obj)
	return c.postJSON(ctx, http.MethodPost, href, "application/vnd.git-lfs+json", body, nil, true)
}

// CommitOp is one line of a commit: a regular file with its content, an
// LFS file by oid, or a deletion.
type CommitOp struct {
	Key   string // "file", "lfsFile", "deletedFile"
	Value any
}

// CommitResult is the Hub's answer to a commit.
type CommitResult struct {
	OID string `json:"commitOid"`
	URL string `json:"commitUrl"`
}

// Commit sends an NDJSON commit to a branch. It is never retried.
func (c *Client) Commit(ctx context.Context, repo, branch, summary, parent string, ops []CommitOp) (CommitResult, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	header := map[string]any{"summary": summary, "description": ""}
	if parent != "" {
		header["parentCommit"] = parent
	}
	if err := enc.Encode(map[string]any{"key": "header", "value": header}); err != nil {
		return CommitResult{}, err
	}
	for _, op := range ops {
		if err := enc.Encode(map[string]any{"key": op.Key, "value": op.Value}); err != nil {
			return CommitResult{}, err
		}
	}
	var out CommitResult
	err := c.postJSON(ctx, http.MethodPost, c.Endpoint+"/api/models/"+repo+"/commit/"+escapeRev(branch), "application/x-ndjson", b.Bytes(), &out, false)
	return out, err
}
