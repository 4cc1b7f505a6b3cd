// Package models is mlxk-serve's model registry: it resolves the names
// clients send against the hub cache, loads models on demand after a
// memory check, gives each loaded model one engine.Batcher that all its
// requests share, and unloads models when their keep-alive runs out or
// room is needed for another.
package models

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/constrain"
	"github.com/mlxk/mlxk/mlxk-serve/servecmd/toolcall"
	"github.com/mlxk/mlxk/shared/engine"
	"github.com/mlxk/mlxk/shared/engine/reasoning"
	"github.com/mlxk/mlxk/shared/hubcache"
	"github.com/mlxk/mlxk/shared/human"
	"github.com/mlxk/mlxk/shared/mlxkerr"
	"github.com/mlxk/mlxk/shared/modelinfo"
	"github.com/mlxk/mlxk/shared/sysmem"
	"github.com/mlxk/mlxk/shared/textgen"
	"github.com/mlxk/mlxk/shared/workspace"
)

// Error types of the registry (mlxkerr types; the HTTP layer maps them to
// statuses). Resolution keeps the cache's model_not_found and
// ambiguous_match.
const (
	ErrUnhealthy    = "model_unhealthy"
	ErrIncompatible = "model_incompatible"
	ErrTooLarge     = "insufficient_memory" // as run calls it
	ErrLoadFailed   = "model_load_failed"
)

// ErrClosed is returned once the registry is shutting down.
var ErrClosed = errors.New("server is shutting down")

// Config sets up a Registry.
type Config struct {
	Cache   hubcache.Cache
	Backend engine.Backend
	// Batch bounds each model's Batcher (parallel sequences and queue).
	Batch engine.BatcherOptions
	// Threads is the engine's compute goroutines per model (0: all CPUs).
	Threads int
	// KeepAlive is how long an idle model stays loaded: negative forever,
	// zero unloads it as soon as its last request ends.
	KeepAlive time.Duration
	// MaxLoaded is how many models may be resident at once (>= 1).
	MaxLoaded int
	// MemoryLimit is the budget for the estimated memory of all loaded
	// models (0: none).
	MemoryLimit int64
	Log         *slog.Logger
	Now         func() time.Time
	// OnLoad, when set, is told about every finished load.
	OnLoad func(id string, took time.Duration, err error)
}

// Model is a loaded (or loading) model.
type Model struct {
	// ID is the name clients see: the repo id (with @hash when a revision
	// was asked for), or the folder of a workspace model.
	ID   string
	Dir  string
	Info modelinfo.Model
	// Need is the estimated memory: weights plus one sequence of its
	// context (see ContextBudget).
	Need int64

	// Set once loading succeeded.
	Text      *textgen.Model
	Batcher   *engine.Batcher
	Reasoning reasoning.Kind
	Tools     toolcall.Format
	LoadedAt  time.Time

	vocabOnce sync.Once
	vocab     *constrain.Vocab

	ready chan struct{} // closed when loading ends
	err   error         // the load error, after ready

	// Guarded by Registry.mu.
	refs      int
	lastUsed  time.Time
	keepAlive time.Duration
	expires   time.Time
	timer     *time.Timer
}

// Vocab is the model's vocabulary as bytes for constrained decoding,
// built on first use.
func (m *Model) Vocab() *constrain.Vocab {
	m.vocabOnce.Do(func() { m.vocab = constrain.NewVocab(m.Text.Tok, m.Text.Engine.Info().Vocab) })
	return m.vocab
}

// Status is a loaded model as /api/ps shows it.
type Status struct {
	ID            string
	Dir           string
	SizeBytes     int64
	MemoryBytes   int64
	ContextLength int
	LoadedAt      time.Time
	// ExpiresAt is zero while the model is busy or kept forever.
	ExpiresAt time.Time
	KeepAlive time.Duration
	Active    int // requests holding the model
	Loading   bool
	Batch     engine.BatcherStats
}

// Registry owns the loaded models.
type Registry struct {
	cfg Config

	mu      sync.Mutex
	models  map[string]*Model // by folder
	aliases map[string]string // request name → folder
	order   []string          // folders in load order
	changed chan struct{}     // closed and replaced when a model frees up
	closed  bool
}

// New returns an empty registry.
func New(cfg Config) *Registry {
	if cfg.MaxLoaded < 1 {
		cfg.MaxLoaded = 1
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Registry{cfg: cfg, models: map[string]*Model{}, aliases: map[string]string{}, changed: make(chan struct{})}
}

// target is a resolved model name.
type target struct {
	id, dir string
	info    modelinfo.Model
}

// Dir is the resolved model's folder.
func (t target) Dir() string { return t.dir }

// Resolve checks a model name the way run does: found, unambiguous,
// healthy and runnable. allowPath admits workspace folders (the --model
// preload); clients naming folders over HTTP are refused, so a request
// cannot make the server read arbitrary paths.
func (r *Registry) Resolve(name string, allowPath bool) (target, error) {
	var t target
	if workspace.IsExplicitPath(name) {
		if !allowPath {
			return t, mlxkerr.New(mlxkerr.ModelNotFound, "model %q not found: folders can be served only with --model", name)
		}
		st, err := os.Stat(name)
		if err != nil || !st.IsDir() {
			return t, mlxkerr.New(mlxkerr.ModelNotFound, "%s is not a model folder", name)
		}
		t.info, _ = modelinfo.DescribeWorkspace(name)
		t.id, t.dir = t.info.Name, t.info.Name
	} else {
		res, err := r.cfg.Cache.Resolve(name)
		if err != nil {
			return t, err
		}
		if !res.HasSnapshot {
			return t, mlxkerr.New(mlxkerr.ModelNotFound, "model %s has no snapshot in the cache; try: mlxk pull %s", res.Repo.ID, res.Repo.ID)
		}
		t.info, _ = modelinfo.Describe(res)
		t.id, t.dir = res.Repo.ID, res.Path()
		if res.Pinned {
			t.id += "@" + res.Snapshot.Hash()
		}
	}
	reason := ""
	if t.info.Reason != nil {
		reason = *t.info.Reason
	}
	if t.info.Health != "healthy" {
		return t, mlxkerr.New(ErrUnhealthy, "model %s is not healthy: %s", t.id, reason)
	}
	if !t.info.RuntimeCompatible {
		return t, mlxkerr.New(ErrIncompatible, "model %s is not compatible: %s", t.id, reason)
	}
	return t, nil
}

// Purpose is what a request wants a model for.
type Purpose int

const (
	// AnyPurpose admits every runnable model (a --model preload).
	AnyPurpose Purpose = iota
	// Generate needs a model that generates text (chat, completions):
	// not an embedding-only model.
	Generate
	// Embed admits every runnable model: a decoder's hidden states are
	// embeddings, best from a model trained for them.
	Embed
)

// serves refuses a model that cannot serve p.
func serves(info modelinfo.Model, id string, p Purpose) error {
	if p == Generate && !slices.Contains(info.Capabilities, "text-generation") {
		return mlxkerr.New(ErrIncompatible, "model %s does not generate text (capabilities: %s)", id, strings.Join(info.Capabilities, ", "))
	}
	return nil
}

// Preflight checks a --model before the server starts: resolution,
// health, runtime and the memory budget, without loading anything.
func (r *Registry) Preflight(name string) error {
	t, err := r.Resolve(name, true)
	if err != nil {
		return err
	}
	return r.checkBudget(t, estimate(r.cfg.Backend, t.dir))
}

// checkBudget refuses a model that needs more than the whole budget.
func (r *Registry) checkBudget(t target, need int64) error {
	if r.cfg.MemoryLimit > 0 && need > r.cfg.MemoryLimit {
		return mlxkerr.New(ErrTooLarge, "model %s needs about %s (weights and one context), more than the %s memory limit",
			t.id, human.Size(need), human.Size(r.cfg.MemoryLimit))
	}
	return nil
}

// Acquire returns the loaded model for name, loading it first when
// needed; the caller must Release it. Requests for one model share its
// load. When the model does not fit next to the loaded ones, idle models
// are unloaded (least recently used first); when all are busy, Acquire
// waits until one frees up or ctx ends.
// The model must serve p.
func (r *Registry) Acquire(ctx context.Context, name string, p Purpose) (*Model, error) {
	return r.acquire(ctx, name, false, p)
}

func (r *Registry) acquire(ctx context.Context, name string, allowPath bool, p Purpose) (*Model, error) {
	r.mu.Lock()
	dir, known := r.aliases[name]
	r.mu.Unlock()
	var t target
	var need int64
	if !known {
		var err error
		if t, err = r.Resolve(name, allowPath); err != nil {
			return nil, err
		}
		if err := serves(t.info, t.id, p); err != nil {
			return nil, err
		}
		dir, need = t.dir, estimate(r.cfg.Backend, t.dir)
		if err := r.checkBudget(t, need); err != nil {
			return nil, err
		}
	}
	r.mu.Lock()
	for {
		if r.closed {
			r.mu.Unlock()
			return nil, ErrClosed
		}
		if m := r.models[dir]; m != nil {
			if err := serves(m.Info, m.ID, p); err != nil {
				r.mu.Unlock()
				return nil, err
			}
			m.refs++
			r.stopTimer(m)
			if t.id != "" {
				r.aliases[name] = dir
			}
			r.mu.Unlock()
			return r.awaitLoad(ctx, m)
		}
		if known { // the alias went stale: the model was unloaded
			r.mu.Unlock()
			return r.acquire(ctx, name, allowPath, p)
		}
		if r.fits(need) {
			m := &Model{ID: t.id, Dir: t.dir, Info: t.info, Need: need, ready: make(chan struct{}), refs: 1,
				keepAlive: r.cfg.KeepAlive}
			r.models[t.dir] = m
			r.order = append(r.order, t.dir)
			r.aliases[name] = t.dir
			r.aliases[t.id] = t.dir
			r.mu.Unlock()
			go r.load(m)
			return r.awaitLoad(ctx, m)
		}
		if victim := r.idleVictim(); victim != nil {
			r.cfg.Log.Info("unloading model to make room", "model", victim.ID, "for", t.id)
			r.unloadLocked(victim)
			continue
		}
		// Everything resident is busy: wait for a release or an unload.
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		r.mu.Lock()
	}
}

// ContextBudget caps the context the memory check counts, as run does: a
// model with a 128k context is not refused because one sequence could,
// in theory, grow that long.
const ContextBudget = 8192

// estimate is the memory a model needs: its weights plus one sequence of
// its context (at most ContextBudget tokens). Errors count as zero: the
// load reports them.
func estimate(b engine.Backend, dir string) int64 {
	est, err := b.Estimate(dir)
	if err != nil {
		return 0
	}
	return est.Total(min(textgen.ContextLength(dir), ContextBudget))
}

// budgetFraction is the share of physical memory loaded models may take
// by default: the rest stays for the system, the page cache and requests.
const budgetFraction = 0.8

// DefaultMemoryLimit is the default budget for loaded models, or 0 (no
// limit) where physical memory is unknown.
func DefaultMemoryLimit() int64 {
	total, err := sysmem.Total()
	if err != nil || total == 0 {
		return 0
	}
	return int64(float64(total) * budgetFraction)
}

// fits reports whether a model needing need bytes may load now.
func (r *Registry) fits(need int64) bool {
	if len(r.models) >= r.cfg.MaxLoaded {
		return false
	}
	if r.cfg.MemoryLimit <= 0 {
		return true
	}
	used := int64(0)
	for _, m := range r.models {
		used += m.Need
	}
	return used+need <= r.cfg.MemoryLimit
}

// idleVictim is the least recently used model nobody holds.
func (r *Registry) idleVictim() *Model {
	var best *Model
	for _, m := range r.models {
		if m.refs > 0 || !isClosed(m.ready) {
			continue
		}
		if best == nil || m.lastUsed.Before(best.lastUsed) {
			best = m
		}
	}
	return best
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func (r *Registry) load(m *Model) {
	start := time.Now()
	r.cfg.Log.Info("loading model", "model", m.ID)
	tm, err := textgen.Load(context.Background(), r.cfg.Backend, m.Dir,
		engine.LoadOptions{Threads: r.cfg.Threads})
	took := time.Since(start)
	var batcher *engine.Batcher
	var kind reasoning.Kind
	var tools toolcall.Format
	if err == nil {
		batcher = engine.NewBatcher(tm.Engine, r.cfg.Batch)
		src := ""
		if tm.Template != nil {
			src = tm.Template.Source()
		}
		kind = reasoning.Detect(src, func(s string) bool { _, ok := tm.Tok.TokenID(s); return ok })
		tools = toolcall.Detect(src, kind == reasoning.Harmony)
		r.cfg.Log.Info("model loaded", "model", m.ID, "seconds", fmt.Sprintf("%.2f", took.Seconds()))
	} else {
		r.cfg.Log.Error("model load failed", "model", m.ID, "error", err)
	}
	if r.cfg.OnLoad != nil {
		r.cfg.OnLoad(m.ID, took, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// Readers see these fields once ready is closed, or under r.mu.
	m.lastUsed = r.cfg.Now()
	if err != nil {
		m.err = mlxkerr.Wrap(ErrLoadFailed, err, "load %s", m.ID)
		r.forgetLocked(m)
		close(m.ready)
		return
	}
	m.Text, m.Batcher, m.Reasoning, m.Tools, m.LoadedAt = tm, batcher, kind, tools, r.cfg.Now()
	close(m.ready)
	if r.closed { // the server shut down while this model loaded
		r.unloadLocked(m)
	}
}

// awaitLoad waits for m's load; on failure or cancellation the caller's
// hold is given back.
func (r *Registry) awaitLoad(ctx context.Context, m *Model) (*Model, error) {
	select {
	case <-m.ready:
	case <-ctx.Done():
		r.Release(m, nil)
		return nil, ctx.Err()
	}
	if m.err != nil {
		r.mu.Lock()
		m.refs--
		r.mu.Unlock()
		return nil, m.err
	}
	return m, nil
}

// Release gives back a hold from Acquire. keepAlive, when not nil,
// replaces the model's keep-alive from now on (a request's keep_alive).
func (r *Registry) Release(m *Model, keepAlive *time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m.refs--
	m.lastUsed = r.cfg.Now()
	if keepAlive != nil {
		m.keepAlive = *keepAlive
	}
	if m.refs == 0 && isClosed(m.ready) && m.err == nil && r.models[m.Dir] == m {
		r.scheduleLocked(m)
	}
	r.notifyLocked()
}

// scheduleLocked starts the keep-alive clock of an idle model.
func (r *Registry) scheduleLocked(m *Model) {
	r.stopTimer(m)
	switch {
	case m.keepAlive < 0 || r.closed:
	case m.keepAlive == 0:
		r.unloadLocked(m)
	default:
		m.expires = r.cfg.Now().Add(m.keepAlive)
		m.timer = time.AfterFunc(m.keepAlive, func() { r.expire(m) })
	}
}

func (r *Registry) stopTimer(m *Model) {
	if m.timer != nil {
		m.timer.Stop()
		m.timer = nil
	}
	m.expires = time.Time{}
}

func (r *Registry) expire(m *Model) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m.refs == 0 && m.timer != nil && r.models[m.Dir] == m {
		r.cfg.Log.Info("unloading idle model", "model", m.ID, "keep_alive", m.keepAlive.String())
		r.unloadLocked(m)
	}
}

// unloadLocked takes an idle model out of the registry and frees it. The
// Batcher has no running requests (refs is 0), so closing it is quick.
func (r *Registry) unloadLocked(m *Model) {
	r.stopTimer(m)
	r.forgetLocked(m)
	if m.Batcher != nil {
		m.Batcher.Close()
	}
	if m.Text != nil {
		if err := m.Text.Close(); err != nil {
			r.cfg.Log.Warn("closing model", "model", m.ID, "error", err)
		}
	}
	r.notifyLocked()
}

// forgetLocked removes m and its aliases from the registry.
func (r *Registry) forgetLocked(m *Model) {
	if r.models[m.Dir] == m {
		delete(r.models, m.Dir)
	}
	r.order = slices.DeleteFunc(r.order, func(d string) bool { return d == m.Dir && r.models[d] == nil })
	for name, dir := range r.aliases {
		if dir == m.Dir && r.models[dir] == nil {
			delete(r.aliases, name)
		}
	}
}

func (r *Registry) notifyLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// Preload loads a model at startup (folders allowed) and keeps it loaded
// until keepAlive says otherwise (negative: forever).
func (r *Registry) Preload(ctx context.Context, name string, keepAlive time.Duration) (*Model, error) {
	m, err := r.acquire(ctx, name, true, AnyPurpose)
	if err != nil {
		return nil, err
	}
	r.Release(m, &keepAlive)
	return m, nil
}

// Unload unloads the model name refers to when it is idle (now is true),
// or as soon as its running requests end. ok is false when no loaded
// model has that name.
func (r *Registry) Unload(name string) (id string, now, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	dir, found := r.aliases[name]
	if !found {
		return "", false, false
	}
	m := r.models[dir]
	if m == nil {
		return "", false, false
	}
	m.keepAlive = 0
	if m.refs == 0 && isClosed(m.ready) {
		r.unloadLocked(m)
		return m.ID, true, true
	}
	return m.ID, false, true
}

// Loaded lists the loaded and loading models in load order.
func (r *Registry) Loaded() []Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Status, 0, len(r.order))
	for _, dir := range r.order {
		m := r.models[dir]
		if m == nil {
			continue
		}
		s := Status{ID: m.ID, Dir: m.Dir, SizeBytes: m.Info.SizeBytes, MemoryBytes: m.Need, LoadedAt: m.LoadedAt,
			ExpiresAt: m.expires, KeepAlive: m.keepAlive, Active: m.refs, Loading: !isClosed(m.ready)}
		if !s.Loading && m.Text != nil {
			s.ContextLength = m.Text.ContextLength
			s.Batch = m.Batcher.Stats()
			// The Batcher's count lags once its last request ended; no
			// more can run than requests hold the model.
			s.Batch.Active = min(s.Batch.Active, m.refs)
		}
		out = append(out, s)
	}
	return out
}

// Listed is a cached model /v1/models offers.
type Listed struct {
	ID            string
	Dir           string // the snapshot (or workspace) folder
	Info          modelinfo.Model
	Meta          *modelinfo.Metadata // config.json's summary (nil: none)
	ContextLength int
	Loaded        bool
	Created       time.Time
}

// List returns the models clients can ask for: every healthy, runnable
// text model in the cache, plus loaded workspace models; loaded ones
// first (in load order), then by name.
func (r *Registry) List() ([]Listed, error) {
	repos, err := r.cfg.Cache.Repos()
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read cache %s: %w", r.cfg.Cache.Dir, err)
	}
	all := make([]Listed, len(repos))
	ok := make([]bool, len(repos))
	modelinfo.ForEach(len(repos), func(i int) {
		res := hubcache.Resolved{Repo: repos[i]}
		res.Snapshot, res.HasSnapshot, _ = repos[i].Current()
		if !res.HasSnapshot || repos[i].Hidden() {
			return
		}
		info, in := modelinfo.Describe(res)
		if info.Health != "healthy" || !info.RuntimeCompatible {
			return
		}
		all[i] = listed(info.Name, res.Path(), info, in)
		all[i].Created = res.Snapshot.ModTime
		ok[i] = true
	})
	var out []Listed
	for i := range all {
		if ok[i] {
			out = append(out, all[i])
		}
	}
	loaded := r.Loaded()
	rank := map[string]int{}
	for i, s := range loaded {
		rank[s.ID] = i + 1
	}
	for i := range out {
		out[i].Loaded = rank[out[i].ID] > 0
	}
	for _, s := range loaded {
		if workspace.IsExplicitPath(s.ID) && !slices.ContainsFunc(out, func(l Listed) bool { return l.ID == s.ID }) {
			info, in := modelinfo.DescribeWorkspace(s.Dir)
			l := listed(s.ID, s.Dir, info, in)
			l.Loaded, l.Created = true, s.LoadedAt
			out = append(out, l)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		ri, rj := rank[out[i].ID], rank[out[j].ID]
		switch {
		case ri > 0 && rj > 0:
			return ri < rj
		case ri > 0 || rj > 0:
			return ri > 0
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// listed is the entry of a described model, its config.json read once
// (by the description) for the context length and the summary.
func listed(id, dir string, info modelinfo.Model, in modelinfo.Inspection) Listed {
	return Listed{ID: id, Dir: dir, Info: info, Meta: modelinfo.ExtractMetadata(in.Config), ContextLength: textgen.ContextLengthOf(in.Config)}
}

// Close unloads everything; Acquire fails from now on. Callers end their
// requests first (the server drains before closing the registry).
func (r *Registry) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	for _, dir := range slices.Clone(r.order) {
		if m := r.models[dir]; m != nil && isClosed(m.ready) {
			r.unloadLocked(m)
		}
	}
	r.notifyLocked()
}
