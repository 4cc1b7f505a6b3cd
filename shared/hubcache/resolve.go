package hubcache

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/mlxk/mlxk/shared/mlxkerr"
	"github.com/mlxk/mlxk/shared/modelref"
)

// Resolved is a model reference matched against the cache.
type Resolved struct {
	Repo Repo
	// Snapshot is the selected snapshot; HasSnapshot is false when the repo
	// has none (the repo folder itself is then what list and show describe).
	Snapshot    Snapshot
	HasSnapshot bool
	// Pinned is true when the reference named a revision.
	Pinned bool
}

// Path is the folder the model's files live in: the snapshot, or the repo
// folder when there is no snapshot.
func (r Resolved) Path() string {
	if r.HasSnapshot {
		return r.Snapshot.Path
	}
	return r.Repo.Dir
}

// Resolve matches spec (name[@rev]) against the cache. Names are tried in
// tiers and the first tier with a hit wins:
//
//  1. the exact repo id (or cache folder name);
//  2. a bare short name under mlx-community/, as mlx-knife expands it;
//  3. the repo id, or the name after the org, compared case-insensitively;
//  4. a case-insensitive substring of the repo id.
//
// Tiers 3 and 4 report several hits as ambiguous_match with the candidates,
// unless a revision is given and exactly one candidate holds it. A revision
// is a ref name (branch or tag), a full commit or a unique commit prefix.
func (c Cache) Resolve(spec string) (Resolved, error) {
	if strings.TrimSpace(modelref.Parse(spec).Name) == "" {
		return Resolved{}, mlxkerr.Usagef("empty model name in %q", spec)
	}
	repos, err := c.Repos()
	if err != nil {
		return Resolved{}, mlxkerr.Wrap(mlxkerr.InternalError, err, "read cache %s", c.Dir)
	}
	return resolveIn(repos, spec)
}

// ResolveEach resolves many references against one reading of the cache
// folder (for names piped in by the thousand); errs[i] is the error of
// specs[i]. The error return is for a cache that cannot be read at all.
func (c Cache) ResolveEach(specs []string) (res []Resolved, errs []error, err error) {
	repos, err := c.Repos()
	if err != nil {
		return nil, nil, mlxkerr.Wrap(mlxkerr.InternalError, err, "read cache %s", c.Dir)
	}
	res = make([]Resolved, len(specs))
	errs = make([]error, len(specs))
	for i, spec := range specs {
		if strings.TrimSpace(modelref.Parse(spec).Name) == "" {
			errs[i] = mlxkerr.Usagef("empty model name in %q", spec)
			continue
		}
		res[i], errs[i] = resolveIn(repos, spec)
	}
	return res, errs, nil
}

func resolveIn(repos []Repo, spec string) (Resolved, error) {
	ref := modelref.Parse(spec)
	var err error
	cands := match(repos, ref.Name)
	if len(cands) == 0 {
		return Resolved{}, mlxkerr.New(mlxkerr.ModelNotFound, "No model found matching '%s'", ref.Name)
	}
	if ref.Rev == "" {
		if len(cands) > 1 {
			return Resolved{}, ambiguous(ref.Name, cands)
		}
		res := Resolved{Repo: cands[0]}
		res.Snapshot, res.HasSnapshot, err = cands[0].Current()
		if err != nil {
			return Resolved{}, mlxkerr.Wrap(mlxkerr.InternalError, err, "read snapshots of %s", cands[0].ID)
		}
		return res, nil
	}
	if len(cands) == 1 {
		snap, err := cands[0].SnapshotAt(ref.Rev)
		if err != nil {
			return Resolved{}, err
		}
		return Resolved{Repo: cands[0], Snapshot: snap, HasSnapshot: true, Pinned: true}, nil
	}
	// Several names match: the revision may single one out.
	var hits []Resolved
	for _, r := range cands {
		if snap, err := r.SnapshotAt(ref.Rev); err == nil {
			hits = append(hits, Resolved{Repo: r, Snapshot: snap, HasSnapshot: true, Pinned: true})
		}
	}
	if len(hits) == 1 {
		return hits[0], nil
	}
	return Resolved{}, ambiguous(ref.Name, cands)
}

func ambiguous(pattern string, cands []Repo) error {
	e := mlxkerr.New(mlxkerr.AmbiguousMatch, "Multiple models match '%s'", pattern)
	for _, r := range cands {
		e.Matches = append(e.Matches, r.ID)
	}
	return e
}

// match returns the repos of the first tier that matches name (see Resolve).
func match(repos []Repo, name string) []Repo {
	for _, r := range repos {
		if r.ID == name || r.CacheName == name {
			return []Repo{r}
		}
	}
	if !strings.Contains(name, "/") {
		long := modelref.DefaultOrg + "/" + name
		for _, r := range repos {
			if r.ID == long {
				return []Repo{r}
			}
		}
	}
	var tier []Repo
	for _, r := range repos {
		if r.Hidden() {
			continue
		}
		if strings.EqualFold(r.ID, name) || !strings.Contains(name, "/") && strings.EqualFold(modelref.ShortName(r.ID), name) {
			tier = append(tier, r)
		}
	}
	if len(tier) > 0 {
		return tier
	}
	lower := strings.ToLower(name)
	for _, r := range repos {
		if !r.Hidden() && strings.Contains(strings.ToLower(r.ID), lower) {
			tier = append(tier, r)
		}
	}
	return tier
}

// SnapshotAt finds the snapshot for a revision: a ref name under refs/, a
// full commit, or a commit prefix that is unique among the cached
// snapshots.
func (r Repo) SnapshotAt(rev string) (Snapshot, error) {
	snaps, err := r.Snapshots()
	if err != nil {
		return Snapshot{}, mlxkerr.Wrap(mlxkerr.InternalError, err, "read snapshots of %s", r.ID)
	}
	byName := func(name string) (Snapshot, bool) {
		for _, s := range snaps {
			if s.Name == name {
				return s, true
			}
		}
		return Snapshot{}, false
	}
	if s, ok := byName(rev); ok {
		return s, nil
	}
	if !strings.Contains(rev, "..") {
		if b, err := readSmall(filepath.Join(r.Dir, "refs", filepath.FromSlash(rev)), 1024); err == nil {
			commit := strings.TrimSpace(string(b))
			if s, ok := byName(commit); ok {
				return s, nil
			}
			e := mlxkerr.New(mlxkerr.HashNotFound, "Revision '%s' of '%s' points to commit %s, which is not in the cache", rev, r.ID, commit)
			e.AvailableHashes = names(snaps)
			return Snapshot{}, e
		}
	}
	var hits []Snapshot
	prefix := strings.ToLower(rev)
	for _, s := range snaps {
		if strings.HasPrefix(s.Name, prefix) {
			hits = append(hits, s)
		}
	}
	switch len(hits) {
	case 1:
		return hits[0], nil
	case 0:
		e := mlxkerr.New(mlxkerr.HashNotFound, "Hash '%s' not found for model '%s'", rev, r.ID)
		e.AvailableHashes = names(snaps)
		return Snapshot{}, e
	default:
		e := mlxkerr.New(mlxkerr.AmbiguousMatch, "Hash '%s' matches several snapshots of '%s'", rev, r.ID)
		e.Matches = names(hits)
		return Snapshot{}, e
	}
}

func names(snaps []Snapshot) []string {
	out := make([]string, 0, len(snaps))
	for _, s := range snaps {
		out = append(out, s.Name)
	}
	slices.Sort(out)
	return out
}
