package hubtest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// send is do with a request body.
func send(t *testing.T, method, url string, body []byte, hdr ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range hdr {
		k, v, _ := strings.Cut(kv, ": ")
		req.Header.Set(k, v)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, rerr := io.ReadAll(resp.Body)
	return response{Response: resp, body: b, readErr: rerr}
}

// pusher drives the upload protocol the way huggingface_hub does
// (hf-protocol §4.1), one step per method, so tests can stop anywhere.
type pusher struct {
	t     *testing.T
	h     *Hub
	token string // "" sends no Authorization
}

func (p pusher) auth() []string {
	if p.token == "" {
		return nil
	}
	return []string{"Authorization: Bearer " + p.token}
}

func (p pusher) postJSON(url string, v any, hdr ...string) response {
	p.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		p.t.Fatal(err)
	}
	return send(p.t, "POST", url, b, append(append(p.auth(), "Content-Type: application/json"), hdr...)...)
}

func (p pusher) create(org any, name string, extra map[string]any) response {
	p.t.Helper()
	req := map[string]any{"name": name, "organization": org}
	for k, v := range extra {
		req[k] = v
	}
	return p.postJSON(p.h.URL+"/api/repos/create", req)
}

type preuploadResult struct {
	Files []struct {
		Path, UploadMode, OID string
		ShouldIgnore          bool
	}
	CommitOid string
}

// preupload announces files by content, as UploadInfo.from_path does.
func (p pusher) preupload(repo, rev string, files map[string][]byte) response {
	p.t.Helper()
	var list []map[string]any
	for path, b := range files {
		list = append(list, map[string]any{"path": path, "size": len(b),
			"sample": base64.StdEncoding.EncodeToString(b[:min(len(b), 512)])})
	}
	return p.postJSON(p.h.URL+"/api/models/"+repo+"/preupload/"+rev, map[string]any{"files": list})
}

type batchResult struct {
	Transfer string
	Objects  []struct {
		OID     string
		Size    int64
		Actions map[string]struct {
			Href   string
			Header map[string]string
		}
		Error *struct {
			Code    int
			Message string
		}
	}
}

func (p pusher) batch(repo string, contents ...[]byte) response {
	p.t.Helper()
	var objs []map[string]any
	for _, b := range contents {
		objs = append(objs, map[string]any{"oid": sha256hex(b), "size": len(b)})
	}
	return p.postJSON(p.h.URL+"/"+repo+".git/info/lfs/objects/batch", map[string]any{
		"operation": "upload", "transfers": []string{"xet", "multipart", "basic"},
		"objects": objs, "hash_algo": "sha256", "ref": map[string]string{"name": "main"},
	}, "Accept: "+lfsContentType)
}

// uploadLFS runs batch, PUT and verify for content and fails the test on
// any error; it reports whether the hub asked for the bytes.
func (p pusher) uploadLFS(repo string, content []byte) bool {
	p.t.Helper()
	var br batchResult
	p.batch(repo, content).wantStatus(p.t, 200).json(p.t, &br)
	if br.Transfer != "basic" || len(br.Objects) != 1 || br.Objects[0].Error != nil {
		p.t.Fatalf("batch answer %+v", br)
	}
	up, ok := br.Objects[0].Actions["upload"]
	if !ok {
		return false
	}
	send(p.t, "PUT", up.Href, content).wantStatus(p.t, 200)
	verify := br.Objects[0].Actions["verify"]
	p.postJSON(verify.Href, map[string]any{"oid": sha256hex(content), "size": len(content)}).wantStatus(p.t, 200)
	return true
}

// op is one NDJSON line of a commit.
type op map[string]any

func fileOp(path string, content []byte) op {
	return op{"key": "file", "value": map[string]any{"path": path, "encoding": "base64",
		"content": base64.StdEncoding.EncodeToString(content)}}
}

func lfsOp(path string, content []byte) op {
	return op{"key": "lfsFile", "value": map[string]any{"path": path, "algo": "sha256",
		"oid": sha256hex(content), "size": len(content)}}
}

func header(summary, parent string) op {
	v := map[string]any{"summary": summary, "description": ""}
	if parent != "" {
		v["parentCommit"] = parent
	}
	return op{"key": "header", "value": v}
}

func ndjson(t *testing.T, lines ...op) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b) // one object per line, each ending in \n
	for _, l := range lines {
		if err := enc.Encode(l); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

type commitResult struct {
	Success    bool
	CommitOid  string
	CommitURL  string `json:"commitUrl"`
	HookOutput *string
}

func (p pusher) commit(repo, rev string, lines ...op) response {
	p.t.Helper()
	return send(p.t, "POST", p.h.URL+"/api/models/"+repo+"/commit/"+rev, ndjson(p.t, lines...),
		append(p.auth(), "Content-Type: application/x-ndjson")...)
}

// wantError checks a Hub error answer's status, code and message prefix.
func (r response) wantError(t *testing.T, status int, code, msgPrefix string) {
	t.Helper()
	r.wantStatus(t, status)
	if got := r.Header.Get("X-Error-Code"); got != code {
		t.Errorf("%s %s: X-Error-Code %q, want %q", r.Request.Method, r.Request.URL.Path, got, code)
	}
	var body struct{ Error string }
	if r.Request.Method == http.MethodHead {
		body.Error = msgPrefix // no body to check
	} else {
		r.json(t, &body)
	}
	if !strings.HasPrefix(body.Error, msgPrefix) || !strings.HasPrefix(r.Header.Get("X-Error-Message"), msgPrefix) {
		t.Errorf("%s %s: error %q (header %q), want prefix %q", r.Request.Method, r.Request.URL.Path,
			body.Error, r.Header.Get("X-Error-Message"), msgPrefix)
	}
}
