package hubtest

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// newUploadCommit makes a commit of the commit API. Its id is a sha1 over
// the repo, the parent, the message and the files: deterministic, so runs
// of a test agree, yet different from the parent even when the files are
// the same (the Hub makes empty commits too, huggingface_hub#1411). The
// repo is in it so that two new repos do not share an initial commit.
func newUploadCommit(repoID string, parent *commit, title, description string, files map[string]*file) *commit {
	cm := &commit{files: files, paths: slices.Sorted(maps.Keys(files)), title: title}
	h := sha1.New()
	fmt.Fprintf(h, "repo %s\n", repoID)
	if parent != nil {
		cm.parent = parent.id
		fmt.Fprintf(h, "parent %s\n", parent.id)
	}
	fmt.Fprintf(h, "summary %q\ndescription %q\n", title, description)
	for _, p := range cm.paths {
		fmt.Fprintf(h, "%s %s\n", p, files[p].etag())
	}
	cm.id = hex.EncodeToString(h.Sum(nil))
	return cm
}

// commitLine is one line of the NDJSON commit payload (hf-protocol §4.6).
type commitLine struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

type commitHeader struct {
	Summary      string `json:"summary"`
	Description  string `json:"description"`
	ParentCommit string `json:"parentCommit"`
}

// commitOp is a file, lfsFile, deletedFile or deletedFolder value; which
// fields count depends on the key.
type commitOp struct {
	key      string
	Path     string `json:"path"`
	Content  string `json:"content"`
	Encoding string `json:"encoding"`
	Algo     string `json:"algo"`
	OID      string `json:"oid"`
	Size     *int64 `json:"size"`
}

func badRequest(format string, args ...any) *hubError {
	return &hubError{status: http.StatusBadRequest, message: fmt.Sprintf(format, args...)}
}

// readCommit parses the NDJSON body: the header first, then operations.
func readCommit(r io.Reader) (commitHeader, []commitOp, *hubError) {
	var hdr commitHeader
	var ops []commitOp
	br := bufio.NewReader(r)
	lines := 0 // non-blank lines so far
	for {
		line, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return hdr, nil, badRequest("Bad request for commit endpoint: reading the body: %v", err)
		}
		if len(bytes.TrimSpace(line)) > 0 {
			lines++
			var cl commitLine
			if jerr := json.Unmarshal(line, &cl); jerr != nil {
				return hdr, nil, badRequest("Bad request for commit endpoint: line %d is not JSON: %v", lines, jerr)
			}
			if (lines == 1) != (cl.Key == "header") {
				return hdr, nil, badRequest("Bad request for commit endpoint: the header must come first, and once (line %d is %q)", lines, cl.Key)
			}
			switch cl.Key {
			case "header":
				if jerr := json.Unmarshal(cl.Value, &hdr); jerr != nil {
					return hdr, nil, badRequest("Bad request for commit endpoint: header: %v", jerr)
				}
			case "file", "lfsFile", "deletedFile", "deletedFolder":
				op := commitOp{key: cl.Key}
				if jerr := json.Unmarshal(cl.Value, &op); jerr != nil {
					return hdr, nil, badRequest("Bad request for commit endpoint: line %d: %v", lines, jerr)
				}
				ops = append(ops, op)
			default:
				return hdr, nil, badRequest("Bad request for commit endpoint: unknown key %q on line %d", cl.Key, lines)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
	}
	if lines == 0 {
		return hdr, nil, badRequest("Bad request for commit endpoint: empty body")
	}
	if strings.TrimSpace(hdr.Summary) == "" {
		return hdr, nil, badRequest("Bad request for commit endpoint: the commit summary is required")
	}
	return hdr, ops, nil
}

// checkPath refuses paths git cannot store.
func checkPath(p string) *hubError {
	if p == "" || strings.ContainsRune(p, 0) || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") {
		return badRequest("Bad request for commit endpoint: invalid path %q", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." || seg == ".git" {
			return badRequest("Bad request for commit endpoint: invalid path %q", p)
		}
	}
	return nil
}

// sizeText names a threshold as the Hub's message does ("10 MiB").
func sizeText(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// serveCommit answers POST /api/models/{repo}/commit/{rev} (§4.6): it
// applies the operations to the branch head and moves the branch, or
// changes nothing. The new commit is served at once by info, tree,
// resolve and paths-info.
func (h *Hub) serveCommit(w http.ResponseWriter, r *http.Request, c caller, rt route, m match) {
	rp, herr := h.writableRepo(c, rt.repoID)
	if herr != nil {
		herr.write(w)
		return
	}
	if r.URL.Query().Has("create_pr") {
		(&hubError{status: http.StatusNotImplemented, message: "hubtest: create_pr is not supported"}).write(w)
		return
	}
	branch := strings.TrimPrefix(rt.rev, "refs/heads/")
	if rp.branches[branch] == nil {
		// Commits go to branches only: not to tags, not to commit ids.
		(&hubError{status: http.StatusNotFound, code: "RevisionNotFound", message: "Invalid rev id: " + rt.rev}).write(w)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-ndjson") {
		badRequest("Bad request for commit endpoint: Content-Type %q, want application/x-ndjson", ct).write(w)
		return
	}
	threshold := h.opts.LFSThreshold
	hdr, ops, herr := readCommit(http.MaxBytesReader(w, r.Body, 4*threshold+(256<<20)))
	if herr != nil {
		herr.write(w)
		return
	}
	// Decode contents before taking the lock.
	contents := make([][]byte, len(ops))
	for i, op := range ops {
		if op.key == "deletedFolder" {
			op.Path = strings.TrimSuffix(op.Path, "/")
		}
		if herr := checkPath(op.Path); herr != nil {
			herr.write(w)
			return
		}
		if op.key != "file" {
			continue
		}
		switch op.Encoding {
		case "base64":
			b, err := base64.StdEncoding.DecodeString(op.Content)
			if err != nil {
				badRequest("Bad request for commit endpoint: %s: invalid base64: %v", op.Path, err).write(w)
				return
			}
			contents[i] = b
		case "utf-8", "":
			contents[i] = []byte(op.Content)
		default:
			badRequest("Bad request for commit endpoint: %s: unknown encoding %q", op.Path, op.Encoding).write(w)
			return
		}
		if int64(len(contents[i])) > threshold {
			badRequest("Your push was rejected because it contains files larger than %s. Please use https://git-lfs.github.com/ to store large files. See also: https://hf.co/docs/hub/repositories-getting-started#terminal\n\nOffending files:\n  - %s (ref: refs/heads/%s)",
				sizeText(threshold), op.Path, branch).write(w)
			return
		}
	}
	var made *commit
	herr = h.updateRepo(rt.repoID, func(next *repo) *hubError {
		head := next.branches[branch]
		if head == nil { // deleted since the first look
			return &hubError{status: http.StatusNotFound, code: "RevisionNotFound", message: "Invalid rev id: " + rt.rev}
		}
		if p := hdr.ParentCommit; p != "" && !strings.HasPrefix(head.id, p) {
			return &hubError{status: http.StatusPreconditionFailed,
				message: "The branch was updated since you opened this page. Please refresh and try again."}
		}
		files, lfsAdded, herr := h.applyOps(head, ops, contents)
		if herr != nil {
			return herr
		}
		trackLFS(files, lfsAdded)
		made = newUploadCommit(next.id, head, hdr.Summary, hdr.Description, files)
		next.branches[branch] = made
		next.commits[made.id] = made
		for _, p := range lfsAdded {
			h.addObject(files[p])
		}
		return nil
	})
	if herr != nil {
		herr.write(w)
		return
	}
	h.serveJSON(w, r, m, map[string]any{
		"success":    true,
		"commitOid":  made.id,
		"commitUrl":  h.URL + "/" + rt.repoID + "/commit/" + made.id,
		"hookOutput": "",
	}, nil)
}

// applyOps applies the operations in order to a copy of the head's files;
// lfsAdded lists the paths written by lfsFile operations. h.mu is held.
func (h *Hub) applyOps(head *commit, ops []commitOp, contents [][]byte) (files map[string]*file, lfsAdded []string, herr *hubError) {
	files = maps.Clone(head.files)
	for i, op := range ops {
		switch op.key {
		case "file":
			files[op.Path] = makeFile(op.Path, contents[i], false)
		case "lfsFile":
			if op.Algo != "" && op.Algo != "sha256" {
				return nil, nil, badRequest("Bad request for commit endpoint: %s: algo %q is not sha256", op.Path, op.Algo)
			}
			obj := h.objects[op.OID]
			if obj == nil || op.Size != nil && *op.Size != int64(len(obj.content)) {
				size := "any size"
				if op.Size != nil {
					size = fmt.Sprintf("size %d", *op.Size)
				}
				return nil, nil, badRequest("Bad request for commit endpoint: %s: no LFS object %s of %s was uploaded", op.Path, op.OID, size)
			}
			files[op.Path] = makeFile(op.Path, obj.content, true)
			lfsAdded = append(lfsAdded, op.Path)
		case "deletedFile":
			if files[op.Path] == nil {
				return nil, nil, &hubError{status: http.StatusNotFound, code: "EntryNotFound", message: "A file with this name doesn't exist"}
			}
			delete(files, op.Path)
		case "deletedFolder":
			dir := strings.TrimSuffix(op.Path, "/") + "/"
			found := false
			for p := range files {
				if strings.HasPrefix(p, dir) {
					delete(files, p)
					found = true
				}
			}
			if !found {
				return nil, nil, &hubError{status: http.StatusNotFound, code: "EntryNotFound", message: "A folder with this name doesn't exist"}
			}
		}
	}
	// git cannot hold a file where another file needs a folder.
	for p := range files {
		for dir := parentDir(p); dir != ""; dir = parentDir(dir) {
			if files[dir] != nil {
				return nil, nil, badRequest("Bad request for commit endpoint: %s is a file, so %s cannot be inside it", dir, p)
			}
		}
	}
	// A path written twice keeps its last write: lfsAdded must agree.
	lfsAdded = slices.DeleteFunc(lfsAdded, func(p string) bool { return !files[p].lfs })
	slices.Sort(lfsAdded)
	return files, slices.Compact(lfsAdded), nil
}

// parentDir is path.Dir with "" for the root.
func parentDir(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return ""
	}
	return p[:i]
}

// trackLFS adds a .gitattributes rule for every new LFS path no rule
// covers, as the Hub does for paths sent as lfsFile, so that the result
// is a repo git itself would check out the same way.
func trackLFS(files map[string]*file, lfsAdded []string) {
	attrs := ""
	if f := files[".gitattributes"]; f != nil && !f.lfs {
		attrs = string(f.content)
	}
	orig := attrs
	for _, p := range lfsAdded {
		if lfsTracked(attrs, p) {
			continue
		}
		if attrs != "" && !strings.HasSuffix(attrs, "\n") {
			attrs += "\n"
		}
		attrs += gitattributesLine(p)
	}
	if attrs != orig {
		files[".gitattributes"] = makeFile(".gitattributes", []byte(attrs), false)
	}
}
