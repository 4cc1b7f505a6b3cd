package hubtest

import (
	"net/http"
	"strings"
)

// serveBranch answers POST and DELETE /api/models/{repo}/branch/{branch}
// (§4.3). A new branch starts at startingPoint (any revision), by default
// at main's head.
func (h *Hub) serveBranch(w http.ResponseWriter, r *http.Request, c caller, rt route, m match) {
	if _, herr := h.writableRepo(c, rt.repoID); herr != nil {
		herr.write(w)
		return
	}
	branch := rt.rev
	if strings.HasPrefix(branch, "refs/") {
		(&hubError{status: http.StatusBadRequest, message: "Invalid reference for a branch"}).write(w)
		return
	}
	var herr *hubError
	if r.Method == http.MethodDelete {
		herr = h.updateRepo(rt.repoID, func(next *repo) *hubError {
			if branch == "main" {
				return &hubError{status: http.StatusForbidden, message: "Cannot delete refs/heads/main"}
			}
			if next.branches[branch] == nil {
				return &hubError{status: http.StatusNotFound, code: "RevisionNotFound", message: "Invalid rev id: " + branch}
			}
			delete(next.branches, branch)
			return nil
		})
	} else {
		var req struct {
			StartingPoint string `json:"startingPoint"`
		}
		if herr := readJSON(w, r, 1<<20, &req, true); herr != nil {
			herr.write(w)
			return
		}
		start := req.StartingPoint
		if start == "" {
			start = "main"
		}
		herr = h.updateRepo(rt.repoID, func(next *repo) *hubError {
			if next.branches[branch] != nil {
				return &hubError{status: http.StatusConflict, message: "Reference refs/heads/" + branch + " already exists"}
			}
			cm, herr := resolveRev(next, start)
			if herr != nil {
				return herr
			}
			next.branches[branch] = cm
			return nil
		})
	}
	if herr != nil {
		herr.write(w)
		return
	}
	h.serveJSON(w, r, m, map[string]any{}, nil)
}
