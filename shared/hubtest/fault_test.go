package hubtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// cdnURL resolves an LFS file to its presigned CDN URL.
func cdnURL(t *testing.T, h *Hub, file string) string {
	t.Helper()
	r := do(t, nil, "HEAD", h.URL+"/org/model/resolve/main/"+file).wantStatus(t, http.StatusFound)
	return r.Header.Get("Location")
}

func mustFault(t *testing.T, h *Hub, f FaultSpec) {
	t.Helper()
	if err := h.Fault(f); err != nil {
		t.Fatal(err)
	}
}

func TestFaultStatus(t *testing.T) {
	t.Parallel()
	h := newHub(t, Options{})
	u := h.URL + "/org/model/resolve/main/config.json"
	mustFault(t, h, FaultSpec{Kind: FaultStatus, Route: RouteResolve, Path: "config.json", Count: 2, Status: 503, RetryAfter: "1"})
	for i := range 2 {
		r := do(t, nil, "HEAD", u).wantStatus(t, 503)
		if r.Header.Get("Retry-After") != "1" {
			t.Errorf("attempt %d: Retry-After %q", i, r.Header.Get("Retry-After"))
		}
	}
	do(t, nil, "HEAD", u).wantStatus(t, 200)
	if f := h.Faults(); len(f) != 0 {
		t.Errorf("faults left: %+v", f)
	}

	// 429 carries the Hub's rate-limit headers; other files are untouched.
	mustFault(t, h, FaultSpec{Kind: FaultStatus, Route: RouteAny, Path: "tokenizer/vocab.txt", Status: 429})
	do(t, nil, "GET", u).wantStatus(t, 200)
	r := do(t, nil, "GET", h.URL+"/org/model/resolve/main/tokenizer/vocab.txt").wantStatus(t, 429)
	if r.Header.Get("RateLimit") == "" || r.Header.Get("RateLimit-Policy") == "" {
		t.Errorf("429 without RateLimit headers: %v", r.Header)
	}

	// Forever, on the CDN, until cleared.
	loc := cdnURL(t, h, "model.safetensors")
	mustFault(t, h, FaultSpec{Kind: FaultStatus, Route: RouteCDN, Path: "model.safetensors", Count: -1, Status: 500})
	for range 3 {
		do(t, nil, "GET", loc).wantStatus(t, 500)
	}
	h.ClearFaults()
	do(t, nil, "GET", loc).wantStatus(t, 200)

	// Info and tree; a fault for one repo leaves the others alone.
	mustFault(t, h, FaultSpec{Kind: FaultStatus, Route: RouteInfo, Repo: "org/other", Status: 502})
	mustFault(t, h, FaultSpec{Kind: FaultStatus, Route: RouteTree, Status: 504})
	do(t, nil, "GET", h.URL+"/api/models/org/model").wantStatus(t, 200)
	do(t, nil, "GET", h.URL+"/api/models/org/model/tree/main").wantStatus(t, 504)
	do(t, nil, "GET", h.URL+"/api/models/org/other").wantStatus(t, 502)
}

func TestFaultTruncate(t *testing.T) {
	t.Parallel()
	h := newHub(t, Options{})
	loc := cdnURL(t, h, "model.safetensors")
	mustFault(t, h, FaultSpec{Kind: FaultTruncate, Route: RouteCDN, Path: "model.safetensors", Bytes: 1000})
	r := do(t, nil, "GET", loc)
	if !errors.Is(r.readErr, io.ErrUnexpectedEOF) || len(r.body) != 1000 || !bytes.Equal(r.body, weights[:1000]) {
		t.Fatalf("truncated GET: %d bytes, err %v", len(r.body), r.readErr)
	}
	// Resume where it broke.
	rest := do(t, nil, "GET", loc, "Range: bytes=1000-").wantStatus(t, 206)
	if !bytes.Equal(append(r.body, rest.body...), weights) {
		t.Error("resumed body differs")
	}
	reqs := h.Requests()
	var aborted int
	for _, rq := range reqs {
		if rq.Aborted {
			aborted++
			if rq.Bytes != 1000 || rq.Status != 200 {
				t.Errorf("aborted request recorded as %+v", rq)
			}
		}
	}
	if aborted != 1 {
		t.Errorf("%d aborted requests recorded, want 1", aborted)
	}
}

// A HEAD cannot act out a body fault, so it must not consume it.
func TestBodyFaultSkipsHEAD(t *testing.T) {
	t.Parallel()
	h := newHub(t, Options{})
	u := h.URL + "/org/model/resolve/main/config.json"
	mustFault(t, h, FaultSpec{Kind: FaultTruncate, Route: RouteResolve, Path: "config.json", Bytes: 5})
	do(t, nil, "HEAD", u).wantStatus(t, 200)
	do(t, nil, "HEAD", h.URL+"/org/model/resolve/main/model.safetensors").wantStatus(t, 302)
	r := do(t, nil, "GET", u)
	if r.readErr == nil || len(r.body) != 5 {
		t.Errorf("GET after HEAD: %d bytes, err %v", len(r.body), r.readErr)
	}
}

func TestFaultStallBeforeHeaders(t *testing.T) {
	t.Parallel()
	h := newHub(t, Options{})
	mustFault(t, h, FaultSpec{Kind: FaultStall, Route: RouteResolve, Delay: time.Minute})
	c := &http.Client{Timeout: 100 * time.Millisecond, CheckRedirect: noRedirect.CheckRedirect}
	start := time.Now()
	_, err := c.Head(h.URL + "/org/model/resolve/main/config.json")
	if err == nil || time.Since(start) > 10*time.Second {
		t.Fatalf("stalled HEAD: err %v after %v", err, time.Since(start))
	}
	do(t, nil, "HEAD", h.URL+"/org/model/resolve/main/config.json").wantStatus(t, 200)
}

func TestFaultStallMidBody(t *testing.T) {
	t.Parallel()
	h := newHub(t, Options{})
	loc := cdnURL(t, h, "model.safetensors")
	mustFault(t, h, FaultSpec{Kind: FaultStall, Route: RouteCDN, Bytes: 100, Delay: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", loc, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	head := make([]byte, 100)
	if _, err := io.ReadFull(resp.Body, head); err != nil || !bytes.Equal(head, weights[:100]) {
		t.Fatalf("first 100 bytes: %v", err)
	}
	got := make(chan error, 1)
	go func() { _, err := resp.Body.Read(make([]byte, 1)); got <- err }()
	select {
	case err := <-got:
		t.Fatalf("read past the stall point returned early: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	cancel()
	if err := <-got; err == nil {
		t.Error("read after cancel succeeded")
	}
	// The stalled handler notices the cancellation and finishes.
	deadline := time.Now().Add(5 * time.Second)
	for {
		var done bool
		for _, rq := range h.Requests() {
			done = done || rq.Server == "cdn" && rq.Bytes == 100
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("stalled handler did not finish after the client left")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFaultIgnoreRange(t *testing.T) {
	t.Parallel()
	h := newHub(t, Options{})
	u := h.URL + "/org/model/resolve/main/config.json"
	mustFault(t, h, FaultSpec{Kind: FaultIgnoreRange, Route: RouteResolve})
	do(t, nil, "GET", u).wantStatus(t, 200) // no Range: not consumed
	r := do(t, nil, "GET", u, "Range: bytes=5-").wantStatus(t, 200)
	if !bytes.Equal(r.body, configJSON) {
		t.Errorf("ignore-range body %q", r.body)
	}
	do(t, nil, "GET", u, "Range: bytes=5-").wantStatus(t, 206)
}

func TestFaultWrongLength(t *testing.T) {
	t.Parallel()
	h := newHub(t, Options{})
	loc := cdnURL(t, h, "model.safetensors")
	mustFault(t, h, FaultSpec{Kind: FaultWrongLength, Route: RouteCDN})
	r := do(t, nil, "GET", loc).wantStatus(t, 200) // clean at the HTTP level
	if len(r.body) != len(weights)-1 || r.ContentLength != int64(len(weights)-1) {
		t.Errorf("wrong-length: %d bytes, Content-Length %d", len(r.body), r.ContentLength)
	}
	mustFault(t, h, FaultSpec{Kind: FaultWrongLength, Route: RouteResolve, Path: "config.json", Bytes: 1000})
	r = do(t, nil, "GET", h.URL+"/org/model/resolve/main/config.json").wantStatus(t, 200)
	if len(r.body) != 1000 || !bytes.HasPrefix(r.body, configJSON) {
		t.Errorf("wrong-length longer: %d bytes", len(r.body))
	}
}

func TestFaultCorrupt(t *testing.T) {
	t.Parallel()
	h := newHub(t, Options{})
	loc := cdnURL(t, h, "model.safetensors")
	mustFault(t, h, FaultSpec{Kind: FaultCorrupt, Route: RouteCDN, Path: "model.safetensors", Bytes: 7})
	r := do(t, nil, "GET", loc).wantStatus(t, 200)
	if len(r.body) != len(weights) || sha256hex(r.body) == sha256hex(weights) {
		t.Fatal("corrupt: body unchanged or resized")
	}
	var diff []int
	for i := range r.body {
		if r.body[i] != weights[i] {
			diff = append(diff, i)
		}
	}
	if len(diff) != 1 || diff[0] != 7 {
		t.Errorf("bytes differing: %v, want [7]", diff)
	}
	if r := do(t, nil, "GET", loc).wantStatus(t, 200); !bytes.Equal(r.body, weights) {
		t.Error("corrupt fault outlived its count")
	}
	// Tree JSON too.
	mustFault(t, h, FaultSpec{Kind: FaultCorrupt, Route: RouteTree})
	var v []treeEntry
	r = do(t, nil, "GET", h.URL+"/api/models/org/model/tree/main").wantStatus(t, 200)
	if err := json.Unmarshal(r.body, &v); err == nil {
		t.Error("corrupted tree JSON still parses")
	}
}

func TestFaultDropHeader(t *testing.T) {
	t.Parallel()
	h := newHub(t, Options{})
	u := h.URL + "/org/model/resolve/main/"
	mustFault(t, h, FaultSpec{Kind: FaultDropHeader, Route: RouteResolve, Path: "config.json", Header: "x-repo-commit"})
	mustFault(t, h, FaultSpec{Kind: FaultDropHeader, Route: RouteResolve, Path: "config.json", Header: "ETag"})
	r := do(t, nil, "HEAD", u+"config.json").wantStatus(t, 200)
	if r.Header.Get("X-Repo-Commit") != "" || r.Header.Get("ETag") != "" || r.Header.Get("Content-Length") == "" {
		t.Errorf("dropped headers still there: %v", r.Header)
	}
	mustFault(t, h, FaultSpec{Kind: FaultDropHeader, Route: RouteResolve, Path: "model.safetensors", Header: "X-Linked-Size"})
	r = do(t, nil, "HEAD", u+"model.safetensors").wantStatus(t, 302)
	if r.Header.Get("X-Linked-Size") != "" || r.Header.Get("X-Linked-Etag") == "" {
		t.Errorf("302 headers: %v", r.Header)
	}
	mustFault(t, h, FaultSpec{Kind: FaultDropHeader, Route: RouteResolve, Path: "config.json", Header: "Content-Length"})
	r = do(t, nil, "GET", u+"config.json").wantStatus(t, 200)
	if r.ContentLength != -1 || !bytes.Equal(r.body, configJSON) {
		t.Errorf("without Content-Length: ContentLength %d, body %q", r.ContentLength, r.body)
	}
}

func TestThrottle(t *testing.T) {
	t.Parallel()
	h := newHub(t, Options{})
	loc := cdnURL(t, h, "model.safetensors")
	h.Throttle(20 << 10) // 4 KiB at 20 KiB/s: about 200 ms
	start := time.Now()
	r := do(t, nil, "GET", loc).wantStatus(t, 200)
	if el := time.Since(start); el < 150*time.Millisecond || !bytes.Equal(r.body, weights) {
		t.Errorf("throttled GET took %v", el)
	}
	h.Throttle(0)
	start = time.Now()
	do(t, nil, "GET", loc).wantStatus(t, 200)
	if el := time.Since(start); el > 150*time.Millisecond {
		t.Errorf("unthrottled GET took %v", el)
	}
}

func TestFaultValidation(t *testing.T) {
	t.Parallel()
	h := newHub(t, Options{})
	for _, f := range []FaultSpec{
		{Kind: "explode"},
		{Kind: FaultStatus},
		{Kind: FaultStall},
		{Kind: FaultDropHeader},
		{Kind: FaultTruncate, Route: "tag"},
		{Kind: FaultCorrupt, Bytes: -1},
	} {
		if err := h.Fault(f); err == nil {
			t.Errorf("Fault(%+v) accepted", f)
		}
	}
}

// TestFaultsConcurrent runs faults and requests side by side for -race:
// exactly Count requests fail.
func TestFaultsConcurrent(t *testing.T) {
	t.Parallel()
	h := newHub(t, Options{})
	mustFault(t, h, FaultSpec{Kind: FaultStatus, Route: RouteResolve, Count: 5, Status: 503})
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for range 20 {
		wg.Go(func() {
			resp, err := noRedirect.Get(h.URL + "/org/model/resolve/main/config.json")
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 503 {
				mu.Lock()
				failed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if failed != 5 {
		t.Errorf("%d requests failed, want 5", failed)
	}
}
