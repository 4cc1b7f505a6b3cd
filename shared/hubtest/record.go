package hubtest

import (
	"context"
	"fmt"
	"github.com/mlxk/mlxk/shared/httprec"
	"net/http"
	"slices"
	"time"
)

// Request is what the hub saw of one request and what it answered.
type Request struct {
	Server      string // "hub" or "cdn"
	Method      string
	Path        string // escaped, as sent (refs%2Fpr%2F1 stays escaped)
	Query       string // raw query, without "?"
	Auth        bool   // an Authorization header was present
	Range       string // the Range header, "" when absent
	IfNoneMatch bool   // an If-None-Match header was present
	Status      int    // 0 when the handler gave up before answering
	Bytes       int64  // body bytes written
	Aborted     bool   // the connection was aborted mid-response (truncate fault)
}

// String formats the request as one line for assertions:
//
//	GET /org/name/resolve/main/config.json auth=false range=none status=200
//
// The query, when present, follows the path after "?"; range is the Range
// header value or "none".
func (r Request) String() string {
	target := r.Path
	if r.Query != "" {
		target += "?" + r.Query
	}
	rng := r.Range
	if rng == "" {
		rng = "none"
	}
	return fmt.Sprintf("%s %s auth=%t range=%s status=%d", r.Method, target, r.Auth, rng, r.Status)
}

// Requests returns every request recorded since the start or the last
// ResetRequests, in the order they finished.
func (h *Hub) Requests() []Request {
	h.reqMu.Lock()
	defer h.reqMu.Unlock()
	return slices.Clone(h.requests)
}

// ResetRequests forgets the recorded requests and resets the counters
// (BytesUploaded), so that a test phase starts from zero.
func (h *Hub) ResetRequests() {
	h.reqMu.Lock()
	defer h.reqMu.Unlock()
	h.requests = nil
	h.ResetCounters()
}

// WaitIdle waits until no request is being handled, or ctx ends. A client
// may have read a whole response a moment before the handler finishes and
// records it; call WaitIdle before asserting on Requests after a client
// process exits.
func (h *Hub) WaitIdle(ctx context.Context) error {
	for h.inflight.Load() > 0 {
		if !sleepCtx(ctx, time.Millisecond) {
			return fmt.Errorf("hubtest: %d requests still in flight: %w", h.inflight.Load(), ctx.Err())
		}
	}
	return nil
}

// recorded wraps a server's handler so that every request is recorded
// when it finishes, including when a fault aborts it with a panic.
func (h *Hub) recorded(server string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := Request{
			Server:      server,
			Method:      r.Method,
			Path:        r.URL.EscapedPath(),
			Query:       r.URL.RawQuery,
			Auth:        r.Header.Get("Authorization") != "",
			Range:       r.Header.Get("Range"),
			IfNoneMatch: r.Header.Get("If-None-Match") != "",
		}
		sw := &httprec.Writer{ResponseWriter: w}
		completed := false
		h.inflight.Add(1)
		defer h.inflight.Add(-1)
		defer func() {
			rec.Status, rec.Bytes, rec.Aborted = sw.Status, sw.Bytes, !completed
			h.reqMu.Lock()
			h.requests = append(h.requests, rec)
			h.reqMu.Unlock()
			if h.opts.OnRequest != nil {
				h.opts.OnRequest(rec)
			}
		}()
		next.ServeHTTP(sw, r)
		completed = true
	})
}
