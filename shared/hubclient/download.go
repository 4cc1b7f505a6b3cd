package hubclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Meta is what a HEAD on a file's resolve URL says about it.
type Meta struct {
	Commit   string // X-Repo-Commit
	ETag     string // normalized X-Linked-Etag, else ETag: the blob name
	Size     int64  // X-Linked-Size, else Content-Length
	Location string // where the bytes are (a CDN URL for LFS files)
}

// maxRedirects bounds relative redirects on HEAD (Python has no bound).
const maxRedirects = 10

// ResolveURL is the resolve URL of a file at a revision.
func (c *Client) ResolveURL(repo, rev, path string) string {
	return c.Endpoint + "/" + repo + "/resolve/" + escapeRev(rev) + "/" + escapePath(path)
}

// FileMeta sends HEAD to the resolve URL, following relative redirects by
// replacing the path (as huggingface_hub does), and reads the metadata of
// the last hop: an absolute redirect's headers describe an LFS file whose
// bytes live at its Location.
func (c *Client) FileMeta(ctx context.Context, repo, rev, path string) (Meta, error) {
	u := c.ResolveURL(repo, rev, path)
	for hop := 0; ; hop++ {
		resp, err := c.do(ctx, http.MethodHead, u, true)
		if err != nil {
			return Meta{}, err
		}
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			if loc == "" {
				return Meta{}, fmt.Errorf("HEAD %s: redirect without Location", path)
			}
			lu, err := url.Parse(loc)
			if err != nil {
				return Meta{}, fmt.Errorf("HEAD %s: bad Location: %w", path, err)
			}
			if lu.Host == "" {
				if hop >= maxRedirects {
					return Meta{}, fmt.Errorf("HEAD %s: too many redirects", path)
				}
				cur, _ := url.Parse(u)
				cur.Path, cur.RawPath = lu.Path, lu.RawPath
				u = cur.String()
				continue
			}
		}
		m := Meta{
			Commit:   resp.Header.Get("X-Repo-Commit"),
			ETag:     normalizeETag(firstNonEmpty(resp.Header.Get("X-Linked-Etag"), resp.Header.Get("ETag"))),
			Location: u,
		}
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			m.Location = loc
		}
		size := resp.Header.Get("X-Linked-Size")
		if size == "" && (resp.StatusCode < 300 || resp.StatusCode >= 400) {
			size = resp.Header.Get("Content-Length")
		}
		switch {
		case m.Commit == "":
			return Meta{}, fmt.Errorf("HEAD %s: no X-Repo-Commit (not a Hub?)", path)
		case m.ETag == "":
			return Meta{}, fmt.Errorf("HEAD %s: no ETag", path)
		}
		if m.Size, err = strconv.ParseInt(size, 10, 64); err != nil || m.Size < 0 {
			return Meta{}, fmt.Errorf("HEAD %s: no usable size", path)
		}
		return m, nil
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func normalizeETag(s string) string {
	s = strings.TrimPrefix(strings.TrimSpace(s), "W/")
	return strings.Trim(s, `"`)
}

// sameOrigin compares scheme, host and port: huggingface_hub drops the
// token when the host or the port changes (Go's own rule ignores ports).
func sameOrigin(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Scheme == ub.Scheme && ua.Host == ub.Host
}

// Progress receives the byte count of a download as it grows; it may go
// back only when a server ignores a Range and the download restarts.
type Progress func(done int64)

// ErrStalled means no byte arrived for the stall timeout.
var ErrStalled = errors.New("download stalled")

// Download writes the bytes of meta.Location to w, starting at offset
// (bytes already held, e.g. in a resumed .incomplete file), until size
// bytes are held in total. Transient failures, including a connection cut
// mid-body or a stall, resume with a Range request; a server that answers
// a Range with the full body makes the download restart, which is reported
// through restart (the caller truncates w to zero). The token is sent
// only to the Hub's own origin.
func (c *Client) Download(ctx context.Context, meta Meta, w io.Writer, offset int64, restart func() error, progress Progress) error {
	withAuth := sameOrigin(meta.Location, c.Endpoint)
	failures := 0
	buf := make([]byte, 1<<20)
	for offset < meta.Size || meta.Size == 0 && offset == 0 {
		n, err := c.fetch(ctx, meta, w, offset, withAuth, buf, restart, progress)
		offset = n
		if err == nil {
			if offset != meta.Size {
				return fmt.Errorf("size mismatch: got %d bytes, expected %d", offset, meta.Size)
			}
			return nil
		}
		if !Transient(err) || ctx.Err() != nil {
			return err
		}
		failures++
		if failures > c.Retries {
			return err
		}
		if err := c.sleep(ctx, failures-1, 0); err != nil {
			return err
		}
	}
	return nil
}

// fetch does one GET from offset and returns the new offset.
func (c *Client) fetch(ctx context.Context, meta Meta, w io.Writer, offset int64, withAuth bool, buf []byte, restart func() error, progress Progress) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := c.newRequest(ctx, http.MethodGet, meta.Location, withAuth)
	if err != nil {
		return offset, err
	}
	if offset > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", offset))
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return offset, networkError(err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK && offset > 0:
		// The server ignored the Range: start over from the first byte.
		if err := restart(); err != nil {
			return offset, err
		}
		offset = 0
		if progress != nil {
			progress(0)
		}
	case resp.StatusCode == http.StatusPartialContent && offset > 0:
	case resp.StatusCode == http.StatusOK:
	default:
		return offset, classify(resp, req.URL)
	}
	// A watchdog cancels the request when no byte arrives for a while.
	activity := make(chan struct{}, 1)
	stalled := make(chan struct{})
	go func() {
		t := time.NewTimer(c.StallTimeout)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-activity:
				if !t.Stop() {
					<-t.C
				}
				t.Reset(c.StallTimeout)
			case <-t.C:
				close(stalled)
				cancel()
				return
			}
		}
	}()
	for {
		k, rerr := resp.Body.Read(buf)
		if k > 0 {
			if offset+int64(k) > meta.Size {
				return offset, fmt.Errorf("server sent more than the %d bytes announced", meta.Size)
			}
			if _, err := w.Write(buf[:k]); err != nil {
				return offset, err
			}
			offset += int64(k)
			if progress != nil {
				progress(offset)
			}
			select {
			case activity <- struct{}{}:
			default:
			}
		}
		if rerr == io.EOF {
			if offset < meta.Size {
				return offset, &Error{Kind: KindNetwork, Message: fmt.Sprintf("connection closed after %d of %d bytes", offset, meta.Size)}
			}
			return offset, nil
		}
		if rerr != nil {
			select {
			case <-stalled:
				return offset, &Error{Kind: KindNetwork, Message: ErrStalled.Error(), Err: ErrStalled}
			default:
			}
			if ctx.Err() != nil && errors.Is(rerr, context.Canceled) {
				return offset, rerr
			}
			return offset, &Error{Kind: KindNetwork, Message: rerr.Error(), Err: rerr}
		}
	}
}
