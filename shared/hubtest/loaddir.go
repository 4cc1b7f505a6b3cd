package hubtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// sidecarSuffix names the optional options file beside a repo folder.
const sidecarSuffix = ".hub.json"

// sidecar is the JSON of root/<org>/<name>.hub.json (see the package doc).
type sidecar struct {
	Private        bool              `json:"private"`
	Gated          bool              `json:"gated"`
	Disabled       bool              `json:"disabled"`
	ApprovedTokens []string          `json:"approved_tokens"`
	Branches       map[string]string `json:"branches"`
	Tags           map[string]string `json:"tags"`
}

// LoadDir adds every repo found under root (layout in the package doc):
// root/<org>/<name>/ is branch main of org/name, root/<org>/<name>@<branch>/
// another branch, root/<org>/<name>.hub.json its options. Repos already
// served under the same ids are replaced.
func (h *Hub) LoadDir(root string) error {
	repos, err := readRepos(root)
	if err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(repos)) {
		if err := h.AddRepo(id, *repos[id]); err != nil {
			return fmt.Errorf("hubtest: %s: %w", root, err)
		}
	}
	return nil
}

func readRepos(root string) (map[string]*Repo, error) {
	orgs, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("hubtest: %w", err)
	}
	repos := map[string]*Repo{}
	get := func(id string) *Repo {
		if repos[id] == nil {
			repos[id] = &Repo{Branches: map[string]Commit{}}
		}
		return repos[id]
	}
	setBranch := func(id, branch, dir string) error {
		files, err := readTree(dir)
		if err != nil {
			return fmt.Errorf("hubtest: repo %s branch %s: %w", id, branch, err)
		}
		r := get(id)
		if _, dup := r.Branches[branch]; dup {
			return fmt.Errorf("hubtest: repo %s: branch %s defined twice (folder %s)", id, branch, dir)
		}
		r.Branches[branch] = Commit{Files: files}
		return nil
	}
	for _, o := range orgs {
		if strings.HasPrefix(o.Name(), ".") {
			continue
		}
		orgDir := filepath.Join(root, o.Name())
		if !o.IsDir() {
			return nil, fmt.Errorf("hubtest: %s: want org folders at the top level", orgDir)
		}
		entries, err := os.ReadDir(orgDir)
		if err != nil {
			return nil, fmt.Errorf("hubtest: %w", err)
		}
		// Sidecars first: the folders they name as branches are not repos.
		referenced := map[string]bool{}
		for _, e := range entries {
			name, ok := strings.CutSuffix(e.Name(), sidecarSuffix)
			if !ok || e.IsDir() {
				continue
			}
			id := o.Name() + "/" + name
			p := filepath.Join(orgDir, e.Name())
			sc, err := readSidecar(p)
			if err != nil {
				return nil, err
			}
			r := get(id)
			r.RepoOptions = RepoOptions{Private: sc.Private, Gated: sc.Gated, Disabled: sc.Disabled, ApprovedTokens: sc.ApprovedTokens}
			r.Tags = sc.Tags
			for _, branch := range slices.Sorted(maps.Keys(sc.Branches)) {
				folder := filepath.Clean(filepath.FromSlash(sc.Branches[branch]))
				// The folder's top component is not a repo (it may nest).
				referenced[strings.Split(filepath.ToSlash(folder), "/")[0]] = true
				if err := setBranch(id, branch, filepath.Join(orgDir, folder)); err != nil {
					return nil, fmt.Errorf("%w (named in %s)", err, p)
				}
			}
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") || strings.HasSuffix(e.Name(), sidecarSuffix) && !e.IsDir() {
				continue
			}
			if !e.IsDir() {
				return nil, fmt.Errorf("hubtest: %s: want repo folders or %s files in an org folder", filepath.Join(orgDir, e.Name()), sidecarSuffix)
			}
			if referenced[e.Name()] {
				continue
			}
			name, branch, hasBranch := strings.Cut(e.Name(), "@")
			if !hasBranch {
				branch = "main"
			} else if branch, err = url.PathUnescape(branch); err != nil || branch == "" {
				return nil, fmt.Errorf("hubtest: %s: bad branch name after @", filepath.Join(orgDir, e.Name()))
			}
			if err := setBranch(o.Name()+"/"+name, branch, filepath.Join(orgDir, e.Name())); err != nil {
				return nil, err
			}
		}
	}
	return repos, nil
}

func readSidecar(p string) (sidecar, error) {
	var sc sidecar
	b, err := os.ReadFile(p)
	if err != nil {
		return sc, fmt.Errorf("hubtest: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sc); err != nil {
		return sc, fmt.Errorf("hubtest: %s: %w", p, err)
	}
	return sc, nil
}

// readTree reads every file under dir into a map keyed by the
// slash-separated path relative to dir.
func readTree(dir string) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		return nil, err
	}
	return files, nil
}
