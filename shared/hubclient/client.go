// Package hubclient talks to the Hugging Face Hub (or anything speaking its
// protocol, such as the fake Hub in package hubtest) the way
// huggingface_hub does: repository info, file listings, file metadata by
// HEAD with relative redirects, and resumable ranged downloads. Errors are
// classified from X-Error-Code first, then the status, into the typed
// errors of this package, before anything is written to a cache.
package hubclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mlxk/mlxk/shared/buildinfo"
)

// DefaultEndpoint is the public Hub.
const DefaultEndpoint = "https://huggingface.co"

// Client is a Hub client. The zero value is not usable; build one with New
// or FromEnv.
type Client struct {
	Endpoint string // no trailing slash
	Token    string // never logged
	HTTP     *http.Client
	// Offline refuses every request (HF_HUB_OFFLINE).
	Offline bool
	// Retries is how many times a transient failure (network, 408, 429,
	// 5xx) is retried, with backoff.
	Retries int
	// Backoff is the first retry delay; it doubles up to 8 times itself.
	Backoff time.Duration
	// StallTimeout is how long a download body may go without a byte
	// before it is cut and resumed.
	StallTimeout time.Duration
}

// New returns a client for endpoint with a transport that never follows
// redirects on its own (the protocol needs each hop's headers).
func New(endpoint, token string) *Client {
	return &Client{
		Endpoint: strings.TrimRight(endpoint, "/"),
		Token:    token,
		HTTP: &http.Client{
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Transport: &http.Transport{
				Proxy:                 http.ProxyFromEnvironment,
				DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
				MaxIdleConnsPerHost:   16,
				IdleConnTimeout:       90 * time.Second,
				TLSHandshakeTimeout:   10 * time.Second,
				ResponseHeaderTimeout: 30 * time.Second,
				DisableCompression:    true, // identity bodies keep Range offsets exact
			},
		},
		Retries:      5,
		Backoff:      time.Second,
		StallTimeout: 30 * time.Second,
	}
}

// FromEnv builds a client from the environment as huggingface_hub does:
// HF_ENDPOINT, a token from HF_TOKEN, then HUGGING_FACE_HUB_TOKEN, then the
// file HF_TOKEN_PATH (default <hfHome>/token), and HF_HUB_OFFLINE.
func FromEnv(getenv func(string) string, hfHome string) *Client {
	endpoint := getenv("HF_ENDPOINT")
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	c := New(endpoint, resolveToken(getenv, hfHome))
	c.Offline = isTrue(getenv("HF_HUB_OFFLINE")) || isTrue(getenv("TRANSFORMERS_OFFLINE"))
	// Tuning for slow links and for tests: MLXK_RETRY_BACKOFF is the first
	// retry delay, MLXK_STALL_TIMEOUT how long a body may stay silent.
	if d, err := time.ParseDuration(getenv("MLXK_RETRY_BACKOFF")); err == nil && d >= 0 {
		c.Backoff = d
	}
	if d, err := time.ParseDuration(getenv("MLXK_STALL_TIMEOUT")); err == nil && d > 0 {
		c.StallTimeout = d
	}
	return c
}

func resolveToken(getenv func(string) string, hfHome string) string {
	if isTrue(getenv("HF_HUB_DISABLE_IMPLICIT_TOKEN")) {
		return ""
	}
	for _, k := range []string{"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"} {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
	}
	path := getenv("HF_TOKEN_PATH")
	if path == "" {
		path = filepath.Join(hfHome, "token")
	}
	b, err := os.ReadFile(path)
	if err != nil || len(b) > 4096 {
		return ""
	}
	return strings.TrimSpace(strings.NewReplacer("\r", "", "\n", "").Replace(string(b)))
}

func isTrue(v string) bool {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "1", "ON", "YES", "TRUE":
		return true
	}
	return false
}

// ErrOffline is returned for every request when Offline is set.
var ErrOffline = errors.New("offline mode is enabled (HF_HUB_OFFLINE)")

func (c *Client) newRequest(ctx context.Context, method, rawURL string, withAuth bool) (*http.Request, error) {
	if c.Offline {
		return nil, ErrOffline
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "mlxk/"+buildinfo.CLIVersion+"; go/"+strings.TrimPrefix(buildinfo.GoVersion(), "go"))
	req.Header.Set("Accept-Encoding", "identity")
	if withAuth && c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	return req, nil
}

// escapeRev escapes a revision as one path segment (refs/pr/1 →
// refs%2Fpr%2F1).
func escapeRev(rev string) string { return url.PathEscape(rev) }

// escapePath escapes each segment of a repo file path, keeping the slashes.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// Sibling is one file of a repository as model info lists it.
type Sibling struct {
	Name string `json:"rfilename"`
	Size *int64 `json:"size,omitempty"`
}

// Info is the part of GET /api/models/{repo}[/revision/{rev}] mlxk uses.
type Info struct {
	ID       string    `json:"id"`
	SHA      string    `json:"sha"`
	Private  bool      `json:"private"`
	Gated    any       `json:"gated"` // false, "auto" or "manual"
	Siblings []Sibling `json:"siblings"`
}

// ModelInfo fetches repository info at a revision ("" for the default
// branch). It is the preflight: a gated, private or missing repo or
// revision fails here, before anything touches the cache.
func (c *Client) ModelInfo(ctx context.Context, repo, rev string) (Info, error) {
	u := c.Endpoint + "/api/models/" + repo
	if rev != "" {
		u += "/revision/" + escapeRev(rev)
	}
	var info Info
	err := c.getJSON(ctx, u, &info)
	if err == nil && info.SHA == "" {
		err = fmt.Errorf("model info for %s has no commit sha", repo)
	}
	return info, err
}

// TreeEntry is one entry of the recursive tree listing.
type TreeEntry struct {
	Type string `json:"type"` // "file" or "directory"
	Path string `json:"path"`
	Size int64  `json:"size"`
	OID  string `json:"oid"`
	LFS  *struct {
		OID  string `json:"oid"`
		Size int64  `json:"size"`
	} `json:"lfs,omitempty"`
}

// ETag returns the blob name the cache will use: the sha256 for LFS
// files, the git blob id otherwise.
func (e TreeEntry) ETag() string {
	if e.LFS != nil {
		return e.LFS.OID
	}
	return e.OID
}

// ContentSize is the size of the file's content (not of its LFS pointer).
func (e TreeEntry) ContentSize() int64 {
	if e.LFS != nil {
		return e.LFS.Size
	}
	return e.Size
}

// ListFiles lists every file of a commit with the tree API, following
// pagination.
func (c *Client) ListFiles(ctx context.Context, repo, commit string) ([]TreeEntry, error) {
	next := c.Endpoint + "/api/models/" + repo + "/tree/" + escapeRev(commit) + "?recursive=true&expand=false"
	var files []TreeEntry
	for pages := 0; next != ""; pages++ {
		if pages > 10000 {
			return nil, errors.New("tree listing does not end")
		}
		var page []TreeEntry
		resp, err := c.do(ctx, http.MethodGet, next, true)
		if err != nil {
			return nil, err
		}
		err = json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&page)
		link := resp.Header.Get("Link")
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("tree of %s: %w", repo, err)
		}
		for _, e := range page {
			if e.Type == "file" {
				files = append(files, e)
			}
		}
		next = nextLink(link, next)
	}
	return files, nil
}

// nextLink extracts rel="next" from a Link header, resolved against base.
func nextLink(header, base string) string {
	for _, part := range strings.Split(header, ",") {
		part = strings.TrimSpace(part)
		if !strings.Contains(part, `rel="next"`) {
			continue
		}
		start, end := strings.Index(part, "<"), strings.Index(part, ">")
		if start < 0 || end < start {
			continue
		}
		b, err := url.Parse(base)
		if err != nil {
			return ""
		}
		n, err := b.Parse(part[start+1 : end])
		if err != nil {
			return ""
		}
		return n.String()
	}
	return ""
}

func (c *Client) getJSON(ctx context.Context, u string, v any) error {
	resp, err := c.do(ctx, http.MethodGet, u, true)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(v)
}

// do sends a request with retries on transient failures and returns a 2xx
// or 3xx response; other statuses become *Error.
func (c *Client) do(ctx context.Context, method, u string, withAuth bool) (*http.Response, error) {
	return c.send(ctx, c.Retries, func() (*http.Request, error) { return c.newRequest(ctx, method, u, withAuth) })
}

// send runs attempts of a request built afresh by mk (so a body can be sent
// again), retrying transient failures (network, 408, 429, 5xx) up to
// retries times with backoff, and returns the first response below 400.
func (c *Client) send(ctx context.Context, retries int, mk func() (*http.Request, error)) (*http.Response, error) {
	var lastErr error
	for attempt := 0; ; attempt++ {
		req, err := mk()
		if err != nil {
			return nil, err
		}
		resp, err := c.HTTP.Do(req)
		if err == nil && resp.StatusCode < 400 {
			return resp, nil
		}
		var retryAfter time.Duration
		if err == nil {
			lastErr = classify(resp, req.URL)
			retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"))
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
		} else {
			lastErr = networkError(err)
		}
		if !Transient(lastErr) || attempt >= retries || ctx.Err() != nil {
			return nil, lastErr
		}
		if err := c.sleep(ctx, attempt, retryAfter); err != nil {
			return nil, lastErr
		}
	}
}

// sleep waits before retry attempt+1: Retry-After when the server gave
// one, else exponential backoff capped at 8× the base.
func (c *Client) sleep(ctx context.Context, attempt int, retryAfter time.Duration) error {
	d := c.Backoff << min(attempt, 3)
	if retryAfter > 0 {
		d = min(retryAfter, 60*time.Second)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}
