package hubtest

import (
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestModelInfo(t *testing.T) {
	t.Parallel()
	h := newHub(t, Options{})
	commit, _ := h.CommitID("org/model", "main")
	var raw map[string]any
	do(t, nil, "GET", h.URL+"/api/models/org/model").wantStatus(t, 200).json(t, &raw)
	if raw["id"] != "org/model" || raw["modelId"] != "org/model" || raw["sha"] != commit ||
		raw["private"] != false || raw["gated"] != false || raw["lastModified"] != "2024-01-01T00:00:00.000Z" {
		t.Errorf("info = %v", raw)
	}
	if cfg, _ := raw["config"].(map[string]any); cfg["model_type"] != "llama" {
		t.Errorf("config = %v", raw["config"])
	}
	var names []string
	for _, s := range raw["siblings"].([]any) {
		m := s.(map[string]any)
		names = append(names, m["rfilename"].(string))
		if len(m) != 1 {
			t.Errorf("sibling without blobs=true has %v", m)
		}
	}
	want := []string{"config.json", "model.safetensors", "tokenizer/merges.txt", "tokenizer/sub/x.model", "tokenizer/vocab.txt"}
	if !slices.Equal(names, want) {
		t.Errorf("siblings %v, want %v", names, want)
	}

	var blobs struct {
		Siblings []struct {
			Rfilename string
			BlobID    string
			Size      int
			LFS       *struct {
				Sha256      string
				Size        int
				PointerSize int
			}
		}
	}
	do(t, nil, "GET", h.URL+"/api/models/org/model/revision/main?blobs=true").wantStatus(t, 200).json(t, &blobs)
	for _, s := range blobs.Siblings {
		switch s.Rfilename {
		case "config.json":
			if s.BlobID != gitBlobSHA1(configJSON) || s.Size != len(configJSON) || s.LFS != nil {
				t.Errorf("config.json sibling %+v", s)
			}
		case "model.safetensors":
			ptr := lfsPointer(sha256hex(weights), len(weights))
			if s.LFS == nil || s.LFS.Sha256 != sha256hex(weights) || s.LFS.Size != len(weights) ||
				s.LFS.PointerSize != len(ptr) || s.BlobID != gitBlobSHA1([]byte(ptr)) || s.Size != len(weights) {
				t.Errorf("model.safetensors sibling %+v", s)
			}
		}
	}

	raw = nil
	do(t, nil, "GET", h.URL+"/api/models/org/model?expand=sha&expand=gated").wantStatus(t, 200).json(t, &raw)
	keys := slices.Sorted(maps.Keys(raw))
	if !slices.Equal(keys, []string{"_id", "gated", "id", "sha"}) {
		t.Errorf("expand=sha&expand=gated keys %v", keys)
	}
}

func TestGatedInfoSaysManual(t *testing.T) {
	t.Parallel()
	h := newHub(t, Options{})
	if err := h.AddRepo("org/g", Repo{RepoOptions: RepoOptions{Gated: true}, Branches: map[string]Commit{"main": {Files: fixtureFiles()}}}); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	do(t, nil, "GET", h.URL+"/api/models/org/g").wantStatus(t, 200).json(t, &raw)
	if raw["gated"] != "manual" {
		t.Errorf("gated = %v", raw["gated"])
	}
}

func treePaths(es []treeEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Type[:1]+" "+e.Path)
	}
	return out
}

func TestTree(t *testing.T) {
	t.Parallel()
	h := newHub(t, Options{})
	var root []treeEntry
	do(t, nil, "GET", h.URL+"/api/models/org/model/tree/main").wantStatus(t, 200).json(t, &root)
	if got, want := treePaths(root), []string{"f config.json", "f model.safetensors", "d tokenizer"}; !slices.Equal(got, want) {
		t.Errorf("root tree %v, want %v", got, want)
	}
	var all []treeEntry
	do(t, nil, "GET", h.URL+"/api/models/org/model/tree/main?recursive=true").wantStatus(t, 200).json(t, &all)
	want := []string{"f config.json", "f model.safetensors", "d tokenizer", "f tokenizer/merges.txt",
		"d tokenizer/sub", "f tokenizer/sub/x.model", "f tokenizer/vocab.txt"}
	if got := treePaths(all); !slices.Equal(got, want) {
		t.Errorf("recursive tree %v, want %v", got, want)
	}
	for _, e := range all {
		switch e.Path {
		case "config.json":
			if e.OID != gitBlobSHA1(configJSON) || e.Size != int64(len(configJSON)) || e.LFS != nil {
				t.Errorf("config.json entry %+v", e)
			}
		case "model.safetensors":
			ptr := lfsPointer(sha256hex(weights), len(weights))
			if e.OID != gitBlobSHA1([]byte(ptr)) || e.LFS == nil || *e.LFS != (lfsEntry{OID: sha256hex(weights), Size: 4096, PointerSize: len(ptr)}) {
				t.Errorf("model.safetensors entry %+v %+v", e, e.LFS)
			}
		case "tokenizer":
			if e.Size != 0 || len(e.OID) != 40 {
				t.Errorf("directory entry %+v", e)
			}
		}
	}
	// A folder, as one escaped segment (Python) or several.
	for _, p := range []string{"tokenizer%2Fsub", "tokenizer/sub"} {
		var sub []treeEntry
		do(t, nil, "GET", h.URL+"/api/models/org/model/tree/main/"+p).wantStatus(t, 200).json(t, &sub)
		if got := treePaths(sub); !slices.Equal(got, []string{"f tokenizer/sub/x.model"}) {
			t.Errorf("tree of %s: %v", p, got)
		}
	}
}

var linkNext = regexp.MustCompile(`^<([^>]+)>; rel="next"$`)

func TestTreePagination(t *testing.T) {
	t.Parallel()
	h := newHub(t, Options{TreePageSize: 2})
	u := h.URL + "/api/models/org/model/tree/main?recursive=true"
	var pages [][]treeEntry
	for u != "" && len(pages) < 10 {
		var page []treeEntry
		r := do(t, nil, "GET", u).wantStatus(t, 200)
		r.json(t, &page)
		pages = append(pages, page)
		u = ""
		if l := r.Header.Get("Link"); l != "" {
			m := linkNext.FindStringSubmatch(l)
			if m == nil || !strings.HasPrefix(m[1], h.URL+"/api/models/org/model/tree/main?") || !strings.Contains(m[1], "cursor=") ||
				!strings.Contains(m[1], "recursive=true") {
				t.Fatalf("Link %q", l)
			}
			u = m[1]
		}
	}
	if len(pages) != 4 {
		t.Fatalf("%d pages, want 4 (7 entries, 2 a page)", len(pages))
	}
	var joined []treeEntry
	for _, p := range pages {
		joined = append(joined, p...)
	}
	h.SetTreePageSize(1000)
	var all []treeEntry
	r := do(t, nil, "GET", h.URL+"/api/models/org/model/tree/main?recursive=true").wantStatus(t, 200)
	r.json(t, &all)
	if r.Header.Get("Link") != "" {
		t.Errorf("single page has Link %q", r.Header.Get("Link"))
	}
	if !reflect.DeepEqual(joined, all) {
		t.Errorf("pages joined %v\nwant %v", treePaths(joined), treePaths(all))
	}
	do(t, nil, "GET", h.URL+"/api/models/org/model/tree/main?cursor=garbage").wantStatus(t, http.StatusBadRequest)
}

func TestRefs(t *testing.T) {
	t.Parallel()
	h := newHub(t, Options{})
	err := h.AddRepo("org/refs", Repo{
		Branches: map[string]Commit{"main": {Files: fixtureFiles()}, "dev": {Files: map[string][]byte{"a": nil}}, "refs/pr/1": {Files: map[string][]byte{"b": nil}}},
		Tags:     map[string]string{"v1": "main"},
	})
	if err != nil {
		t.Fatal(err)
	}
	main, _ := h.CommitID("org/refs", "main")
	dev, _ := h.CommitID("org/refs", "dev")
	pr, _ := h.CommitID("org/refs", "refs/pr/1")
	type ref struct{ Name, Ref, TargetCommit string }
	var refs struct {
		Branches, Converts, Tags []ref
		PullRequests             []ref
	}
	do(t, nil, "GET", h.URL+"/api/models/org/refs/refs").wantStatus(t, 200).json(t, &refs)
	if !reflect.DeepEqual(refs.Branches, []ref{{"dev", "refs/heads/dev", dev}, {"main", "refs/heads/main", main}}) ||
		!reflect.DeepEqual(refs.Tags, []ref{{"v1", "refs/tags/v1", main}}) || refs.PullRequests != nil || refs.Converts == nil {
		t.Errorf("refs = %+v", refs)
	}
	do(t, nil, "GET", h.URL+"/api/models/org/refs/refs?include_prs=1").wantStatus(t, 200).json(t, &refs)
	if !reflect.DeepEqual(refs.PullRequests, []ref{{"refs/pr/1", "refs/pr/1", pr}}) {
		t.Errorf("pullRequests = %+v", refs.PullRequests)
	}
}
