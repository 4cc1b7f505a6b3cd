package hubtest

import (
	"net/http"
	"net/url"
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
)

// route is a parsed hub request.
type route struct {
	kind   string
	verb   string // the API verb for routeOther: "whoami", "xet", "" (unknown)
	repoID string
	rev    string
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
	if rt.kind == RoutePaths {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			(&hubError{status: http.StatusMethodNotAllowed, message: "Method not allowed"}).write(w)
			return
		}
	} else if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		(&hubError{status: http.StatusMethodNotAllowed, message: "Method not allowed"}).write(w)
		return
	}
	if !ok {
		(&hubError{status: http.StatusNotFound, message: "Sorry, we can't find the page you are looking for."}).write(w)
		return
	}
	c, herr := h.authenticate(r)
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
