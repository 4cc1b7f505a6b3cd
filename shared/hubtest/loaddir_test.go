package hubtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTree creates files from "path: content" pairs under root.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o666); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadDir(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"org/plain/config.json":               `{"model_type":"llama"}`,
		"org/plain/model.safetensors":         "weights",
		"org/plain@dev/config.json":           `{"dev":true}`,
		"org/plain@refs%2Fpr%2F1/config.json": `{"pr":1}`,
		"org/secret/config.json":              `{}`,
		"org/secret.hub.json":                 `{"private": true, "approved_tokens": ["hf_ok"], "branches": {"v2": "secret-v2"}, "tags": {"v1.0": "main"}}`,
		"org/secret-v2/config.json":           `{"v":2}`,
		"other/gated/config.json":             `{}`,
		"other/gated.hub.json":                `{"gated": true}`,
	})
	h, err := New(Options{Tokens: map[string]string{"hf_ok": "carol"}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.LoadDir(root); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		url, token string
		status     int
		body       string
	}{
		{"/org/plain/resolve/main/config.json", "", 200, `{"model_type":"llama"}`},
		{"/org/plain/resolve/dev/config.json", "", 200, `{"dev":true}`},
		{"/org/plain/resolve/refs%2Fpr%2F1/config.json", "", 200, `{"pr":1}`},
		{"/org/plain/resolve/main/model.safetensors", "", 302, ""},
		{"/org/secret/resolve/main/config.json", "", 401, ""},
		{"/org/secret/resolve/v1.0/config.json", "hf_ok", 200, `{}`},
		{"/org/secret/resolve/v2/config.json", "hf_ok", 200, `{"v":2}`},
		{"/org/secret-v2/resolve/main/config.json", "hf_ok", 404, ""}, // a branch folder, not a repo
		{"/other/gated/resolve/main/config.json", "", 401, ""},
		{"/api/models/other/gated", "", 200, ""},
	} {
		var hdr []string
		if tc.token != "" {
			hdr = append(hdr, "Authorization: Bearer "+tc.token)
		}
		r := do(t, nil, "GET", h.URL+tc.url, hdr...).wantStatus(t, tc.status)
		if tc.body != "" && string(r.body) != tc.body {
			t.Errorf("%s: body %q, want %q", tc.url, r.body, tc.body)
		}
	}
	c1, _ := h.CommitID("org/plain", "main")
	c2, _ := h.CommitID("org/plain", "dev")
	if c1 == c2 || !isCommitID(c1) {
		t.Errorf("commits %s %s", c1, c2)
	}
}

func TestLoadDirErrors(t *testing.T) {
	t.Parallel()
	for name, files := range map[string]map[string]string{
		"unknown sidecar key":  {"org/m/a.json": "{}", "org/m.hub.json": `{"privat": true}`},
		"file at the top":      {"README": "x"},
		"file in an org":       {"org/README": "x"},
		"missing branch tree":  {"org/m/a.json": "{}", "org/m.hub.json": `{"branches": {"dev": "nope"}}`},
		"tag pointing nowhere": {"org/m/a.json": "{}", "org/m.hub.json": `{"tags": {"v1": "dev"}}`},
		"branch twice":         {"org/m/a.json": "{}", "org/m@dev/a.json": "{}", "org/m.hub.json": `{"branches": {"dev": "m-dev"}}`, "org/m-dev/a.json": "{}"},
	} {
		root := t.TempDir()
		writeTree(t, root, files)
		h, err := New(Options{})
		if err != nil {
			t.Fatal(err)
		}
		err = h.LoadDir(root)
		h.Close()
		if err == nil {
			t.Errorf("%s: LoadDir succeeded", name)
		} else if !strings.Contains(err.Error(), "hubtest") {
			t.Errorf("%s: error without context: %v", name, err)
		}
	}
	h, _ := New(Options{})
	defer h.Close()
	if err := h.LoadDir(filepath.Join(t.TempDir(), "absent")); err == nil {
		t.Error("LoadDir of a missing folder succeeded")
	}
}

func TestAddRepoFromDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"config.json": "{}", "sub/tokenizer.json": "[]"})
	h := newHub(t, Options{})
	if err := h.AddRepoFromDir("org/fromdir", dir, RepoOptions{Private: true, ApprovedTokens: []string{"t"}}); err != nil {
		t.Fatal(err)
	}
	h.AddToken("t", "someone")
	do(t, nil, "GET", h.URL+"/org/fromdir/resolve/main/sub/tokenizer.json").wantStatus(t, 401)
	r := do(t, nil, "GET", h.URL+"/org/fromdir/resolve/main/sub/tokenizer.json", "Authorization: Bearer t").wantStatus(t, 200)
	if string(r.body) != "[]" {
		t.Errorf("body %q", r.body)
	}
	if err := h.AddRepoFromDir("org/x", filepath.Join(dir, "absent"), RepoOptions{}); err == nil {
		t.Error("AddRepoFromDir of a missing folder succeeded")
	}
}
