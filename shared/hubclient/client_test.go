package hubclient

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		code   string
		msg    string
		want   Kind
	}{
		{401, "GatedRepo", "restricted", KindGated},
		{403, "GatedRepo", "restricted", KindGated},
		{401, "RepoNotFound", "Invalid username or password.", KindRepoNotFound},
		{404, "RevisionNotFound", "Invalid rev id: x", KindRevisionNotFound},
		{404, "EntryNotFound", "x does not exist", KindEntryNotFound},
		{403, "", "Access to this resource is disabled.", KindForbidden},
		{401, "", "Invalid credentials in Authorization header", KindUnauthorized},
		{404, "", "", KindRepoNotFound},
		{429, "", "", KindRateLimited},
		{503, "", "", KindServer},
		{408, "", "", KindServer},
		{400, "", "bad", KindOther},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tc.code != "" {
				w.Header().Set("X-Error-Code", tc.code)
			}
			if tc.msg != "" {
				w.Header().Set("X-Error-Message", tc.msg)
			}
			w.WriteHeader(tc.status)
		}))
		c := New(srv.URL, "")
		c.Retries = 0
		_, err := c.ModelInfo(context.Background(), "org/m", "")
		srv.Close()
		if got := KindOf(err); got != tc.want {
			t.Errorf("status %d code %q: kind %v, want %v (%v)", tc.status, tc.code, got, tc.want, err)
		}
		if Transient(err) != (tc.want == KindRateLimited || tc.want == KindServer) {
			t.Errorf("status %d: Transient = %v", tc.status, Transient(err))
		}
	}
}

func TestRetriesHonourRetryAfterThenSucceed(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Write([]byte(`{"id":"org/m","sha":"0123456789abcdef0123456789abcdef01234567"}`))
	}))
	defer srv.Close()
	c := New(srv.URL, "")
	c.Backoff = time.Millisecond
	info, err := c.ModelInfo(context.Background(), "org/m", "")
	if err != nil || info.SHA == "" || calls.Load() != 3 {
		t.Fatalf("ModelInfo = %+v, %v after %d calls", info, err, calls.Load())
	}
}

func TestNextLinkAndEscaping(t *testing.T) {
	t.Parallel()
	base := "http://hub/api/models/org/m/tree/main?recursive=true"
	if got := nextLink(`<http://hub/api/models/org/m/tree/main?cursor=abc>; rel="next"`, base); got != "http://hub/api/models/org/m/tree/main?cursor=abc" {
		t.Errorf("absolute next = %q", got)
	}
	if got := nextLink(`</api/x?cursor=2>; rel="next", </api/x?cursor=0>; rel="prev"`, base); got != "http://hub/api/x?cursor=2" {
		t.Errorf("relative next = %q", got)
	}
	if got := nextLink(`</api/x?cursor=0>; rel="prev"`, base); got != "" {
		t.Errorf("no next = %q", got)
	}
	c := New("http://hub/", "")
	if got := c.ResolveURL("org/m", "refs/pr/1", "sub dir/a b.json"); got != "http://hub/org/m/resolve/refs%2Fpr%2F1/sub%20dir/a%20b.json" {
		t.Errorf("ResolveURL = %q", got)
	}
	if normalizeETag(`W/"abc"`) != "abc" || normalizeETag(`"def"`) != "def" {
		t.Error("normalizeETag")
	}
	if !sameOrigin("http://h:1/a", "http://h:1/b") || sameOrigin("http://h:1/a", "http://h:2/a") || sameOrigin("http://h/a", "http://localhost/a") {
		t.Error("sameOrigin must compare scheme, host and port")
	}
}

func TestTokenResolution(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if tok := resolveToken(getenv, home); tok != "" {
		t.Fatalf("no token anywhere = %q", tok)
	}
	if err := os.WriteFile(filepath.Join(home, "token"), []byte("hf_file\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if tok := resolveToken(getenv, home); tok != "hf_file" {
		t.Errorf("token file = %q", tok)
	}
	env["HUGGING_FACE_HUB_TOKEN"] = "hf_legacy"
	if tok := resolveToken(getenv, home); tok != "hf_legacy" {
		t.Errorf("legacy env = %q", tok)
	}
	env["HF_TOKEN"] = "hf_env"
	if tok := resolveToken(getenv, home); tok != "hf_env" {
		t.Errorf("HF_TOKEN = %q", tok)
	}
	env["HF_HUB_DISABLE_IMPLICIT_TOKEN"] = "1"
	if tok := resolveToken(getenv, home); tok != "" {
		t.Errorf("implicit token disabled = %q", tok)
	}
}

func TestOffline(t *testing.T) {
	t.Parallel()
	c := FromEnv(func(k string) string {
		if k == "HF_HUB_OFFLINE" {
			return "yes"
		}
		return ""
	}, t.TempDir())
	if _, err := c.ModelInfo(context.Background(), "org/m", ""); err != ErrOffline {
		t.Errorf("offline ModelInfo error = %v", err)
	}
}
