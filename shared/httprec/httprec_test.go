package httprec

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRecordsStatusAndBytes(t *testing.T) {
	var got *Writer
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &Writer{ResponseWriter: w}
		if r.URL.Path == "/teapot" {
			rec.WriteHeader(http.StatusTeapot)
			rec.WriteHeader(http.StatusOK) // ignored by net/http; the first status counts
		}
		io.WriteString(rec, "hello")
		rec.Flush()
		io.WriteString(rec, " world")
		got = rec
	}))
	defer srv.Close()
	for path, want := range map[string]int{"/": 200, "/teapot": 418} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || got.Status != want || got.Bytes != 11 || string(body) != "hello world" {
			t.Errorf("%s: response %d %q, recorded %d %d bytes", path, resp.StatusCode, body, got.Status, got.Bytes)
		}
	}
}
