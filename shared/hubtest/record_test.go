package hubtest

import (
	"strings"
	"sync"
	"testing"
)

func TestRequestsRecorded(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []string
	h := newHub(t, Options{
		Tokens:    map[string]string{"hf_a": "a"},
		OnRequest: func(r Request) { mu.Lock(); seen = append(seen, r.String()); mu.Unlock() },
	})
	do(t, nil, "GET", h.URL+"/org/model/resolve/main/config.json", "Range: bytes=0-", "Authorization: Bearer hf_a")
	do(t, nil, "HEAD", h.URL+"/org/model/resolve/refs%2Fpr%2F9/config.json", `If-None-Match: "x"`)
	do(t, nil, "GET", h.URL+"/api/models/org/model/tree/main?recursive=true")
	reqs := h.Requests()
	want := []string{
		"GET /org/model/resolve/main/config.json auth=true range=bytes=0- status=206",
		"HEAD /org/model/resolve/refs%2Fpr%2F9/config.json auth=false range=none status=404",
		"GET /api/models/org/model/tree/main?recursive=true auth=false range=none status=200",
	}
	if len(reqs) != len(want) {
		t.Fatalf("recorded %v", reqs)
	}
	for i, r := range reqs {
		if r.String() != want[i] || r.Server != "hub" {
			t.Errorf("request %d: %q (%s), want %q", i, r, r.Server, want[i])
		}
	}
	if !reqs[1].IfNoneMatch || reqs[0].IfNoneMatch || reqs[0].Bytes != int64(len(configJSON)) {
		t.Errorf("flags: %+v", reqs)
	}
	mu.Lock()
	if strings.Join(seen, "\n") != strings.Join(want, "\n") {
		t.Errorf("OnRequest saw %q", seen)
	}
	mu.Unlock()
	h.ResetRequests()
	if len(h.Requests()) != 0 {
		t.Error("ResetRequests kept requests")
	}
}
