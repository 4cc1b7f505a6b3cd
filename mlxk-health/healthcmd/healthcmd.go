// Package healthcmd implements the mlxk-health binary.
package healthcmd

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/mlxk/mlxk/shared/cli"
	"github.com/mlxk/mlxk/shared/envelope"
	"github.com/mlxk/mlxk/shared/hubcache"
	"github.com/mlxk/mlxk/shared/human"
	"github.com/mlxk/mlxk/shared/mlxkerr"
	"github.com/mlxk/mlxk/shared/modelinfo"
	"github.com/mlxk/mlxk/shared/modelref"
	"github.com/mlxk/mlxk/shared/snapfiles"
	"github.com/mlxk/mlxk/shared/verify"
	"github.com/mlxk/mlxk/shared/workspace"
)

// Program is the mlxk-health binary.
var Program = cli.Program{
	Name:  "mlxk-health",
	Verbs: []cli.Verb{{Name: "health", Usage: usage, Run: run}},
}

// Main runs mlxk-health with the process environment.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return Program.Main(ctx, cli.OSEnv(stdin, stdout, stderr), args)
}

const usage = "health [model[@rev] | -] [--verify] [--json | --jsonl] [--log-json]"

// Entry is the health record of one model. name, status and reason are
// mlx-knife's; the rest is ours (docs/json-api.md).
type Entry struct {
	Name              string  `json:"name"`
	Status            string  `json:"status"` // healthy | unhealthy
	Reason            string  `json:"reason"`
	Hash              *string `json:"hash"`
	RuntimeCompatible bool    `json:"runtime_compatible"`
	RuntimeReason     *string `json:"runtime_reason"`
	Verify            *Report `json:"verify,omitempty"`
}

// Summary counts the entries.
type Summary struct {
	Total          int `json:"total"`
	HealthyCount   int `json:"healthy_count"`
	UnhealthyCount int `json:"unhealthy_count"`
}

// Data is the data of the health envelope.
type Data struct {
	Healthy   []Entry `json:"healthy"`
	Unhealthy []Entry `json:"unhealthy"`
	Summary   Summary `json:"summary"`
}

func newData(entries []Entry) Data {
	d := Data{Healthy: []Entry{}, Unhealthy: []Entry{}}
	for _, e := range entries {
		if e.Status == "healthy" {
			d.Healthy = append(d.Healthy, e)
		} else {
			d.Unhealthy = append(d.Unhealthy, e)
		}
	}
	d.Summary = Summary{Total: len(entries), HealthyCount: len(d.Healthy), UnhealthyCount: len(d.Unhealthy)}
	return d
}

// target is one model to check: a resolved snapshot, or the reason it could
// not be resolved (for names read from stdin).
type target struct {
	name string
	res  hubcache.Resolved
	err  error
	// current defers picking the repo's current snapshot to the
	// concurrent check, which is where the file system work belongs.
	current bool
	// workspace is set for a workspace folder given by path.
	workspace string
}

func run(ctx context.Context, env cli.Env, verb string, args []string) error {
	fs := cli.NewFlags(verb, usage)
	doVerify := fs.Bool("verify", false, "re-hash every file against its blob name")
	out := fs.OutputFlags("print one health record per line")
	pos, err := fs.Parse(env, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return mlxkerr.Usagef("health takes at most one model or '-' (usage: %s)", usage)
	}
	log := env.Logger(out.LogJSON())
	cache := hubcache.Cache{Dir: hubcache.Locate(env.Getenv, env.Home)}
	mode := out.Mode()

	var targets []target
	switch {
	case len(pos) == 0:
		repos, err := cache.Repos()
		if err != nil {
			return mlxkerr.Wrap(mlxkerr.HealthCheckFailed, err, "read cache")
		}
		for _, r := range repos {
			if !r.Hidden() {
				targets = append(targets, target{name: r.ID, res: hubcache.Resolved{Repo: r}, current: true})
			}
		}
	case pos[0] == "-":
		specs, err := modelref.ReadSpecs(env.Stdin)
		if err != nil {
			return mlxkerr.Wrap(mlxkerr.HealthCheckFailed, err, "read models from stdin")
		}
		resolved, errs, err := cache.ResolveEach(specs)
		if err != nil {
			return err
		}
		for i, s := range specs {
			name := s
			if errs[i] == nil {
				name = resolved[i].Repo.ID
			}
			targets = append(targets, target{name: name, res: resolved[i], err: errs[i]})
		}
	case workspace.IsExplicitPath(pos[0]) && workspace.IsWorkspace(pos[0]):
		targets = append(targets, target{workspace: pos[0]})
	default:
		res, err := cache.Resolve(pos[0])
		if err != nil {
			e := mlxkerr.From(err, mlxkerr.HealthCheckFailed)
			if mode != cli.Human && e.Type == mlxkerr.AmbiguousMatch {
				// mlx-knife keeps the empty result lists beside the error.
				_ = envelope.Write(env.Stdout, envelope.Failure("health", e, newData(nil)))
				return cli.Reported{Code: 1}
			}
			return e
		}
		targets = append(targets, target{name: res.Repo.ID, res: res})
	}

	start := env.Now()
	entries := check(targets, *doVerify)
	if *doVerify {
		var bytes int64
		for _, e := range entries {
			bytes += e.Verify.BytesChecked
		}
		log.Debug("verified", "models", len(entries), "bytes", bytes, "duration", env.Now().Sub(start))
	}

	switch mode {
	case cli.JSONL:
		for _, e := range entries {
			if err := envelope.Write(env.Stdout, e); err != nil {
				return err
			}
		}
		return nil
	case cli.JSON:
		return envelope.Write(env.Stdout, envelope.Success("health", newData(entries)))
	}
	_, err = io.WriteString(env.Stdout, render(newData(entries)))
	return err
}

// check inspects every target concurrently, keeping their order. With
// verify, each model's files are queued for hashing as soon as the model
// is listed, so hashing overlaps with the integrity checks of the others.
func check(targets []target, doVerify bool) []Entry {
	entries := make([]Entry, len(targets))
	var pool *verify.Pool
	var pending []*pendingVerify
	if doVerify {
		pool = verify.NewPool(0)
		pending = make([]*pendingVerify, len(targets))
	}
	modelinfo.ForEach(len(targets), func(i int) {
		t := targets[i]
		if t.err != nil {
			entries[i] = Entry{Name: t.name, Status: "unhealthy", Reason: mlxkerr.From(t.err, mlxkerr.HealthCheckFailed).Message}
			if doVerify {
				pending[i] = &pendingVerify{report: newReport()}
			}
			return
		}
		if t.current {
			t.res.Snapshot, t.res.HasSnapshot, _ = t.res.Repo.Current()
			targets[i] = t
		}
		var m modelinfo.Model
		var in modelinfo.Inspection
		if t.workspace != "" {
			m, in = modelinfo.DescribeWorkspace(t.workspace)
			t.name = m.Name
		} else {
			m, in = modelinfo.Describe(t.res)
		}
		e := Entry{Name: t.name, Status: m.Health, Hash: m.Hash, RuntimeCompatible: m.RuntimeCompatible}
		if t.res.HasSnapshot || t.workspace != "" {
			e.Reason = in.Health.Reason
		} else {
			e.Reason = "No snapshots found"
		}
		if in.Health.Healthy && in.RuntimeReason != "" {
			r := in.RuntimeReason
			e.RuntimeReason = &r
		}
		entries[i] = e
		if doVerify && t.workspace == "" {
			pending[i] = queueVerify(pool, t, in.Files)
		} else if doVerify {
			pending[i] = &pendingVerify{report: newReport()} // workspaces hold no blobs to check
		}
	})
	if doVerify {
		pool.Wait()
		for i, p := range pending {
			finishVerify(&entries[i], p)
		}
	}
	return entries
}

// render prints mlx-knife's human health layout, with verification findings
// indented under their model. The summary line is left out for a single
// model, as mlx-knife 2.0.4 does.
func render(d Data) string {
	var b strings.Builder
	if d.Summary.Total != 1 {
		fmt.Fprintf(&b, "Summary: total %d, healthy %d, unhealthy %d\n", d.Summary.Total, d.Summary.HealthyCount, d.Summary.UnhealthyCount)
	}
	line := func(label string, e Entry) {
		reason := e.Reason
		if e.RuntimeReason != nil {
			reason += "; not runnable: " + *e.RuntimeReason
		}
		b.WriteString(strings.TrimRight(fmt.Sprintf("%-9s %s — %s", label, e.Name, reason), " "))
		b.WriteByte('\n')
		if v := e.Verify; v != nil {
			fmt.Fprintf(&b, "          verified %d files (%s)\n", v.FilesChecked, human.Size(v.BytesChecked))
			for _, m := range v.Mismatches {
				fmt.Fprintf(&b, "          mismatch: %s (expected %s, got %s)\n", m.File, m.Expected, m.Actual)
			}
			for _, f := range v.Unreadable {
				fmt.Fprintf(&b, "          unreadable: %s\n", f)
			}
			for _, f := range v.Incomplete {
				fmt.Fprintf(&b, "          leftover: %s\n", f)
			}
			for _, r := range v.DanglingRefs {
				fmt.Fprintf(&b, "          dangling ref: %s\n", r)
			}
		}
	}
	for _, e := range d.Healthy {
		line("healthy", e)
	}
	for _, e := range d.Unhealthy {
		line("unhealthy", e)
	}
	return b.String()
}

// Report is the --verify finding for one model.
type Report struct {
	FilesChecked int        `json:"files_checked"`
	BytesChecked int64      `json:"bytes_checked"`
	Mismatches   []Mismatch `json:"mismatches"`
	// Unverified lists files whose blob name is not a content hash (for
	// example a cache written without symlinks).
	Unverified []string `json:"unverified"`
	// Unreadable lists files that could not be read to the end.
	Unreadable []string `json:"unreadable"`
	// Incomplete lists blobs/*.incomplete leftovers of interrupted downloads.
	Incomplete []string `json:"incomplete"`
	// DanglingRefs lists refs whose commit has no snapshot.
	DanglingRefs []string `json:"dangling_refs"`
}

// Mismatch is a file whose content does not hash to its blob name.
type Mismatch struct {
	File     string `json:"file"`
	Expected string `json:"expected"`
	Actual   string `json:"actual"`
}

// pendingVerify collects one model's hashing results as workers report
// them.
type pendingVerify struct {
	mu     sync.Mutex
	report *Report
}

func newReport() *Report {
	return &Report{Mismatches: []Mismatch{}, Unverified: []string{}, Unreadable: []string{}, Incomplete: []string{}, DanglingRefs: []string{}}
}

// queueVerify records the repo-level findings of a target and submits each
// of its files for hashing. Files are read through their blob paths (the
// link target), which skips resolving the snapshot symlink again.
func queueVerify(pool *verify.Pool, t target, files snapfiles.Listing) *pendingVerify {
	p := &pendingVerify{report: newReport()}
	rep := p.report
	rep.Incomplete = append(rep.Incomplete, t.res.Repo.IncompleteBlobs()...)
	rep.DanglingRefs = append(rep.DanglingRefs, danglingRefs(t.res.Repo)...)
	if !t.res.HasSnapshot {
		return p
	}
	seen := map[string]bool{}
	for _, f := range files.Files {
		if f.Broken {
			continue // already reported by the integrity check
		}
		target := files.Target(f)
		blob := filepath.Base(target)
		algo := verify.AlgoFor(blob)
		if target == "" || algo == verify.None || f.Irregular {
			rep.Unverified = append(rep.Unverified, f.Rel)
			continue
		}
		path := target
		if !filepath.IsAbs(path) {
			path = filepath.Join(filepath.Dir(files.Abs(f)), target)
		}
		if seen[path] {
			continue
		}
		seen[path] = true
		rel, size := f.Rel, f.Size
		pool.Submit(verify.Job{Path: path, Algo: algo, Size: size}, func(r verify.Result) {
			p.mu.Lock()
			defer p.mu.Unlock()
			rep.FilesChecked++
			switch {
			case r.Err != nil:
				rep.Unreadable = append(rep.Unreadable, rel)
			case r.Digest != blob:
				rep.Mismatches = append(rep.Mismatches, Mismatch{File: rel, Expected: blob, Actual: r.Digest})
			default:
				rep.BytesChecked += size
			}
		})
	}
	return p
}

// finishVerify attaches the report, in a stable order, and turns a healthy
// entry unhealthy when a file did not hash to its blob name or could not
// be read.
func finishVerify(e *Entry, p *pendingVerify) {
	rep := p.report
	slices.SortFunc(rep.Mismatches, func(a, b Mismatch) int { return strings.Compare(a.File, b.File) })
	slices.Sort(rep.Unreadable)
	slices.Sort(rep.Unverified)
	e.Verify = rep
	if e.Status != "healthy" || len(rep.Mismatches)+len(rep.Unreadable) == 0 {
		return
	}
	var files []string
	for _, m := range rep.Mismatches {
		files = append(files, m.File)
	}
	files = append(files, rep.Unreadable...)
	e.Status = "unhealthy"
	e.Reason = "Content does not match blob hash: " + strings.Join(files, ", ")
	e.RuntimeCompatible = false
	e.RuntimeReason = nil
}

// danglingRefs lists "name -> commit" for refs whose snapshot is missing.
func danglingRefs(r hubcache.Repo) []string {
	refs, err := r.Refs()
	if err != nil {
		return nil
	}
	snaps, _ := r.Snapshots()
	have := map[string]bool{}
	for _, s := range snaps {
		have[s.Name] = true
	}
	var out []string
	for name, commit := range refs {
		if !have[commit] {
			out = append(out, name+" -> "+commit)
		}
	}
	slices.Sort(out)
	return out
}
