package hubtest

import (
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Hub. The zero value is a working hub with no tokens.
type Options struct {
	// Tokens maps a bearer token to the user name it authenticates. A
	// token may write to the repos of its user's namespace and of the
	// user's Orgs (hf-protocol §6.2 row 7), unless it is in ReadOnlyTokens.
	Tokens map[string]string
	// Orgs maps a user name to the organizations the user belongs to:
	// their namespaces are writable (and their private repos readable)
	// as the user's own.
	Orgs map[string][]string
	// ReadOnlyTokens are tokens with the "read" role: they read what
	// their user may read and write nothing (403).
	ReadOnlyTokens []string
	// LFSThreshold is the size from which preupload answers "lfs" and
	// above which commit refuses a regular file; default 10 MiB, as on
	// the Hub.
	LFSThreshold int64
	// Addr and CDNAddr are the listen addresses; default "127.0.0.1:0".
	// The CDN is advertised as localhost:<port> whatever its address.
	Addr, CDNAddr string
	// TreePageSize is the number of tree entries per page; default 1000,
	// as on the Hub. SetTreePageSize changes it at run time.
	TreePageSize int
	// URLExpiry is how long a presigned CDN URL stays valid; default 1h.
	URLExpiry time.Duration
	// StrictGated makes gated repos refuse metadata (info, tree, refs) as
	// they refuse downloads. The public Hub serves it; this is a knob for
	// clients that must cope with either.
	StrictGated bool
	// Now is the clock for URL expiry; default time.Now.
	Now func() time.Time
	// OnRequest, when set, is called with every finished request (for
	// logging in cmd/fakehub). It must be safe for concurrent use.
	OnRequest func(Request)
}

// Hub is a running fake Hub. Its methods are safe for concurrent use.
type Hub struct {
	// URL is the hub's base URL for HF_ENDPOINT, e.g. http://127.0.0.1:41234
	// (no trailing slash).
	URL string
	// CDNURL is the base URL of the CDN, e.g. http://localhost:41235.
	CDNURL string

	opts      Options
	secret    []byte
	hubSrv    *http.Server
	cdnSrv    *http.Server
	closeOnce sync.Once

	mu       sync.RWMutex
	tokens   map[string]string
	orgs     map[string][]string // user → orgs
	readOnly map[string]bool     // tokens with the read role
	repos    map[string]*repo
	objects  map[string]*object // LFS content by sha256
	// announced holds the sizes LFS batch requests announced, by sha256:
	// the CDN accepts an upload only of an announced object and size.
	announced map[string]int64
	pageSize  int
	throttle  int64 // bytes per second of file bodies; 0 = unlimited
	relRedir  bool  // regular files redirect (relative) to /api/resolve-cache

	faults faults

	reqMu    sync.Mutex
	requests []Request
	inflight atomic.Int64
	uploaded atomic.Int64 // bytes of LFS uploads the CDN accepted
}

// New starts a hub and its CDN on loopback.
func New(opts Options) (*Hub, error) {
	h := &Hub{
		opts:      opts,
		secret:    make([]byte, 32),
		tokens:    maps.Clone(opts.Tokens),
		orgs:      map[string][]string{},
		readOnly:  map[string]bool{},
		repos:     map[string]*repo{},
		objects:   map[string]*object{},
		announced: map[string]int64{},
		pageSize:  opts.TreePageSize,
	}
	if h.tokens == nil {
		h.tokens = map[string]string{}
	}
	for user, orgs := range opts.Orgs {
		h.orgs[user] = slices.Clone(orgs)
	}
	for _, t := range opts.ReadOnlyTokens {
		h.readOnly[t] = true
	}
	if h.opts.LFSThreshold <= 0 {
		h.opts.LFSThreshold = 10 << 20
	}
	if h.pageSize <= 0 {
		h.pageSize = 1000
	}
	if h.opts.URLExpiry == 0 {
		h.opts.URLExpiry = time.Hour
	}
	if h.opts.Now == nil {
		h.opts.Now = time.Now
	}
	rand.Read(h.secret) // never fails (crypto/rand panics instead)

	hubLn, err := listen(opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("hubtest: hub listener: %w", err)
	}
	cdnLn, err := listen(opts.CDNAddr)
	if err != nil {
		hubLn.Close()
		return nil, fmt.Errorf("hubtest: cdn listener: %w", err)
	}
	h.URL = "http://" + hubLn.Addr().String()
	h.CDNURL = "http://localhost:" + strconv.Itoa(cdnLn.Addr().(*net.TCPAddr).Port)
	h.hubSrv = &http.Server{Handler: h.recorded("hub", http.HandlerFunc(h.serveHub))}
	h.cdnSrv = &http.Server{Handler: h.recorded("cdn", http.HandlerFunc(h.serveCDN))}
	go h.hubSrv.Serve(hubLn)
	go h.cdnSrv.Serve(cdnLn)
	return h, nil
}

func listen(addr string) (net.Listener, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	return net.Listen("tcp", addr)
}

// Close stops both servers and drops their open connections; requests in
// flight (a stalled body, say) see their context cancelled. Afterwards the
// ports refuse connections, which is how tests simulate a network outage.
func (h *Hub) Close() error {
	var err error
	h.closeOnce.Do(func() {
		err = errors.Join(h.hubSrv.Close(), h.cdnSrv.Close())
	})
	return err
}

// AddToken lets token authenticate as user.
func (h *Hub) AddToken(token, user string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.tokens[token] = user
}

// AddOrg makes user a member of org: the user may then write to org's
// repos and read its private ones.
func (h *Hub) AddOrg(user, org string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !slices.Contains(h.orgs[user], org) {
		h.orgs[user] = append(h.orgs[user], org)
	}
}

// SetReadOnly gives token the "read" role (readOnly) or back the "write"
// role; a read-only token is refused every write with 403.
func (h *Hub) SetReadOnly(token string, readOnly bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if readOnly {
		h.readOnly[token] = true
	} else {
		delete(h.readOnly, token)
	}
}

// BytesUploaded is the number of LFS bytes the CDN accepted (the bodies of
// successful upload PUTs) since the start, ResetRequests or ResetCounters:
// tests assert with it that a client skipped what the Hub already had.
func (h *Hub) BytesUploaded() int64 { return h.uploaded.Load() }

// ResetCounters sets BytesUploaded back to 0.
func (h *Hub) ResetCounters() { h.uploaded.Store(0) }

// SetTreePageSize changes the page size of the tree API (n > 0).
func (h *Hub) SetTreePageSize(n int) {
	if n <= 0 {
		n = 1000
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pageSize = n
}

// RelativeRedirects makes resolve answer regular files with a relative
// 307 to /api/resolve-cache/models/{repo}/{commit}/{path}, as the public
// Hub has done since 2025; the target serves the file and its headers.
func (h *Hub) RelativeRedirects(on bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.relRedir = on
}

func (h *Hub) relativeRedirects() bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.relRedir
}

// Throttle limits every file body (resolve and CDN) to about bytesPerSec;
// 0 removes the limit.
func (h *Hub) Throttle(bytesPerSec int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.throttle = max(bytesPerSec, 0)
}
