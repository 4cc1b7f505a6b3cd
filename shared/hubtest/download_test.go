package hubtest

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRegularFileResolve(t *testing.T) {
	t.Parallel()
	h := newHub(t, Options{})
	commit, _ := h.CommitID("org/model", "main")
	u := h.URL + "/org/model/resolve/main/config.json"
	head := do(t, nil, "HEAD", u, "Accept-Encoding: identity").wantStatus(t, 200)
	for k, want := range map[string]string{
		"ETag":           `"` + gitBlobSHA1(configJSON) + `"`,
		"X-Repo-Commit":  commit,
		"Content-Length": strconv.Itoa(len(configJSON)),
		"Accept-Ranges":  "bytes",
		"X-Linked-Etag":  "",
		"X-Linked-Size":  "",
	} {
		if got := head.Header.Get(k); got != want {
			t.Errorf("HEAD %s = %q, want %q", k, got, want)
		}
	}
	get := do(t, nil, "GET", u).wantStatus(t, 200)
	if !bytes.Equal(get.body, configJSON) {
		t.Errorf("GET body %q", get.body)
	}
	r := do(t, nil, "GET", u, "Range: bytes=2-5").wantStatus(t, 206)
	if string(r.body) != string(configJSON[2:6]) || r.Header.Get("Content-Range") != "bytes 2-5/"+strconv.Itoa(len(configJSON)) {
		t.Errorf("Range 2-5: %q, Content-Range %q", r.body, r.Header.Get("Content-Range"))
	}
	do(t, nil, "GET", u, "Range: bytes=100000-").wantStatus(t, 416)
	do(t, nil, "GET", u, `If-None-Match: "`+gitBlobSHA1(configJSON)+`"`).wantStatus(t, 304)
}

// TestGitBlobSHA1 pins the blob id to git's: `printf 'hello\n' | git hash-object --stdin`.
func TestGitBlobSHA1(t *testing.T) {
	if got := gitBlobSHA1([]byte("hello\n")); got != "ce013625030ba8dba906f756967f9e9ca394464a" {
		t.Errorf("gitBlobSHA1 = %s", got)
	}
}

func TestLFSRedirectAndCDN(t *testing.T) {
	t.Parallel()
	h := newHub(t, Options{Tokens: map[string]string{"hf_a": "a"}})
	commit, _ := h.CommitID("org/model", "main")
	sum := sha256hex(weights)
	r := do(t, nil, "HEAD", h.URL+"/org/model/resolve/main/model.safetensors").wantStatus(t, 302)
	for k, want := range map[string]string{
		"X-Linked-Etag": `"` + sum + `"`,
		"X-Linked-Size": strconv.Itoa(len(weights)),
		"X-Repo-Commit": commit,
		"Accept-Ranges": "bytes",
	} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("302 %s = %q, want %q", k, got, want)
		}
	}
	if et := r.Header.Get("ETag"); et == "" || strings.Contains(et, sum) {
		t.Errorf("302 ETag %q: want one that is not the content hash", et)
	}
	loc, err := url.Parse(r.Header.Get("Location"))
	if err != nil || !loc.IsAbs() || loc.Hostname() != "localhost" || "http://"+loc.Host != h.CDNURL || loc.Path != "/lfs/"+sum {
		t.Fatalf("Location %q: want an absolute URL on %s/lfs/%s", r.Header.Get("Location"), h.CDNURL, sum)
	}

	got := do(t, nil, "GET", loc.String()).wantStatus(t, 200)
	if !bytes.Equal(got.body, weights) {
		t.Errorf("CDN body differs")
	}
	if cd := got.Header.Get("Content-Disposition"); !strings.Contains(cd, `filename="model.safetensors"`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	part := do(t, nil, "GET", loc.String(), "Range: bytes=100-").wantStatus(t, 206)
	if !bytes.Equal(part.body, weights[100:]) || part.Header.Get("Content-Range") != "bytes 100-4095/4096" {
		t.Errorf("CDN Range: %d bytes, Content-Range %q", len(part.body), part.Header.Get("Content-Range"))
	}
	do(t, nil, "GET", loc.String(), "Range: bytes=4096-").wantStatus(t, 416)
	do(t, nil, "GET", loc.String(), "Authorization: Bearer hf_a").wantStatus(t, 400)

	bad := *loc
	q := bad.Query()
	q.Set("X-Amz-Signature", strings.Repeat("0", 64))
	bad.RawQuery = q.Encode()
	do(t, nil, "GET", bad.String()).wantStatus(t, 403)
	q = loc.Query()
	q.Set("Expires", strconv.FormatInt(time.Now().Add(2*time.Hour).Unix(), 10)) // extended by the client: signature breaks
	bad.RawQuery = q.Encode()
	do(t, nil, "GET", bad.String()).wantStatus(t, 403)
	do(t, nil, "GET", h.CDNURL+"/lfs/"+sum).wantStatus(t, 403)

	// A correctly signed URL whose time is up.
	past := time.Now().Add(-time.Minute).Unix()
	p := "/lfs/" + sum
	expired := h.CDNURL + p + "?X-Amz-Signature=" + h.sign(p, past) + "&Expires=" + strconv.FormatInt(past, 10)
	do(t, nil, "GET", expired).wantStatus(t, 403)
	missing := "/lfs/" + strings.Repeat("a", 64)
	do(t, nil, "GET", h.CDNURL+missing+"?X-Amz-Signature="+h.sign(missing, past+7200)+"&Expires="+strconv.FormatInt(past+7200, 10)).wantStatus(t, 404)
}

// TestAuthorizationLeakIsCaught shows what the two host names are for: Go's
// client drops Authorization on the redirect to another host name and
// succeeds; a client that forwards it gets the CDN's 400.
func TestAuthorizationLeakIsCaught(t *testing.T) {
	t.Parallel()
	h := newHub(t, Options{Tokens: map[string]string{"hf_a": "a"}})
	u := h.URL + "/org/model/resolve/main/model.safetensors"
	r := do(t, http.DefaultClient, "GET", u, "Authorization: Bearer hf_a").wantStatus(t, 200)
	if !bytes.Equal(r.body, weights) {
		t.Error("followed redirect: body differs")
	}
	leaky := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		req.Header.Set("Authorization", via[0].Header.Get("Authorization"))
		return nil
	}}
	do(t, leaky, "GET", u, "Authorization: Bearer hf_a").wantStatus(t, 400)
	var cdnAuth []Request
	for _, rq := range h.Requests() {
		if rq.Server == "cdn" && rq.Auth {
			cdnAuth = append(cdnAuth, rq)
		}
	}
	if len(cdnAuth) != 1 || cdnAuth[0].Status != 400 {
		t.Errorf("CDN requests with Authorization: %v", cdnAuth)
	}
}

func TestEscapedRevisions(t *testing.T) {
	t.Parallel()
	h := newHub(t, Options{})
	pr := map[string][]byte{"config.json": []byte(`{"pr": 1}`)}
	err := h.AddRepo("org/rev", Repo{
		Branches: map[string]Commit{"main": {Files: fixtureFiles()}, "refs/pr/1": {Files: pr}, "feature/x": {Files: pr}},
		Tags:     map[string]string{"v1.0": "main"},
	})
	if err != nil {
		t.Fatal(err)
	}
	main, _ := h.CommitID("org/rev", "main")
	prc, _ := h.CommitID("org/rev", "refs/pr/1")
	if main == prc || len(prc) != 40 {
		t.Fatalf("commits main %s, pr %s", main, prc)
	}
	for rev, want := range map[string]string{
		"refs%2Fpr%2F1":       prc,
		"feature%2Fx":         prc,
		"v1.0":                main,
		"refs%2Ftags%2Fv1.0":  main,
		"refs%2Fheads%2Fmain": main,
		main:                  main,
	} {
		r := do(t, nil, "GET", h.URL+"/org/rev/resolve/"+rev+"/config.json").wantStatus(t, 200)
		if got := r.Header.Get("X-Repo-Commit"); got != want {
			t.Errorf("resolve %s: X-Repo-Commit %s, want %s", rev, got, want)
		}
		var info struct{ Sha string }
		do(t, nil, "GET", h.URL+"/api/models/org/rev/revision/"+rev).wantStatus(t, 200).json(t, &info)
		if info.Sha != want {
			t.Errorf("info %s: sha %s, want %s", rev, info.Sha, want)
		}
		do(t, nil, "GET", h.URL+"/api/models/org/rev/tree/"+rev+"?recursive=true").wantStatus(t, 200)
	}
	// Unescaped, refs/pr/1 is three segments: rev "refs", file "pr/1/config.json".
	r := do(t, nil, "GET", h.URL+"/org/rev/resolve/refs/pr/1/config.json").wantStatus(t, 404)
	if r.Header.Get("X-Error-Code") != "RevisionNotFound" {
		t.Errorf("unescaped PR ref: %s", r.Header.Get("X-Error-Code"))
	}

	// Replacing the repo keeps the old commit reachable by id.
	if err := h.AddRepo("org/rev", Repo{Branches: map[string]Commit{"main": {Files: pr}}}); err != nil {
		t.Fatal(err)
	}
	r = do(t, nil, "GET", h.URL+"/org/rev/resolve/"+main+"/tokenizer/vocab.txt").wantStatus(t, 200)
	if string(r.body) != "a\nb\n" {
		t.Errorf("old commit body %q", r.body)
	}
	do(t, nil, "GET", h.URL+"/org/rev/resolve/main/tokenizer/vocab.txt").wantStatus(t, 404)
}

func TestCommitIDs(t *testing.T) {
	t.Parallel()
	a, b := newHub(t, Options{}), newHub(t, Options{})
	ca, _ := a.CommitID("org/model", "main")
	cb, _ := b.CommitID("org/model", "main")
	if ca != cb || !isCommitID(ca) {
		t.Errorf("commit ids differ across hubs or are malformed: %s %s", ca, cb)
	}
	fixed := strings.Repeat("ab", 20)
	if err := a.AddRepo("org/fixed", Repo{Branches: map[string]Commit{"main": {ID: fixed, Files: fixtureFiles()}}}); err != nil {
		t.Fatal(err)
	}
	if c, _ := a.CommitID("org/fixed", "main"); c != fixed {
		t.Errorf("forced commit id: %s", c)
	}
	if err := a.AddRepo("org/bad", Repo{Branches: map[string]Commit{"main": {ID: "ABC"}}}); err == nil {
		t.Error("AddRepo accepted a malformed commit id")
	}
	if err := a.AddRepo("noslash", Repo{}); err == nil {
		t.Error("AddRepo accepted a repo id without org")
	}
	if err := a.AddRepo("org/tags", Repo{Tags: map[string]string{"v1": "nowhere"}}); err == nil {
		t.Error("AddRepo accepted a tag pointing nowhere")
	}
}

func TestHostilePathsAreServed(t *testing.T) {
	t.Parallel()
	h := newHub(t, Options{})
	if err := h.AddRepo("org/evil", Repo{Branches: map[string]Commit{"main": {Files: map[string][]byte{"../escape.json": []byte("{}")}}}}); err != nil {
		t.Fatal(err)
	}
	var entries []treeEntry
	do(t, nil, "GET", h.URL+"/api/models/org/evil/tree/main?recursive=true").wantStatus(t, 200).json(t, &entries)
	found := false
	for _, e := range entries {
		found = found || e.Path == "../escape.json"
	}
	if !found {
		t.Errorf("tree %+v lacks ../escape.json", entries)
	}
	do(t, nil, "GET", h.URL+"/org/evil/resolve/main/../escape.json").wantStatus(t, 200)
}
