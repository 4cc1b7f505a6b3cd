package hubtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// FaultKind names a way to break a response (hf-protocol §6.3).
type FaultKind string

const (
	// FaultStatus answers Status (with Retry-After when RetryAfter is set,
	// and the Hub's RateLimit headers on 429) instead of the real answer.
	FaultStatus FaultKind = "status"
	// FaultTruncate sends Bytes bytes of the body, then aborts the
	// connection: the client sees an unexpected EOF and may resume with
	// Range.
	FaultTruncate FaultKind = "truncate"
	// FaultStall waits Delay before the response when Bytes is 0, or after
	// Bytes bytes of the body otherwise; a client that gives up cancels it.
	FaultStall FaultKind = "stall"
	// FaultIgnoreRange answers a Range request with 200 and the whole body.
	FaultIgnoreRange FaultKind = "ignore-range"
	// FaultWrongLength serves a well-formed response whose body is Bytes
	// long (0: one byte less than the file) instead of the file's size, so
	// only a client that checks the size it was promised notices.
	FaultWrongLength FaultKind = "wrong-length"
	// FaultCorrupt flips the byte at offset Bytes (clamped to the last
	// byte) of the body; sizes stay right, only hashing notices.
	FaultCorrupt FaultKind = "corrupt"
	// FaultDropHeader removes the response header Header (X-Repo-Commit,
	// ETag, X-Linked-Size, Content-Length, …) from successful answers,
	// redirects included.
	FaultDropHeader FaultKind = "drop-header"
)

// FaultSpec describes a fault and the requests it applies to.
type FaultSpec struct {
	Kind FaultKind
	// Route is one of the Route constants (RouteResolve, RouteCDN, …,
	// RouteCommit) or RouteAny; "" means any. On the upload routes, whose
	// answers are JSON or empty, status and stall faults are the useful
	// ones; body faults act on the JSON answers (a truncated commit answer
	// is a commit the client cannot know was made).
	Route string
	// Path limits the fault to one file: the repo path for resolve and cdn
	// (the CDN also matches the sha256), the folder for tree, the sha256
	// for upload. "" means any.
	Path string
	// Repo limits the fault to one repo id ("" means any; CDN requests
	// belong to no repo, so a fault with Repo never matches them).
	Repo string
	// Count is how many requests the fault affects: 0 means 1, a negative
	// number means every matching request until ClearFaults.
	Count int

	Status     int           // status: the code to answer
	RetryAfter string        // status: Retry-After header value, optional
	Bytes      int64         // truncate, stall, wrong-length, corrupt: see the kinds
	Delay      time.Duration // stall: how long
	Header     string        // drop-header: which header
}

// faults is a hub's list of pending faults. It lives in the Hub, not at
// package level, so parallel tests cannot disturb each other.
type faults struct {
	mu   sync.Mutex
	list []*FaultSpec
}

// phase is when a fault acts: before anything else, on the headers of a
// success, or on a body.
type phase int

const (
	phaseEarly phase = iota
	phaseHeader
	phaseBody
)

func (f *FaultSpec) phase() phase {
	switch f.Kind {
	case FaultStatus:
		return phaseEarly
	case FaultStall:
		if f.Bytes == 0 {
			return phaseEarly
		}
		return phaseBody
	case FaultDropHeader:
		return phaseHeader
	}
	return phaseBody
}

// match is what a request offers faults to match on.
type match struct {
	route    string
	repo     string
	paths    []string
	method   string
	hasRange bool
}

func (f *FaultSpec) matches(m match) bool {
	return (f.Route == "" || f.Route == RouteAny || f.Route == m.route) &&
		(f.Repo == "" || f.Repo == m.repo) &&
		(f.Path == "" || slices.Contains(m.paths, f.Path)) &&
		(f.Kind != FaultIgnoreRange || m.hasRange)
}

// faultRoutes are the routes a FaultSpec may name.
var faultRoutes = []string{RouteAny, RouteResolve, RouteCDN, RouteInfo, RouteTree, RouteRefs, RoutePaths,
	RouteCreate, RouteBranch, RoutePreupload, RouteBatch, RouteUpload, RouteVerify, RouteCommit}

// Fault adds a fault; faults are tried in the order they were added.
func (h *Hub) Fault(f FaultSpec) error {
	if f.Route != "" && !slices.Contains(faultRoutes, f.Route) {
		return fmt.Errorf("hubtest: fault route %q is not one of %v", f.Route, faultRoutes)
	}
	switch f.Kind {
	case FaultStatus:
		if f.Status < 100 || f.Status > 999 {
			return fmt.Errorf("hubtest: status fault needs a status code, got %d", f.Status)
		}
	case FaultStall:
		if f.Delay <= 0 {
			return errors.New("hubtest: stall fault needs a positive Delay")
		}
	case FaultDropHeader:
		if f.Header == "" {
			return errors.New("hubtest: drop-header fault needs a Header")
		}
	case FaultTruncate, FaultIgnoreRange, FaultWrongLength, FaultCorrupt:
	default:
		return fmt.Errorf("hubtest: unknown fault kind %q", f.Kind)
	}
	if f.Bytes < 0 {
		return fmt.Errorf("hubtest: %s fault: negative Bytes %d", f.Kind, f.Bytes)
	}
	if f.Count == 0 {
		f.Count = 1
	}
	h.faults.mu.Lock()
	defer h.faults.mu.Unlock()
	h.faults.list = append(h.faults.list, &f)
	return nil
}

// Faults returns the pending faults with their remaining counts.
func (h *Hub) Faults() []FaultSpec {
	h.faults.mu.Lock()
	defer h.faults.mu.Unlock()
	out := make([]FaultSpec, len(h.faults.list))
	for i, f := range h.faults.list {
		out[i] = *f
	}
	return out
}

// ClearFaults removes every pending fault.
func (h *Hub) ClearFaults() {
	h.faults.mu.Lock()
	defer h.faults.mu.Unlock()
	h.faults.list = nil
}

// take consumes the faults of phase p that match the request, at most one
// per kind (several drop-header faults combine), and returns copies.
func (fs *faults) take(m match, p phase) []FaultSpec {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var out []FaultSpec
	seen := map[FaultKind]bool{}
	kept := fs.list[:0]
	for _, f := range fs.list {
		if f.phase() == p && (!seen[f.Kind] || f.Kind == FaultDropHeader) && f.matches(m) {
			seen[f.Kind] = true
			out = append(out, *f)
			if f.Count > 0 {
				f.Count--
				if f.Count == 0 {
					continue
				}
			}
		}
		kept = append(kept, f)
	}
	clear(fs.list[len(kept):])
	fs.list = kept
	return out
}

// earlyFaults applies stalls before the response and status faults; it
// reports whether the handler should go on.
func (h *Hub) earlyFaults(w http.ResponseWriter, r *http.Request, m match) bool {
	taken := h.faults.take(m, phaseEarly)
	for _, f := range taken { // stall first, then maybe a status
		if f.Kind == FaultStall && !sleepCtx(r.Context(), f.Delay) {
			return false
		}
	}
	for _, f := range taken {
		if f.Kind != FaultStatus {
			continue
		}
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		if f.Status == http.StatusTooManyRequests {
			reset := f.RetryAfter
			if _, err := strconv.Atoi(reset); err != nil {
				reset = "1"
			}
			w.Header().Set("RateLimit", `"api";r=0;t=`+reset)
			w.Header().Set("RateLimit-Policy", `"fixed window";"api";q=500;w=300`)
		}
		msg := fmt.Sprintf("hubtest: injected status %d", f.Status)
		if m.route == RouteCDN || m.route == RouteUpload {
			cdnError(w, f.Status, msg)
		} else {
			(&hubError{status: f.Status, message: msg}).write(w)
		}
		return false
	}
	return true
}

// headerFaults wraps w so that drop-header faults act on the response.
func (h *Hub) headerFaults(w http.ResponseWriter, m match) http.ResponseWriter {
	fw := &faultWriter{ResponseWriter: w}
	for _, f := range h.faults.take(m, phaseHeader) {
		fw.drop = append(fw.drop, http.CanonicalHeaderKey(f.Header))
	}
	if len(fw.drop) == 0 {
		return w
	}
	return fw
}

// serveBody sends a successful body through the faults of the request.
// ranged bodies (files) go through http.ServeContent for Range,
// If-None-Match, 206 and 416, and are subject to Throttle.
func (h *Hub) serveBody(w http.ResponseWriter, r *http.Request, m match, name string, content []byte, ranged bool) {
	fw := &faultWriter{ResponseWriter: w, ctx: r.Context()}
	for _, f := range h.faults.take(m, phaseHeader) {
		fw.drop = append(fw.drop, http.CanonicalHeaderKey(f.Header))
	}
	if r.Method != http.MethodHead {
		for _, f := range h.faults.take(m, phaseBody) {
			switch f.Kind {
			case FaultCorrupt:
				if len(content) > 0 {
					content = slices.Clone(content)
					content[min(f.Bytes, int64(len(content)-1))] ^= 0xff
				}
			case FaultWrongLength:
				n := f.Bytes
				if n == 0 {
					n = max(int64(len(content))-1, 0)
				}
				if n <= int64(len(content)) {
					content = content[:n]
				} else {
					content = append(slices.Clone(content), make([]byte, n-int64(len(content)))...)
				}
			case FaultIgnoreRange:
				r = r.Clone(r.Context())
				r.Header.Del("Range")
				r.Header.Del("If-Range")
			case FaultTruncate:
				fw.truncate, fw.truncateAt = true, f.Bytes
			case FaultStall:
				fw.stallAt, fw.stallFor = f.Bytes, f.Delay
			}
		}
	}
	if ranged {
		h.mu.RLock()
		fw.bps = h.throttle
		h.mu.RUnlock()
		http.ServeContent(fw, r, name, time.Time{}, bytes.NewReader(content))
		return
	}
	fw.Header().Set("Content-Length", strconv.Itoa(len(content)))
	fw.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		fw.Write(content)
	}
}

// faultWriter acts out header and body faults and the throttle while the
// handler writes.
type faultWriter struct {
	http.ResponseWriter
	ctx         context.Context
	drop        []string // canonical header names to remove
	wroteHeader bool

	truncate   bool
	truncateAt int64
	stallAt    int64
	stallFor   time.Duration
	stalled    bool
	bps        int64
	written    int64
}

func (w *faultWriter) WriteHeader(code int) {
	if w.wroteHeader {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.wroteHeader = true
	dropLength := false
	for _, name := range w.drop {
		w.Header().Del(name)
		dropLength = dropLength || name == "Content-Length"
	}
	w.ResponseWriter.WriteHeader(code)
	if dropLength {
		// Send the headers now, or net/http computes a Content-Length
		// for a small body all by itself.
		w.Flush()
	}
}

func (w *faultWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	total := 0
	for len(b) > 0 {
		chunk := b
		if w.truncate {
			left := w.truncateAt - w.written
			if left <= 0 {
				w.Flush()
				panic(http.ErrAbortHandler) // net/http drops the connection quietly
			}
			chunk = chunk[:min(int64(len(chunk)), left)]
		}
		if w.stallFor > 0 && !w.stalled {
			left := w.stallAt - w.written
			if left <= 0 {
				w.stalled = true
				w.Flush()
				if !sleepCtx(w.ctx, w.stallFor) {
					return total, w.ctx.Err()
				}
				continue
			}
			chunk = chunk[:min(int64(len(chunk)), left)]
		}
		if w.bps > 0 {
			chunk = chunk[:min(int64(len(chunk)), max(w.bps/20, 1))]
		}
		n, err := w.ResponseWriter.Write(chunk)
		total += n
		w.written += int64(n)
		b = b[n:]
		if err != nil {
			return total, err
		}
		if w.bps > 0 {
			w.Flush()
			if !sleepCtx(w.ctx, time.Duration(n)*time.Second/time.Duration(w.bps)) {
				return total, w.ctx.Err()
			}
		}
	}
	return total, nil
}

func (w *faultWriter) Flush() {
	http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *faultWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// sleepCtx waits d unless ctx ends first; it reports whether it waited.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
