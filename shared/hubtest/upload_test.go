package hubtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// uploadHub is a hub where alice (hf_alice) and bob (hf_bob) may write to
// their own namespaces, and hf_ro is alice read-only.
func uploadHub(t *testing.T, opts Options) *Hub {
	t.Helper()
	opts.Tokens = map[string]string{"hf_alice": "alice", "hf_bob": "bob", "hf_ro": "alice"}
	opts.ReadOnlyTokens = []string{"hf_ro"}
	return newHub(t, opts)
}

// TestUploadRoundTrip pushes a model the way huggingface_hub does and
// downloads it back through the read side.
func TestUploadRoundTrip(t *testing.T) {
	t.Parallel()
	h := uploadHub(t, Options{})
	p := pusher{t: t, h: h, token: "hf_alice"}

	var created struct{ URL, Name, ID string }
	p.create(nil, "new", map[string]any{"type": "model"}).wantStatus(t, 200).json(t, &created)
	if created.URL != h.URL+"/alice/new" || created.Name != "alice/new" || len(created.ID) != 24 {
		t.Errorf("create answered %+v", created)
	}
	initial, err := h.CommitID("alice/new", "main")
	if err != nil {
		t.Fatal(err)
	}
	attrs := do(t, nil, "GET", h.URL+"/alice/new/resolve/main/.gitattributes").wantStatus(t, 200)
	if string(attrs.body) != DefaultGitattributes {
		t.Errorf("initial .gitattributes %q", attrs.body)
	}

	binary := append([]byte("\x00\x01binary"), weights...)
	files := map[string][]byte{
		"config.json":       configJSON,
		"model.safetensors": weights, // LFS by .gitattributes
		"data/blob.dat":     binary,  // LFS by its NUL byte
		"empty.safetensors": {},      // size 0: always regular
	}
	var pre preuploadResult
	p.preupload("alice/new", "main", files).wantStatus(t, 200).json(t, &pre)
	if pre.CommitOid != initial || len(pre.Files) != len(files) {
		t.Fatalf("preupload %+v, want commitOid %s", pre, initial)
	}
	wantMode := map[string]string{"config.json": "regular", "model.safetensors": "lfs", "data/blob.dat": "lfs", "empty.safetensors": "regular"}
	for _, f := range pre.Files {
		if f.UploadMode != wantMode[f.Path] || f.ShouldIgnore || f.OID != "" {
			t.Errorf("preupload %s: %+v, want mode %s and no oid", f.Path, f, wantMode[f.Path])
		}
	}

	h.ResetCounters()
	for _, b := range [][]byte{weights, binary} {
		if !p.uploadLFS("alice/new", b) && !bytes.Equal(b, weights) {
			t.Errorf("batch did not ask for %d new bytes", len(b))
		}
	}
	// weights were already stored (org/model serves them): only the
	// binary crossed the wire.
	if got := h.BytesUploaded(); got != int64(len(binary)) {
		t.Errorf("BytesUploaded %d, want %d", got, len(binary))
	}

	var cr commitResult
	p.commit("alice/new", "main",
		header("Upload model", initial),
		fileOp("config.json", configJSON),
		lfsOp("model.safetensors", weights),
		lfsOp("data/blob.dat", binary),
		fileOp("empty.safetensors", nil),
	).wantStatus(t, 200).json(t, &cr)
	head, _ := h.CommitID("alice/new", "main")
	if !cr.Success || cr.CommitOid != head || head == initial || !isCommitID(head) ||
		cr.CommitURL != h.URL+"/alice/new/commit/"+head || cr.HookOutput == nil || *cr.HookOutput != "" {
		t.Fatalf("commit answered %+v (head %s, parent %s)", cr, head, initial)
	}

	// Byte-identical through resolve (and the CDN for LFS files).
	for path, want := range files {
		for _, rev := range []string{"main", head} {
			r := do(t, http.DefaultClient, "GET", h.URL+"/alice/new/resolve/"+rev+"/"+path).wantStatus(t, 200)
			if !bytes.Equal(r.body, want) {
				t.Errorf("%s@%s: %d bytes differ from the %d uploaded", path, rev, len(r.body), len(want))
			}
		}
	}
	r := do(t, nil, "HEAD", h.URL+"/alice/new/resolve/main/data/blob.dat").wantStatus(t, 302)
	if r.Header.Get("X-Linked-Etag") != `"`+sha256hex(binary)+`"` || r.Header.Get("X-Repo-Commit") != head {
		t.Errorf("LFS resolve headers %v", r.Header)
	}

	// The tree agrees, .gitattributes tracks the path no rule covered.
	var tree []treeEntry
	do(t, nil, "GET", h.URL+"/api/models/alice/new/tree/main?recursive=true").wantStatus(t, 200).json(t, &tree)
	byPath := map[string]treeEntry{}
	for _, e := range tree {
		byPath[e.Path] = e
	}
	if e := byPath["model.safetensors"]; e.LFS == nil || e.LFS.OID != sha256hex(weights) || e.Size != int64(len(weights)) {
		t.Errorf("tree model.safetensors %+v", e)
	}
	if e := byPath["config.json"]; e.LFS != nil || e.OID != gitBlobSHA1(configJSON) {
		t.Errorf("tree config.json %+v", e)
	}
	if e := byPath["empty.safetensors"]; e.LFS != nil || e.Size != 0 {
		t.Errorf("tree empty.safetensors %+v", e)
	}
	attrs = do(t, nil, "GET", h.URL+"/alice/new/resolve/main/.gitattributes").wantStatus(t, 200)
	if want := DefaultGitattributes + "data/blob.dat filter=lfs diff=lfs merge=lfs -text\n"; string(attrs.body) != want {
		t.Errorf(".gitattributes after the commit:\n%s", attrs.body)
	}
	var info struct{ Sha string }
	do(t, nil, "GET", h.URL+"/api/models/alice/new").wantStatus(t, 200).json(t, &info)
	if info.Sha != head {
		t.Errorf("info sha %s, want %s", info.Sha, head)
	}
	var paths []pathsEntry
	send(t, "POST", h.URL+"/api/models/alice/new/paths-info/main", []byte(`{"paths":["data/blob.dat"],"expand":true}`),
		"Content-Type: application/json").wantStatus(t, 200).json(t, &paths)
	if len(paths) != 1 || paths[0].LFS == nil || paths[0].LastCommit == nil || paths[0].LastCommit.Title != "Upload model" {
		t.Errorf("paths-info %+v", paths)
	}
	// The old commit still resolves by id, without the new files.
	do(t, nil, "HEAD", h.URL+"/alice/new/resolve/"+initial+"/config.json").wantError(t, 404, "EntryNotFound", "config.json does not exist")

	// Preupload now reports the oids, so clients can skip unchanged files.
	pre = preuploadResult{}
	p.preupload("alice/new", "main", map[string][]byte{"config.json": configJSON, "model.safetensors": weights}).
		wantStatus(t, 200).json(t, &pre)
	for _, f := range pre.Files {
		want := map[string]string{"config.json": gitBlobSHA1(configJSON), "model.safetensors": sha256hex(weights)}[f.Path]
		if f.OID != want || pre.CommitOid != head {
			t.Errorf("second preupload %s: oid %s, want %s (commitOid %s)", f.Path, f.OID, want, pre.CommitOid)
		}
	}

	// A second upload of the same object gets no actions and no bytes move.
	h.ResetCounters()
	if p.uploadLFS("alice/new", binary) {
		t.Error("batch asked again for a stored object")
	}
	if h.BytesUploaded() != 0 {
		t.Errorf("BytesUploaded %d after a skipped upload", h.BytesUploaded())
	}

	// Every step was recorded like any other request.
	var lines []string
	for _, rq := range h.Requests() {
		lines = append(lines, rq.String())
	}
	all := strings.Join(lines, "\n")
	for _, want := range []string{
		"POST /api/repos/create auth=true range=none status=200",
		"POST /api/models/alice/new/preupload/main auth=true range=none status=200",
		"POST /alice/new.git/info/lfs/objects/batch auth=true range=none status=200",
		"PUT /upload/" + sha256hex(binary) + "?X-Amz-Signature=",
		"POST /alice/new.git/info/lfs/objects/verify auth=true range=none status=200",
		"POST /api/models/alice/new/commit/main auth=true range=none status=200",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no recorded request %q in\n%s", want, all)
		}
	}
}

func TestBatchAnswer(t *testing.T) {
	t.Parallel()
	h := uploadHub(t, Options{})
	p := pusher{t: t, h: h, token: "hf_alice"}
	p.create(nil, "m", nil).wantStatus(t, 200)
	fresh := []byte("fresh content")
	r := p.batch("alice/m", weights, fresh).wantStatus(t, 200)
	if ct := r.Header.Get("Content-Type"); ct != lfsContentType {
		t.Errorf("batch Content-Type %q", ct)
	}
	var br batchResult
	r.json(t, &br)
	if br.Transfer != "basic" || len(br.Objects) != 2 {
		t.Fatalf("batch %+v", br)
	}
	if br.Objects[0].Actions != nil {
		t.Errorf("stored object got actions %+v", br.Objects[0].Actions)
	}
	up, verify := br.Objects[1].Actions["upload"], br.Objects[1].Actions["verify"]
	if !strings.HasPrefix(up.Href, h.CDNURL+"/upload/"+sha256hex(fresh)+"?X-Amz-Signature=") || len(up.Header) != 0 {
		t.Errorf("upload action %+v", up)
	}
	if verify.Href != h.URL+"/alice/m.git/info/lfs/objects/verify" || verify.Header["Authorization"] != "Bearer hf_alice" {
		t.Errorf("verify action %+v", verify)
	}
	// Before the PUT, verify says the Hub does not have it.
	p.postJSON(verify.Href, map[string]any{"oid": sha256hex(fresh), "size": len(fresh)}).wantStatus(t, 404)

	// Bad objects get per-object errors; git-lfs Basic auth is accepted.
	b := []byte(`{"operation":"upload","transfers":["basic"],"objects":[{"oid":"XYZ","size":1},{"oid":"` +
		sha256hex(weights) + `","size":5}]}`)
	br = batchResult{}
	send(t, "POST", h.URL+"/alice/m.git/info/lfs/objects/batch", b, "Authorization: Basic "+
		basicAuth("alice", "hf_alice")).wantStatus(t, 200).json(t, &br)
	for i, o := range br.Objects {
		if o.Error == nil || o.Error.Code != 422 || o.Actions != nil {
			t.Errorf("object %d: %+v, want a 422 error", i, o)
		}
	}
	p.postJSON(h.URL+"/alice/m.git/info/lfs/objects/batch", map[string]any{"operation": "download", "objects": []any{}}).
		wantError(t, 400, "", "hubtest: only the upload operation")
}

func basicAuth(user, pass string) string {
	req, _ := http.NewRequest("GET", "http://x", nil)
	req.SetBasicAuth(user, pass)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

// The CDN takes an upload only as a presigned S3 bucket would, and only
// the announced bytes.
func TestCDNUploadRejects(t *testing.T) {
	t.Parallel()
	h := uploadHub(t, Options{})
	p := pusher{t: t, h: h, token: "hf_alice"}
	content := []byte("some LFS content")
	var br batchResult
	p.create(nil, "m", nil).wantStatus(t, 200)
	p.batch("alice/m", content).wantStatus(t, 200).json(t, &br)
	href := br.Objects[0].Actions["upload"].Href
	h.ResetCounters()

	send(t, "PUT", href, content, "Authorization: Bearer hf_alice").wantStatus(t, 400)
	send(t, "PUT", strings.Replace(href, "X-Amz-Signature=", "X-Amz-Signature=0", 1), content).wantStatus(t, 403)
	wrong := bytes.Clone(content)
	wrong[0] ^= 0xff
	r := send(t, "PUT", href, wrong).wantStatus(t, 400)
	if !strings.Contains(string(r.body), "BadDigest") {
		t.Errorf("bad hash answer %q", r.body)
	}
	send(t, "PUT", href, content[:5]).wantStatus(t, 400) // not the announced size
	send(t, "GET", href, nil).wantStatus(t, 405)
	// A PUT without Content-Length (chunked) is refused, as S3 does.
	req, _ := http.NewRequest("PUT", href, io.MultiReader(bytes.NewReader(content)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusLengthRequired {
		t.Errorf("chunked PUT: %s", resp.Status)
	}
	// An object no batch announced has nowhere to go, even correctly signed.
	other := []byte("never announced")
	u, _ := h.presignPath("/upload/" + sha256hex(other))
	send(t, "PUT", u, other).wantStatus(t, 400)
	if h.BytesUploaded() != 0 {
		t.Errorf("BytesUploaded %d after rejected PUTs", h.BytesUploaded())
	}
	// The commit cannot use what was not stored.
	initial, _ := h.CommitID("alice/m", "main")
	p.commit("alice/m", "main", header("x", ""), lfsOp("a.bin", content)).wantError(t, 400, "", "Bad request for commit endpoint: a.bin: no LFS object")
	if head, _ := h.CommitID("alice/m", "main"); head != initial {
		t.Error("a refused commit moved the branch")
	}
	send(t, "PUT", href, content).wantStatus(t, 200)
	if h.BytesUploaded() != int64(len(content)) {
		t.Errorf("BytesUploaded %d, want %d", h.BytesUploaded(), len(content))
	}
	// The size in the commit must be the stored one.
	bad := lfsOp("a.bin", content)
	bad["value"].(map[string]any)["size"] = 3
	p.commit("alice/m", "main", header("x", ""), bad).wantError(t, 400, "", "Bad request for commit endpoint: a.bin: no LFS object")
	p.commit("alice/m", "main", header("x", ""), lfsOp("a.bin", content)).wantStatus(t, 200)
}

func TestCreateRepo(t *testing.T) {
	t.Parallel()
	h := uploadHub(t, Options{Orgs: map[string][]string{"bob": {"team"}}})
	alice := pusher{t: t, h: h, token: "hf_alice"}
	bob := pusher{t: t, h: h, token: "hf_bob"}

	alice.create("alice", "m", nil).wantStatus(t, 200)
	r := alice.create(nil, "m", nil)
	r.wantError(t, 409, "", "You already created this model repo")
	var conflict struct{ URL string }
	r.json(t, &conflict)
	if conflict.URL != h.URL+"/alice/m" {
		t.Errorf("409 url %q", conflict.URL)
	}
	// Repos of other namespaces: only as a member of the org.
	alice.create("team", "m", nil).wantError(t, 403, "", "You don't have the rights")
	bob.create("team", "m", nil).wantStatus(t, 200)
	h.AddOrg("alice", "team")
	alice.create("team", "m2", nil).wantStatus(t, 200)
	alice.create("org", "model", nil).wantError(t, 403, "", "You don't have the rights") // exists, but not hers

	// Both spellings of visibility.
	bob.create(nil, "p1", map[string]any{"private": true}).wantStatus(t, 200)
	bob.create(nil, "p2", map[string]any{"visibility": "private"}).wantStatus(t, 200)
	bob.create(nil, "p3", map[string]any{"visibility": "public", "private": true}).wantStatus(t, 200)
	for repo, private := range map[string]bool{"bob/p1": true, "bob/p2": true, "bob/p3": false} {
		want := 200
		if private {
			want = 401
		}
		do(t, nil, "GET", h.URL+"/api/models/"+repo).wantStatus(t, want)
		do(t, nil, "GET", h.URL+"/api/models/"+repo, "Authorization: Bearer hf_bob").wantStatus(t, 200)
	}
	// A private org repo is readable by the org's members.
	bob.create("team", "secret", map[string]any{"private": true}).wantStatus(t, 200)
	do(t, nil, "GET", h.URL+"/api/models/team/secret", "Authorization: Bearer hf_alice").wantStatus(t, 200)

	bob.create(nil, "x", map[string]any{"type": "dataset"}).wantStatus(t, 400)
	bob.create(nil, "a/b", nil).wantStatus(t, 400)
	bob.create(nil, "x", map[string]any{"visibility": "secret"}).wantStatus(t, 400)

	// Delete, then the name is free again with a fresh history.
	del := func(p pusher, org any, name string) response {
		b, _ := json.Marshal(map[string]any{"name": name, "organization": org})
		return send(t, "DELETE", h.URL+"/api/repos/delete", b, append(p.auth(), "Content-Type: application/json")...)
	}
	del(bob, "alice", "m").wantError(t, 403, "", "You don't have the rights")
	del(alice, nil, "m").wantStatus(t, 200)
	do(t, nil, "GET", h.URL+"/api/models/alice/m", "Authorization: Bearer hf_alice").wantError(t, 404, "RepoNotFound", "Repository not found")
	del(alice, nil, "m").wantError(t, 404, "RepoNotFound", "Repository not found")
	alice.create(nil, "m", nil).wantStatus(t, 200)
	send(t, "GET", h.URL+"/api/repos/create", nil).wantStatus(t, 405)
}

func TestBranches(t *testing.T) {
	t.Parallel()
	h := uploadHub(t, Options{})
	p := pusher{t: t, h: h, token: "hf_alice"}
	p.create(nil, "m", nil).wantStatus(t, 200)
	initial, _ := h.CommitID("alice/m", "main")
	branch := func(method, name string, body string) response {
		return send(t, method, h.URL+"/api/models/alice/m/branch/"+name, []byte(body), append(p.auth(), "Content-Type: application/json")...)
	}
	branch("POST", "dev", "{}").wantStatus(t, 200)
	branch("POST", "dev", "{}").wantError(t, 409, "", "Reference refs/heads/dev already exists")
	branch("POST", "empty-body", "").wantStatus(t, 200)
	branch("POST", "refs%2Fpr%2F1", "{}").wantError(t, 400, "", "Invalid reference for a branch")
	branch("POST", "bad-start", `{"startingPoint":"nope"}`).wantError(t, 404, "RevisionNotFound", "Invalid rev id: nope")

	// Commit on dev; main stays; a branch can start from any revision.
	var cr commitResult
	p.commit("alice/m", "dev", header("on dev", ""), fileOp("dev.txt", []byte("dev\n"))).wantStatus(t, 200).json(t, &cr)
	if head, _ := h.CommitID("alice/m", "main"); head != initial {
		t.Error("a commit on dev moved main")
	}
	branch("POST", "feature%2Fx", `{"startingPoint":"`+cr.CommitOid+`"}`).wantStatus(t, 200)
	if c, _ := h.CommitID("alice/m", "feature/x"); c != cr.CommitOid {
		t.Errorf("feature/x at %s, want %s", c, cr.CommitOid)
	}
	do(t, nil, "GET", h.URL+"/alice/m/resolve/feature%2Fx/dev.txt").wantStatus(t, 200)
	var refs struct{ Branches []refJSON }
	do(t, nil, "GET", h.URL+"/api/models/alice/m/refs").wantStatus(t, 200).json(t, &refs)
	if len(refs.Branches) != 4 {
		t.Errorf("branches %+v", refs.Branches)
	}

	branch("DELETE", "main", "").wantError(t, 403, "", "Cannot delete refs/heads/main")
	branch("DELETE", "gone", "").wantError(t, 404, "RevisionNotFound", "Invalid rev id: gone")
	branch("DELETE", "dev", "").wantStatus(t, 200)
	do(t, nil, "GET", h.URL+"/api/models/alice/m/revision/dev").wantError(t, 404, "RevisionNotFound", "Invalid rev id: dev")
	// The commit made on dev is still reachable by id, as on the Hub.
	do(t, nil, "GET", h.URL+"/alice/m/resolve/"+cr.CommitOid+"/dev.txt").wantStatus(t, 200)
	pusher{t: t, h: h, token: "hf_bob"}.postJSON(h.URL+"/api/models/alice/m/branch/b2", map[string]any{}).
		wantError(t, 403, "", "You don't have the rights")
}

func TestCommitErrors(t *testing.T) {
	t.Parallel()
	h := uploadHub(t, Options{LFSThreshold: 1000})
	p := pusher{t: t, h: h, token: "hf_alice"}
	p.create(nil, "m", nil).wantStatus(t, 200)
	initial, _ := h.CommitID("alice/m", "main")
	var first commitResult
	p.commit("alice/m", "main", header("one", initial[:7]), fileOp("a/x.txt", []byte("x")), fileOp("a/y.txt", []byte("y")),
		fileOp("keep.txt", []byte("k"))).wantStatus(t, 200).json(t, &first)

	// A stale parent: 412 and nothing changes.
	p.commit("alice/m", "main", header("two", initial), fileOp("b.txt", []byte("b"))).
		wantError(t, 412, "", "The branch was updated since you opened this page. Please refresh and try again.")
	p.commit("alice/m", "nope", header("two", "")).wantError(t, 404, "RevisionNotFound", "Invalid rev id: nope")
	p.commit("alice/m", first.CommitOid, header("two", "")).wantError(t, 404, "RevisionNotFound", "Invalid rev id: ")
	p.commit("alice/m", "main", header("big", ""), fileOp("big.txt", bytes.Repeat([]byte("a"), 1001))).
		wantError(t, 400, "", "Your push was rejected because it contains files larger than 1000 bytes")
	p.commit("alice/m", "main", header("del", ""), op{"key": "deletedFile", "value": map[string]any{"path": "nope.txt"}}).
		wantError(t, 404, "EntryNotFound", "A file with this name doesn't exist")
	p.commit("alice/m", "main", header("", "")).wantStatus(t, 400)
	p.commit("alice/m", "main", fileOp("x", nil)).wantStatus(t, 400) // no header first
	p.commit("alice/m", "main", header("x", ""), op{"key": "rename"}).wantStatus(t, 400)
	p.commit("alice/m", "main", header("x", ""), fileOp("../x", nil)).wantStatus(t, 400)
	p.commit("alice/m", "main", header("x", ""), fileOp("keep.txt/in", nil)).wantStatus(t, 400)
	send(t, "POST", h.URL+"/api/models/alice/m/commit/main", ndjson(t, header("x", "")),
		append(p.auth(), "Content-Type: application/json")...).wantStatus(t, 400)
	if head, _ := h.CommitID("alice/m", "main"); head != first.CommitOid {
		t.Fatal("a refused commit moved the branch")
	}

	// Deletions, utf-8 content, and an empty commit.
	var second commitResult
	p.commit("alice/m", "main", header("two", first.CommitOid),
		op{"key": "deletedFolder", "value": map[string]any{"path": "a/"}},
		op{"key": "deletedFile", "value": map[string]any{"path": "keep.txt"}},
		op{"key": "file", "value": map[string]any{"path": "u.txt", "content": "héllo", "encoding": "utf-8"}},
	).wantStatus(t, 200).json(t, &second)
	var tree []treeEntry
	do(t, nil, "GET", h.URL+"/api/models/alice/m/tree/main?recursive=true").wantStatus(t, 200).json(t, &tree)
	var got []string
	for _, e := range tree {
		got = append(got, e.Path)
	}
	if strings.Join(got, " ") != ".gitattributes u.txt" {
		t.Errorf("tree after deletions: %v", got)
	}
	if r := do(t, nil, "GET", h.URL+"/alice/m/resolve/main/u.txt").wantStatus(t, 200); string(r.body) != "héllo" {
		t.Errorf("utf-8 content %q", r.body)
	}
	var empty commitResult
	p.commit("alice/m", "main", header("nothing", "")).wantStatus(t, 200).json(t, &empty)
	if empty.CommitOid == second.CommitOid || empty.CommitOid == "" {
		t.Errorf("empty commit %s, parent %s", empty.CommitOid, second.CommitOid)
	}
	// The same operations on another parent make another commit id.
	var again commitResult
	p.commit("alice/m", "main", header("nothing", "")).wantStatus(t, 200).json(t, &again)
	if again.CommitOid == empty.CommitOid {
		t.Error("two commits with the same message and files share an id")
	}
	p.commit("alice/m", "main?create_pr=1", header("pr", "")).wantStatus(t, 501)
}

// Two clients commit on the same parent: one wins, the other gets 412.
func TestConcurrentCommits(t *testing.T) {
	t.Parallel()
	h := uploadHub(t, Options{})
	p := pusher{t: t, h: h, token: "hf_alice"}
	p.create(nil, "m", nil).wantStatus(t, 200)
	initial, _ := h.CommitID("alice/m", "main")
	const n = 8
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			body := ndjson(t, header("c", initial), fileOp(fmt.Sprintf("f%d", i), []byte{byte(i)}))
			req, _ := http.NewRequest("POST", h.URL+"/api/models/alice/m/commit/main", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer hf_alice")
			req.Header.Set("Content-Type", "application/x-ndjson")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
			// Readers meanwhile see a consistent repo.
			if resp, err := http.Get(h.URL + "/api/models/alice/m/tree/main"); err != nil || resp.StatusCode != 200 {
				t.Errorf("tree during commits: %v %v", resp, err)
			} else {
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	ok := 0
	for _, c := range codes {
		switch c {
		case 200:
			ok++
		case 412:
		default:
			t.Errorf("status %d", c)
		}
	}
	if ok != 1 {
		t.Errorf("%d commits on the same parent succeeded, want 1 (%v)", ok, codes)
	}
}

func TestUploadAuth(t *testing.T) {
	t.Parallel()
	h := uploadHub(t, Options{})
	alice := pusher{t: t, h: h, token: "hf_alice"}
	alice.create(nil, "m", nil).wantStatus(t, 200)
	alice.create(nil, "private", map[string]any{"private": true}).wantStatus(t, 200)
	anon := pusher{t: t, h: h}
	bob := pusher{t: t, h: h, token: "hf_bob"}
	ro := pusher{t: t, h: h, token: "hf_ro"}
	bad := pusher{t: t, h: h, token: "hf_nope"}
	const rights = "You don't have the rights"

	anon.create(nil, "x", nil).wantError(t, 401, "", "Invalid username or password.")
	anon.create("alice", "x", nil).wantError(t, 401, "", "Invalid username or password.")
	ro.create(nil, "x", nil).wantError(t, 403, "", rights)
	bad.create(nil, "x", nil).wantError(t, 401, "", msgInvalidCredentials)

	files := map[string][]byte{"config.json": configJSON}
	for _, tc := range []struct {
		name string
		p    pusher
		repo string
		code int
		ec   string
		msg  string
	}{
		{"anonymous", anon, "alice/m", 401, "RepoNotFound", "Invalid username or password."},
		{"bad token", bad, "alice/m", 401, "", msgInvalidCredentials},
		{"other user", bob, "alice/m", 403, "", rights},
		{"read-only token", ro, "alice/m", 403, "", rights},
		{"private, other user", bob, "alice/private", 404, "RepoNotFound", "Repository not found"},
		{"missing repo", alice, "alice/none", 404, "RepoNotFound", "Repository not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.p.t = t
			tc.p.preupload(tc.repo, "main", files).wantError(t, tc.code, tc.ec, tc.msg)
			tc.p.batch(tc.repo, weights).wantError(t, tc.code, tc.ec, tc.msg)
			tc.p.postJSON(h.URL+"/"+tc.repo+".git/info/lfs/objects/verify", map[string]any{"oid": sha256hex(weights), "size": len(weights)}).
				wantError(t, tc.code, tc.ec, tc.msg)
			tc.p.commit(tc.repo, "main", header("x", "")).wantError(t, tc.code, tc.ec, tc.msg)
		})
	}
	alice.preupload("alice/m", "nope", files).wantError(t, 404, "RevisionNotFound", "Invalid rev id: nope")
	// The owner of a private repo writes to it.
	alice.preupload("alice/private", "main", files).wantStatus(t, 200)
	h.SetReadOnly("hf_ro", false)
	ro.preupload("alice/m", "main", files).wantStatus(t, 200)
}

func TestUploadFaults(t *testing.T) {
	t.Parallel()
	h := uploadHub(t, Options{})
	p := pusher{t: t, h: h, token: "hf_alice"}
	for _, route := range []string{RouteCreate, RouteBranch, RoutePreupload, RouteBatch, RouteUpload, RouteVerify, RouteCommit} {
		mustFault(t, h, FaultSpec{Kind: FaultStatus, Route: route, Status: 503})
	}
	p.create(nil, "m", nil).wantStatus(t, 503)
	p.create(nil, "m", nil).wantStatus(t, 200)
	initial, _ := h.CommitID("alice/m", "main")
	p.postJSON(h.URL+"/api/models/alice/m/branch/dev", map[string]any{}).wantStatus(t, 503)
	p.preupload("alice/m", "main", map[string][]byte{"a.bin": weights}).wantStatus(t, 503)
	p.batch("alice/m", []byte("new")).wantStatus(t, 503)
	var br batchResult
	p.batch("alice/m", []byte("new")).wantStatus(t, 200).json(t, &br)
	send(t, "PUT", br.Objects[0].Actions["upload"].Href, []byte("new")).wantStatus(t, 503)
	send(t, "PUT", br.Objects[0].Actions["upload"].Href, []byte("new")).wantStatus(t, 200)
	p.postJSON(br.Objects[0].Actions["verify"].Href, map[string]any{"oid": sha256hex([]byte("new")), "size": 3}).wantStatus(t, 503)
	p.commit("alice/m", "main", header("x", "")).wantStatus(t, 503)
	if head, _ := h.CommitID("alice/m", "main"); head != initial {
		t.Error("a commit answered 503 moved the branch")
	}
	// A commit whose answer is cut off was made all the same.
	mustFault(t, h, FaultSpec{Kind: FaultTruncate, Route: RouteCommit, Bytes: 10})
	r := p.commit("alice/m", "main", header("x", ""))
	if r.readErr == nil {
		t.Errorf("truncated commit answer read whole: %q", r.body)
	}
	if head, _ := h.CommitID("alice/m", "main"); head == initial {
		t.Error("the truncated commit was not made")
	}
	if len(h.Faults()) != 0 {
		t.Errorf("faults left: %+v", h.Faults())
	}
}
