// Package testutil holds the helpers the shared packages' tests have in
// common: laying a model out in a real hub cache, reference hashes computed
// independently of the code under test, and the key order of a JSON
// object.
package testutil

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlxk/mlxk/shared/cachewrite"
)

// PutModel lays files (repo path → content) out as one snapshot of id in
// the hub cache with cachewrite, as huggingface_hub would, pointing refs at
// it. An empty commit is derived from the content.
func PutModel(t testing.TB, hub, id, commit string, refs []string, files map[string]string) cachewrite.Written {
	t.Helper()
	src := t.TempDir()
	var fs []cachewrite.File
	for rel, content := range files {
		p := filepath.Join(src, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		fs = append(fs, cachewrite.File{Path: rel, Src: p})
	}
	w, err := cachewrite.Write(hub, cachewrite.Snapshot{RepoID: id, Commit: commit, Refs: refs, Files: fs})
	if err != nil {
		t.Fatalf("cachewrite.Write(%s): %v", id, err)
	}
	return w
}

// SHA256Hex is the LFS object id of b.
func SHA256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// GitSHA1Hex is the git blob id of b: sha1("blob <len>\x00" + b).
func GitSHA1Hex(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// Keys returns the top-level keys of a JSON object in document order.
func Keys(t testing.TB, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s", b)
	}
	var out []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
