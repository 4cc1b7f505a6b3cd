package hubtest

import (
	"net/http"
	"testing"
)

// visibilityHub serves one repo of each kind; alice owns her namespace,
// hf_ok is approved where approval matters.
func visibilityHub(t *testing.T, opts Options) *Hub {
	t.Helper()
	opts.Tokens = map[string]string{"hf_alice": "alice", "hf_bob": "bob", "hf_ok": "carol"}
	h := newHub(t, opts)
	files := map[string]Commit{"main": {Files: map[string][]byte{"config.json": configJSON, "model.safetensors": weights}}}
	for id, o := range map[string]RepoOptions{
		"org/private":    {Private: true, ApprovedTokens: []string{"hf_ok"}},
		"alice/own":      {Private: true},
		"org/gated":      {Gated: true, ApprovedTokens: []string{"hf_ok"}},
		"alice/gated":    {Gated: true},
		"org/disabled":   {Disabled: true},
		"org/privgated":  {Private: true, Gated: true},
		"org/everything": {},
	} {
		if err := h.AddRepo(id, Repo{RepoOptions: o, Branches: files}); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func TestVisibilityTable(t *testing.T) {
	t.Parallel()
	h := visibilityHub(t, Options{})
	resolve := func(repo string) string { return h.URL + "/" + repo + "/resolve/main/config.json" }
	info := func(repo string) string { return h.URL + "/api/models/" + repo }
	tree := func(repo string) string { return h.URL + "/api/models/" + repo + "/tree/main" }
	const (
		anon = ""
		bob  = "hf_bob"
	)
	gatedAnon := "Access to model org/gated is restricted. You must have access to it and be authenticated to access it. Please log in."
	gatedBob := "Access to model org/gated is restricted and you are not in the authorized list. Visit " + h.URL + "/org/gated to ask for access."
	for _, tc := range []struct {
		name, url, token string
		status           int
		code, msg        string
	}{
		{"public anonymous", resolve("org/model"), anon, 200, "", ""},
		{"bad token on a public repo", resolve("org/model"), "hf_nope", 401, "", msgInvalidCredentials},
		{"bad token on refs", h.URL + "/api/models/org/model/refs", "hf_nope", 401, "", msgInvalidCredentials},
		{"private anonymous resolve", resolve("org/private"), anon, 401, "RepoNotFound", "Invalid username or password."},
		{"private anonymous info", info("org/private"), anon, 401, "RepoNotFound", "Invalid username or password."},
		{"private authenticated without access", resolve("org/private"), bob, 404, "RepoNotFound", "Repository not found"},
		{"private authenticated info", info("org/private"), bob, 404, "RepoNotFound", "Repository not found"},
		{"private approved token", resolve("org/private"), "hf_ok", 200, "", ""},
		{"private owner", resolve("alice/own"), "hf_alice", 200, "", ""},
		{"private other user", tree("alice/own"), bob, 404, "RepoNotFound", "Repository not found"},
		{"missing anonymous", resolve("org/missing"), anon, 401, "RepoNotFound", "Invalid username or password."},
		{"missing authenticated", info("org/missing"), bob, 404, "RepoNotFound", "Repository not found"},
		{"gated anonymous resolve", resolve("org/gated"), anon, 401, "GatedRepo", gatedAnon},
		{"gated anonymous info readable", info("org/gated"), anon, 200, "", ""},
		{"gated anonymous tree readable", tree("org/gated"), anon, 200, "", ""},
		{"gated not approved", resolve("org/gated"), bob, 403, "GatedRepo", gatedBob},
		{"gated approved", resolve("org/gated"), "hf_ok", 200, "", ""},
		{"gated owner", resolve("alice/gated"), "hf_alice", 200, "", ""},
		{"private and gated, anonymous", resolve("org/privgated"), anon, 401, "RepoNotFound", "Invalid username or password."},
		{"disabled", resolve("org/disabled"), anon, 403, "", "Access to this resource is disabled."},
		{"missing revision", h.URL + "/org/model/resolve/nope/config.json", anon, 404, "RevisionNotFound", "Invalid rev id: nope"},
		{"missing revision info", h.URL + "/api/models/org/model/revision/nope", anon, 404, "RevisionNotFound", "Invalid rev id: nope"},
		{"missing revision tree", h.URL + "/api/models/org/model/tree/nope", anon, 404, "RevisionNotFound", "Invalid rev id: nope"},
		{"missing file", h.URL + "/org/model/resolve/main/nope.json", anon, 404, "EntryNotFound", `nope.json does not exist on "main"`},
		{"missing folder", h.URL + "/api/models/org/model/tree/main/nope", anon, 404, "EntryNotFound", `nope does not exist on "main"`},
		{"xet token", h.URL + "/api/models/org/model/xet-read-token/main", anon, 501, "", "Xet is not available on this hub"},
		{"unknown route", h.URL + "/api/spaces/org/model", anon, 404, "", "Sorry, we can't find the page you are looking for."},
		{"whoami anonymous", h.URL + "/api/whoami-v2", anon, 401, "", "Invalid username or password."},
		{"whoami", h.URL + "/api/whoami-v2", "hf_alice", 200, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.token != "" {
				hdr = append(hdr, "Authorization: Bearer "+tc.token)
			}
			for _, method := range []string{http.MethodHead, http.MethodGet} {
				r := do(t, nil, method, tc.url, hdr...)
				// LFS resolves would redirect; config.json is a regular file.
				r.wantStatus(t, tc.status)
				if got := r.Header.Get("X-Error-Code"); got != tc.code {
					t.Errorf("%s: X-Error-Code %q, want %q", method, got, tc.code)
				}
				if got := r.Header.Get("X-Error-Message"); got != tc.msg {
					t.Errorf("%s: X-Error-Message %q, want %q", method, got, tc.msg)
				}
				if method == http.MethodGet && tc.status >= 400 {
					var body struct{ Error string }
					r.json(t, &body)
					if body.Error != tc.msg {
						t.Errorf("body error %q, want %q", body.Error, tc.msg)
					}
				}
			}
		})
	}
}

func TestEntryNotFoundCarriesCommit(t *testing.T) {
	t.Parallel()
	h := newHub(t, Options{})
	commit, err := h.CommitID("org/model", "main")
	if err != nil {
		t.Fatal(err)
	}
	r := do(t, nil, "HEAD", h.URL+"/org/model/resolve/main/missing.txt").wantStatus(t, 404)
	if got := r.Header.Get("X-Repo-Commit"); got != commit {
		t.Errorf("X-Repo-Commit %q, want %q", got, commit)
	}
}

func TestStrictGatedRefusesMetadata(t *testing.T) {
	t.Parallel()
	h := visibilityHub(t, Options{StrictGated: true})
	r := do(t, nil, "GET", h.URL+"/api/models/org/gated").wantStatus(t, 401)
	if got := r.Header.Get("X-Error-Code"); got != "GatedRepo" {
		t.Errorf("X-Error-Code %q, want GatedRepo", got)
	}
	do(t, nil, "GET", h.URL+"/api/models/org/gated", "Authorization: Bearer hf_ok").wantStatus(t, 200)
}

func TestWhoami(t *testing.T) {
	t.Parallel()
	h := visibilityHub(t, Options{})
	h.AddToken("hf_new", "dave")
	h.AddOrg("dave", "acme")
	type whoami struct {
		Type, Name string
		Orgs       []struct{ Type, Name string }
		Auth       struct{ AccessToken struct{ Role string } }
	}
	var me whoami
	do(t, nil, "GET", h.URL+"/api/whoami-v2", "Authorization: Bearer hf_new").wantStatus(t, 200).json(t, &me)
	if me.Name != "dave" || me.Type != "user" || me.Auth.AccessToken.Role != "write" ||
		len(me.Orgs) != 1 || me.Orgs[0].Name != "acme" || me.Orgs[0].Type != "org" {
		t.Errorf("whoami = %+v", me)
	}
	h.SetReadOnly("hf_new", true)
	me = whoami{}
	do(t, nil, "GET", h.URL+"/api/whoami-v2", "Authorization: Bearer hf_new").wantStatus(t, 200).json(t, &me)
	if me.Auth.AccessToken.Role != "read" {
		t.Errorf("read-only whoami role %q", me.Auth.AccessToken.Role)
	}
}
