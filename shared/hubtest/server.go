package hubtest

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Route kinds, the names faults match on (FaultSpec.Route).
const (
	RouteResolve = "resolve" // HEAD/GET /{org}/{name}/resolve/{rev}/{path}
	RouteCDN     = "cdn"     // the CDN's /lfs/{sha256}
	RouteInfo    = "info"    // /api/models/{repo}[/revision/{rev}]
	RouteTree    = "tree"    // /api/models/{repo}/tree/{rev}[/{path}]
	RouteRefs    = "refs"    // /api/models/{repo}/refs
	RoutePaths   = "paths"   // POST /api/models/{repo}/paths-info/{rev}
	RouteAny     = "any"     // every request of either server
	routeOther   = "other"   // whoami, xet tokens, unknown paths

	// The upload side (hf-protocol §4).
	RouteCreate    = "create"    // POST /api/repos/create, DELETE /api/repos/delete
	RouteBranch    = "branch"    // POST/DELETE /api/models/{repo}/branch/{branch}
	RoutePreupload = "preupload" // POST /api/models/{repo}/preupload/{rev}
	RouteBatch     = "batch"     // POST /{repo}.git/info/lfs/objects/batch
	RouteUpload    = "upload"    // the CDN's PUT /upload/{sha256}
	RouteVerify    = "verify"    // POST /{repo}.git/info/lfs/objects/verify
	RouteCommit    = "commit"    // POST /api/models/{repo}/commit/{rev}
)

// allowedMethods are the methods each hub route answers; anything else
// gets 405 with an Allow header.
func (rt route) allowedMethods() []string {
	switch rt.kind {
	case RouteCreate:
		if rt.verb == "delete" {
			return []string{http.MethodDelete}
		}
		return []string{http.MethodPost}
	case RouteBranch:
		return []string{http.MethodPost, http.MethodDelete}
	case RoutePaths, RoutePreupload, RouteBatch, RouteVerify, RouteCommit:
		return []string{http.MethodPost}
	}
	return []string{http.MethodGet, http.MethodHead}
}

// route is a parsed hub request.
type route struct {
	kind   string
	verb   string // routeOther: "whoami", "xet", "" (unknown); RouteCreate: "create", "delete"
	repoID string
	rev    string // revision; the branch for RouteBranch
	path   string // file path (resolve) or folder (tree)
	cached bool   // resolve through /api/resolve-cache (never redirected again)
}

// parseRoute splits the escaped path and unescapes each segment, so that a
// revision sent as refs%2Fpr%2F1 stays one segment (r.URL.Path would have
// decoded it into three).
func parseRoute(escaped string) (route, bool) {
	raw := strings.Split(strings.TrimPrefix(escaped, "/"), "/")
	segs := make([]string, len(raw))
	for i, s := range raw {
		u, err := url.PathUnescape(s)
		if err != nil {
			return route{}, false
		}
		segs[i] = u
	}
	if len(segs) >= 1 && segs[0] == "api" {
		return parseAPIRoute(segs[1:])
	}
	// /{org}/{name}/resolve/{rev}/{path...}
	if len(segs) >= 5 && segs[2] == "resolve" && segs[0] != "" && segs[1] != "" {
		p := strings.Join(segs[4:], "/")
		if p == "" {
			return route{}, false
		}
		return route{kind: RouteResolve, repoID: segs[0] + "/" + segs[1], rev: segs[3], path: p}, true
	}
	// /{org}/{name}.git/info/lfs/objects/{batch,verify}: the Git LFS API.
	if len(segs) == 6 && segs[0] != "" && segs[2] == "info" && segs[3] == "lfs" && segs[4] == "objects" {
		name, ok := strings.CutSuffix(segs[1], ".git")
		if !ok || name == "" {
			return route{}, false
		}
		rt := route{repoID: segs[0] + "/" + name}
		switch segs[5] {
		case "batch":
			rt.kind = RouteBatch
		case "verify":
			rt.kind = RouteVerify
		default:
			return route{}, false
		}
		return rt, true
	}
	return route{}, false
}

func parseAPIRoute(segs []string) (route, bool) {
	// /api/resolve-cache/models/{org}/{name}/{commit}/{path...}: where the
	// Hub sends regular files with a relative redirect (2025 onwards).
	if len(segs) >= 6 && segs[0] == "resolve-cache" && segs[1] == "models" && segs[2] != "" && segs[3] != "" {
		p := strings.Join(segs[5:], "/")
		if p == "" {
			return route{}, false
		}
		return route{kind: RouteResolve, repoID: segs[2] + "/" + segs[3], rev: segs[4], path: p, cached: true}, true
	}
	if len(segs) == 1 && segs[0] == "whoami-v2" {
		return route{kind: routeOther, verb: "whoami"}, true
	}
	if len(segs) == 2 && segs[0] == "repos" && (segs[1] == "create" || segs[1] == "delete") {
		return route{kind: RouteCreate, verb: segs[1]}, true
	}
	if len(segs) < 3 || segs[0] != "models" || segs[1] == "" || segs[2] == "" {
		return route{}, false
	}
	rt := route{repoID: segs[1] + "/" + segs[2]}
	rest := segs[3:]
	switch {
	case len(rest) == 0:
		rt.kind, rt.rev = RouteInfo, "main"
	case rest[0] == "revision" && len(rest) == 2 && rest[1] != "":
		rt.kind, rt.rev = RouteInfo, rest[1]
	case rest[0] == "tree" && len(rest) >= 2 && rest[1] != "":
		// The folder may come as one escaped segment or several.
		rt.kind, rt.rev = RouteTree, rest[1]
		rt.path = strings.Trim(strings.Join(rest[2:], "/"), "/")
	case rest[0] == "refs" && len(rest) == 1:
		rt.kind = RouteRefs
	case rest[0] == "paths-info" && len(rest) == 2 && rest[1] != "":
		rt.kind, rt.rev = RoutePaths, rest[1]
	case rest[0] == "branch" && len(rest) >= 2 && rest[1] != "":
		// quote(branch, safe="") keeps it one segment; accept it split too.
		rt.kind, rt.rev = RouteBranch, strings.Join(rest[1:], "/")
	case rest[0] == "preupload" && len(rest) == 2 && rest[1] != "":
		rt.kind, rt.rev = RoutePreupload, rest[1]
	case rest[0] == "commit" && len(rest) == 2 && rest[1] != "":
		rt.kind, rt.rev = RouteCommit, rest[1]
	case rest[0] == "xet-read-token" && len(rest) == 2:
		rt.kind, rt.verb = routeOther, "xet"
	default:
		return route{}, false
	}
	return rt, true
}

// serveHub is the hub's single handler. It deliberately does not use
// http.ServeMux, which cleans paths and redirects: a client sending
// ../ or // must reach the handlers as sent.
func (h *Hub) serveHub(w http.ResponseWriter, r *http.Request) {
	rt, ok := parseRoute(r.URL.EscapedPath())
	if !ok {
		rt = route{kind: routeOther}
	}
	m := match{route: rt.kind, repo: rt.repoID, method: r.Method, hasRange: r.Header.Get("Range") != ""}
	if rt.path != "" {
		m.paths = []string{rt.path}
	}
	if !h.earlyFaults(w, r, m) {
		return
	}
	if allowed := rt.allowedMethods(); !slices.Contains(allowed, r.Method) {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		(&hubError{status: http.StatusMethodNotAllowed, message: "Method not allowed"}).write(w)
		return
	}
	if !ok {
		(&hubError{status: http.StatusNotFound, message: "Sorry, we can't find the page you are looking for."}).write(w)
		return
	}
	c, herr := h.authenticate(r, rt.kind == RouteBatch || rt.kind == RouteVerify)
	if herr != nil {
		herr.write(w)
		return
	}
	switch rt.kind {
	case RouteResolve:
		h.serveResolve(w, r, c, rt, m)
	case RouteInfo:
		h.serveInfo(w, r, c, rt, m)
	case RouteTree:
		h.serveTree(w, r, c, rt, m)
	case RouteRefs:
		h.serveRefs(w, r, c, rt, m)
	case RoutePaths:
		h.servePathsInfo(w, r, c, rt, m)
	case RouteCreate:
		if rt.verb == "delete" {
			h.serveDeleteRepo(w, r, c, m)
		} else {
			h.serveCreateRepo(w, r, c, m)
		}
	case RouteBranch:
		h.serveBranch(w, r, c, rt, m)
	case RoutePreupload:
		h.servePreupload(w, r, c, rt, m)
	case RouteBatch:
		h.serveBatch(w, r, c, rt, m)
	case RouteVerify:
		h.serveVerify(w, r, c, rt, m)
	case RouteCommit:
		h.serveCommit(w, r, c, rt, m)
	default:
		switch rt.verb {
		case "whoami":
			h.serveWhoami(w, c)
		case "xet":
			// The fake has no Xet storage: a client that depends on Xet
			// fails here instead of passing by accident.
			(&hubError{status: http.StatusNotImplemented, message: "Xet is not available on this hub"}).write(w)
		}
	}
}
