package hubclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
)

// Kind classifies a Hub failure.
type Kind int

const (
	KindOther            Kind = iota
	KindRepoNotFound          // missing repo, or private without access
	KindGated                 // gated repo without approval or without a token
	KindRevisionNotFound      // unknown branch, tag or commit
	KindEntryNotFound         // unknown file
	KindUnauthorized          // bad token
	KindForbidden             // authenticated but not allowed (or disabled repo)
	KindRateLimited           // 429
	KindServer                // 5xx, 408
	KindNetwork               // timeout, reset or cut connection: worth retrying
	KindUnreachable           // no such host, connection refused: retrying will not help soon
)

// Error is a classified Hub failure.
type Error struct {
	Kind    Kind
	Status  int
	Message string
	URL     string // without query string (presigned URLs carry secrets)
	Err     error
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s (HTTP %d)", e.Message, e.Status)
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Transient reports whether retrying may help.
func Transient(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Kind {
	case KindRateLimited, KindServer, KindNetwork:
		return true
	}
	return false
}

// networkError classifies a transport failure.
func networkError(err error) *Error {
	kind := KindNetwork
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound || errors.Is(err, syscall.ECONNREFUSED) {
		kind = KindUnreachable
	}
	return &Error{Kind: kind, Message: err.Error(), Err: err}
}

// KindOf returns the Kind of err, KindOther when it is not a Hub error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	if errors.Is(err, ErrOffline) {
		return KindNetwork
	}
	return KindOther
}

// classify maps a failed response onto an Error: X-Error-Code first (as
// huggingface_hub's hf_raise_for_status), then the disabled-repo message,
// then the status.
func classify(resp *http.Response, u *url.URL) *Error {
	msg := resp.Header.Get("X-Error-Message")
	if msg == "" {
		var body struct {
			Error string `json:"error"`
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		if json.Unmarshal(b, &body) == nil {
			msg = body.Error
		}
	}
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	clean := *u
	clean.RawQuery = ""
	e := &Error{Status: resp.StatusCode, Message: msg, URL: clean.String()}
	switch resp.Header.Get("X-Error-Code") {
	case "GatedRepo":
		e.Kind = KindGated
		return e
	case "RepoNotFound":
		e.Kind = KindRepoNotFound
		return e
	case "RevisionNotFound":
		e.Kind = KindRevisionNotFound
		return e
	case "EntryNotFound":
		e.Kind = KindEntryNotFound
		return e
	}
	switch {
	case msg == "Access to this resource is disabled.":
		e.Kind = KindForbidden
	case resp.StatusCode == http.StatusUnauthorized:
		e.Kind = KindUnauthorized
	case resp.StatusCode == http.StatusForbidden:
		e.Kind = KindForbidden
	case resp.StatusCode == http.StatusNotFound:
		e.Kind = KindRepoNotFound
	case resp.StatusCode == http.StatusTooManyRequests:
		e.Kind = KindRateLimited
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500:
		e.Kind = KindServer
	}
	return e
}
